/**
 * Which text encoding an uploaded CSV is in: UTF-8 or Windows-1251 (what Excel saves in Russia), nothing
 * else. Pure (no I/O), fed chunk by chunk so a large file is never held whole; unit-tested beside this file.
 *
 * The rule:
 *  1. Any C0 control byte other than TAB, LF and CR (0x00–0x08, 0x0B, 0x0C, 0x0E–0x1F) or DEL (0x7F) ⇒
 *     neither: text files have none, UTF-16 (every ASCII letter beside a 0x00) and binary files have many.
 *     A UTF-16 byte order mark (FF FE / FE FF) is named as such in the message.
 *  2. Valid UTF-8 (an optional BOM EF BB BF, stripped) ⇒ `utf-8`. Pure ASCII is UTF-8.
 *  3. Else `windows-1251` when the high bytes (≥ 0x80) read as Russian text: none is 0x98 (undefined in
 *     CP1251); at least 70 % of them decode to Cyrillic letters (U+0400–U+04FF; the rest may be
 *     punctuation such as « » № – — or a no-break space); and at least 80 % of those letters stand beside
 *     another Cyrillic letter (Cyrillic words are runs of high bytes; a Latin-1 or CP1252 text such as
 *     "Müller" has isolated ones, as does most random data).
 *  4. Else neither.
 */
export type TextEncodingName = 'utf-8' | 'windows-1251';

export type EncodingVerdict = { ok: true; encoding: TextEncodingName; bom: number } | { ok: false; reason: string };

export const NEITHER = 'the file is neither UTF-8 nor Windows-1251 text';

/** CP1251 bytes 0x80–0xFF as Unicode (0x98 is undefined: U+FFFD). */
export const CP1251_HIGH: string = (() => {
  const bytes = Uint8Array.from({ length: 128 }, (_, i) => 0x80 + i);
  return new TextDecoder('windows-1251').decode(bytes);
})();

function isCyrillicHigh(byte: number): boolean {
  const c = CP1251_HIGH.charCodeAt(byte - 0x80);
  return c >= 0x0400 && c <= 0x04ff;
}
const CYRILLIC = Uint8Array.from({ length: 256 }, (_, b) => (b >= 0x80 && isCyrillicHigh(b) ? 1 : 0));
/** 1 for the bytes no CSV text contains. */
const FORBIDDEN = Uint8Array.from({ length: 256 }, (_, b) => ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f ? 1 : 0));

/** Streams the file's bytes through the rule; `verdict()` once every chunk was fed. */
export class EncodingDetector {
  private offset = 0;
  private head = Buffer.alloc(0);
  private forbiddenAt = -1;
  private utf8 = new TextDecoder('utf-8', { fatal: true });
  private utf8Ok = true;
  private high = 0;
  private undefined98 = false;
  private letters = 0;
  private joined = 0;
  /** Whether the previous byte was a Cyrillic letter, and whether it was already counted as joined. */
  private prevLetter = false;
  private prevCounted = false;

  feed(chunk: Uint8Array): void {
    if (this.head.length < 4) this.head = Buffer.concat([this.head, Buffer.from(chunk.subarray(0, 4 - this.head.length))]);
    if (this.forbiddenAt >= 0) return;
    let prevLetter = this.prevLetter;
    let prevCounted = this.prevCounted;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b < 0x80) {
        if (FORBIDDEN[b]) {
          this.forbiddenAt = this.offset + i;
          return;
        }
        prevLetter = false;
        continue;
      }
      this.high++;
      if (b === 0x98) this.undefined98 = true;
      if (CYRILLIC[b]) {
        this.letters++;
        if (prevLetter) {
          // This letter and the previous one both have a neighbour.
          this.joined += prevCounted ? 1 : 2;
          prevCounted = true;
        } else {
          prevCounted = false;
        }
        prevLetter = true;
      } else {
        prevLetter = false;
      }
    }
    this.prevLetter = prevLetter;
    this.prevCounted = prevCounted;
    this.offset += chunk.length;
    if (this.utf8Ok) {
      try {
        this.utf8.decode(chunk, { stream: true });
      } catch {
        this.utf8Ok = false;
      }
    }
  }

  verdict(): EncodingVerdict {
    const h = this.head;
    if ((h[0] === 0xff && h[1] === 0xfe) || (h[0] === 0xfe && h[1] === 0xff)) {
      return { ok: false, reason: `${NEITHER}: it is UTF-16 (save it as CSV UTF-8 or CSV Windows-1251)` };
    }
    if (this.forbiddenAt >= 0) {
      return { ok: false, reason: `${NEITHER}: control byte at offset ${this.forbiddenAt} (a binary or UTF-16 file?)` };
    }
    if (this.utf8Ok) {
      try {
        this.utf8.decode();
        const bom = h[0] === 0xef && h[1] === 0xbb && h[2] === 0xbf ? 3 : 0;
        return { ok: true, encoding: 'utf-8', bom };
      } catch {
        this.utf8Ok = false;
      }
    }
    if (!this.undefined98 && this.letters >= 0.7 * this.high && this.joined >= 0.8 * this.letters) {
      return { ok: true, encoding: 'windows-1251', bom: 0 };
    }
    return { ok: false, reason: `${NEITHER}: not valid UTF-8, and its non-ASCII bytes do not read as Russian text in Windows-1251` };
  }
}

export function detectEncoding(data: Uint8Array): EncodingVerdict {
  const d = new EncodingDetector();
  d.feed(data);
  return d.verdict();
}

/**
 * Turns a cell parsed from the raw bytes as latin1 (one character per byte, which keeps the parser's
 * byte offsets exact in both encodings) into its text.
 */
export function cellDecoder(encoding: TextEncodingName): (latin1: string) => string {
  const HIGH = /[\x80-\xff]/;
  if (encoding === 'utf-8') {
    return (s) => (HIGH.test(s) ? Buffer.from(s, 'latin1').toString('utf8') : s);
  }
  return (s) => {
    if (!HIGH.test(s)) return s;
    let out = '';
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      out += c < 0x80 ? s[i] : CP1251_HIGH[c - 0x80];
    }
    return out;
  };
}
