import { parse } from 'csv-parse/sync';
import { MAX_RECORD_BYTES, parserOptions, RecordScanner } from './csv';

function scan(text: string | Buffer, pieces = 1): RecordScanner & { reason: string | null } {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const s = new RecordScanner(';');
  const step = Math.max(1, Math.ceil(bytes.length / pieces));
  for (let o = 0; o < bytes.length; o += step) s.feed(bytes.subarray(o, o + step));
  return Object.assign(s, { reason: s.end() });
}

describe('RecordScanner', () => {
  const text = 'a;b;c\r\n"x\r\ny";"say ""hi""";\r\n\r\n\nlast;"q;q"';
  it('counts records and columns as the parser splits them, in any chunking', () => {
    const parsed = parse(text, { ...parserOptions(';'), info: false }) as string[][];
    expect(parsed).toHaveLength(3);
    for (const pieces of [1, 3, text.length]) {
      const s = scan(text, pieces);
      expect({ records: s.records, columns: s.columns, reason: s.reason }).toEqual({ records: 3, columns: 3, reason: null });
    }
  });
  it('names the row of a record over 1 MiB and an unclosed quote', () => {
    const big = Buffer.concat([Buffer.from('h;h\nok;ok\nx;"'), Buffer.alloc(MAX_RECORD_BYTES + 10, 'z'), Buffer.from('"\n')]);
    expect(scan(big, 7).reason).toMatch(/^row 3 is over 1048576 bytes/);
    expect(scan('a;b\n"open;b\n').reason).toBe('row 2: a quoted cell is never closed');
  });
});
