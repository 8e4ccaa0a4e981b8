import { NumberKind } from '@crm/contracts/crm/telephony/v1/telephony';
import { countryArg, idListArg, instantArg, kindArg, originArg, originsArg, pageSizeArg, phoneArg, quietArg, searchArg, textArg, Violations } from './args';
import { decodeKeyset, encodeKeyset } from './keyset';
import { checkOrigin, displayOf, heartbeatSeconds } from '../dni/dni.service';

describe('number arguments', () => {
  it('normalises phones to E.164 and names the field otherwise', () => {
    const v = new Violations();
    expect(phoneArg(v, 'phone', '8 (495) 123-45-67', 'RU')).toBe('+74951234567');
    expect(phoneArg(v, 'phone', '+1 212 555 0100', 'RU')).toBe('+12125550100');
    expect(v.list).toEqual([]);
    phoneArg(v, 'phone', 'hello', 'RU');
    phoneArg(v, 'fallback_phone', '', 'RU');
    expect(v.list.map((x) => x.field)).toEqual(['phone', 'fallback_phone']);
    expect(v.list[1]!.message).toBe('is required');
  });

  it('checks kinds, countries, texts, quiet periods and id lists', () => {
    const v = new Violations();
    expect(kindArg(v, NumberKind.NUMBER_KIND_SALES)).toBe('sales');
    kindArg(v, NumberKind.NUMBER_KIND_UNSPECIFIED);
    expect(countryArg(v, '')).toBe('RU');
    expect(countryArg(v, 'kz')).toBe('KZ');
    countryArg(v, 'ZZ');
    textArg(v, 'label', 'x'.repeat(201), 200);
    textArg(v, 'utm_source', 'a\u0007b', 200);
    expect(quietArg(v, 0)).toBe(300);
    quietArg(v, 29);
    quietArg(v, 3601);
    expect(idListArg(v, 'number_ids', ['0190f0f0-0000-7000-8000-000000000001', '0190F0F0-0000-7000-8000-000000000001', 'nope'], 100)).toEqual(['0190f0f0-0000-7000-8000-000000000001']);
    expect(v.list.map((x) => x.field)).toEqual(['kind', 'default_country', 'label', 'utm_source', 'quiet_seconds', 'quiet_seconds', 'number_ids[2]']);
    expect(() => v.throwIfAny('bad')).toThrow(/kind must be/);
  });

  it('accepts origins only (scheme, host, port), lower-cased', () => {
    const v = new Violations();
    expect(originArg(v, 'o', 'https://Shop.Example')).toBe('https://shop.example');
    expect(originArg(v, 'o', 'http://localhost:3000/')).toBe('http://localhost:3000');
    for (const bad of ['https://shop.example/path', 'ftp://x.example', 'shop.example', 'https://a.example?x=1']) originArg(v, bad, bad);
    expect(v.list).toHaveLength(4);
    expect(originsArg(new Violations(), ['https://a.example', 'https://A.example'])).toEqual(['https://a.example']);
  });

  it('pages, searches and times', () => {
    expect(pageSizeArg(0)).toBe(50);
    expect(() => pageSizeArg(101)).toThrow(/page_size/);
    expect(searchArg('+7 (495) 12')).toBe('749512');
    expect(() => searchArg('abc')).toThrow(/search/);
    expect(instantArg('since', '')).toBeUndefined();
    expect(instantArg('since', '2026-01-05T09:00:00+03:00')!.toISOString()).toBe('2026-01-05T06:00:00.000Z');
    expect(() => instantArg('since', 'yesterday')).toThrow(/since/);
    const token = encodeKeyset('numbers', { key: '2026-01-05T09:00:00.123456Z', id: '0190f0f0-0000-7000-8000-000000000001' });
    expect(decodeKeyset('numbers', token)).toEqual({ key: '2026-01-05T09:00:00.123456Z', id: '0190f0f0-0000-7000-8000-000000000001' });
    expect(() => decodeKeyset('pools', token)).toThrow(/page_token/);
    expect(() => decodeKeyset('numbers', 'garbage!')).toThrow(/page_token/);
  });
});

describe('DNI helpers', () => {
  it('heartbeats a third of the quiet period, at least every 10 s', () => {
    expect(heartbeatSeconds(30)).toBe(10);
    expect(heartbeatSeconds(60)).toBe(20);
    expect(heartbeatSeconds(300)).toBe(100);
  });

  it('shows a national display form', () => {
    expect(displayOf('+74951234567')).toBe('8 (495) 123-45-67');
  });

  it('lets any origin in when the pool names none, else only those', () => {
    expect(() => checkOrigin({ allowed_origins: [] }, '')).not.toThrow();
    expect(() => checkOrigin({ allowed_origins: ['https://shop.example'] }, 'https://shop.example')).not.toThrow();
    expect(() => checkOrigin({ allowed_origins: ['https://shop.example'] }, 'https://evil.example')).toThrow(/allowed origins/);
    expect(() => checkOrigin({ allowed_origins: ['https://shop.example'] }, '')).toThrow(/allowed origins/);
  });
});
