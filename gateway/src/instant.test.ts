import { MAX_INSTANT, MIN_INSTANT, utcInstant } from './instant';

describe('utcInstant', () => {
  it('rewrites any RFC 3339 offset as UTC, keeping microseconds', () => {
    expect(utcInstant('0402-04-08T12:44:59-18:11')).toBe('0402-04-09T06:55:59Z');
    expect(utcInstant('2026-12-01T03:00:00+03:00')).toBe('2026-12-01T00:00:00Z');
    expect(utcInstant('2026-12-01 03:00:00.1234567z')).toBe('2026-12-01T03:00:00.123456Z');
    expect(utcInstant('2026-12-01T05:30:00+0530')).toBe('2026-12-01T00:00:00Z');
    expect(utcInstant('2026-12-01T05:00:00+05')).toBe('2026-12-01T00:00:00Z');
  });

  it('reads a leap second as the last microsecond of its minute', () => {
    expect(utcInstant('1998-12-31T23:59:60Z')).toBe('1998-12-31T23:59:59.999999Z');
  });

  it('clamps instants outside the years 1..9999', () => {
    expect(utcInstant('0001-01-01T00:00:00+23:59')).toBe(MIN_INSTANT);
    expect(utcInstant('9999-12-31T23:59:59-23:59')).toBe(MAX_INSTANT);
  });

  it('refuses what is not a date-time', () => {
    for (const bad of ['2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T00:00:00+24:00', '2026-01-01', 'yesterday', '2026-01-01T00:00:00']) {
      expect({ bad, utc: utcInstant(bad) }).toEqual({ bad, utc: null });
    }
  });
});
