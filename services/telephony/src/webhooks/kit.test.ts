import { e164, isRfc3339, refuse, safeEqual } from './kit';

describe('webhook kit', () => {
  it('spells providers\' numbers as E.164 and leaves extensions and SIP addresses alone', () => {
    expect(e164('74951234567')).toBe('+74951234567');
    expect(e164('84951234567')).toBe('+74951234567');
    expect(e164('+7 (495) 123-45-67')).toBe('+74951234567');
    expect(e164('0049301234567')).toBe('+49301234567');
    expect(e164('101')).toBe('101');
    expect(e164('sip:101@pbx')).toBe('sip:101@pbx');
    expect(e164('')).toBeUndefined();
    expect(e164(undefined)).toBeUndefined();
  });

  it('refusals are problem+json with the outcome as code and never 5xx', () => {
    const r = refuse('bad_signature', 'nope');
    expect(r.answer.status).toBe(401);
    expect(r.answer.contentType).toBe('application/problem+json');
    expect(JSON.parse(String(r.answer.body))).toMatchObject({ status: 401, code: 'bad_signature', detail: 'nope' });
    for (const o of ['stale_timestamp', 'replayed', 'wrong_provider', 'malformed', 'unknown_connection', 'disabled', 'foreign_number'] as const) expect(refuse(o, '').answer.status).toBeLessThan(500);
  });

  it('compares in constant time and parses RFC 3339', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(isRfc3339('2026-12-01T10:00:00Z')).toBe(true);
    expect(isRfc3339('2026-12-01 10:00')).toBe(false);
  });
});
