import { cellDecoder, detectEncoding, EncodingDetector } from './encoding';

const cp1251 = (s: string) => {
  // Encode via the decoder's table (Node has no windows-1251 encoder).
  const table = new TextDecoder('windows-1251').decode(Uint8Array.from({ length: 256 }, (_, i) => i));
  return Buffer.from([...s].map((ch) => table.indexOf(ch)));
};

describe('detectEncoding', () => {
  it('reads ASCII and valid UTF-8 as utf-8, reporting a BOM', () => {
    expect(detectEncoding(Buffer.from('name,phone\nIvan,+7999\n'))).toEqual({ ok: true, encoding: 'utf-8', bom: 0 });
    expect(detectEncoding(Buffer.from('\ufeffИмя;Телефон\nИван;8999\n'))).toEqual({ ok: true, encoding: 'utf-8', bom: 3 });
  });

  it('reads Russian text in Windows-1251 as windows-1251', () => {
    const v = detectEncoding(cp1251('Имя;Телефон;Компания\r\nИванов Иван;8 (999) 123-45-67;ООО «Ромашка» №1\r\nЁлкина Яна;+7 912 000 00 00;\r\n'));
    expect(v).toEqual({ ok: true, encoding: 'windows-1251', bom: 0 });
  });

  it('refuses UTF-16, binary data and Latin-1 text', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('name,phone\n', 'utf16le')]);
    const r16 = detectEncoding(utf16);
    expect(r16.ok).toBe(false);
    expect(!r16.ok && r16.reason).toMatch(/neither UTF-8 nor Windows-1251.*UTF-16/);
    expect(detectEncoding(Buffer.from('name,phone\n', 'utf16le')).ok).toBe(false);
    const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
    expect(detectEncoding(binary).ok).toBe(false);
    // "Müller;Straße" in Latin-1: isolated high bytes, not Cyrillic words.
    expect(detectEncoding(Buffer.from('Name;City\nM\xfcller;Stra\xdfe\nG\xf6tz;K\xf6ln\n', 'latin1')).ok).toBe(false);
    // 0x98 is undefined in Windows-1251.
    expect(detectEncoding(Buffer.concat([cp1251('Иван'), Buffer.from([0x98])])).ok).toBe(false);
  });

  it('gives the same verdict fed in pieces (a multi-byte character split between chunks)', () => {
    const bytes = Buffer.from('Имя,Телефон\nЖанна,8999\n');
    const d = new EncodingDetector();
    for (let i = 0; i < bytes.length; i += 3) d.feed(bytes.subarray(i, i + 3));
    expect(d.verdict()).toEqual({ ok: true, encoding: 'utf-8', bom: 0 });
    const w = cp1251('Имя;Телефон\nЖанна;8999\n');
    const d2 = new EncodingDetector();
    for (let i = 0; i < w.length; i++) d2.feed(w.subarray(i, i + 1));
    expect(d2.verdict()).toEqual({ ok: true, encoding: 'windows-1251', bom: 0 });
  });
});

describe('cellDecoder', () => {
  it('decodes latin1-read cells of either encoding', () => {
    expect(cellDecoder('utf-8')(Buffer.from('Ёжик ok').toString('latin1'))).toBe('Ёжик ok');
    expect(cellDecoder('windows-1251')(cp1251('Ёжик №5').toString('latin1'))).toBe('Ёжик №5');
    expect(cellDecoder('windows-1251')('plain')).toBe('plain');
  });
});
