import { ValidationError } from '@crm/errors';
import { MAX_DATE, MIN_DATE } from '../clickhouse/sql';
import { parseTimeZone, shiftDay } from './time-zone';

function rejected(value: string): ValidationError {
  try {
    parseTimeZone(value);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error(`expected ${JSON.stringify(value)} to be rejected`);
}

describe('parseTimeZone', () => {
  it('treats absent and empty as UTC', () => {
    expect(parseTimeZone(undefined)).toBe('UTC');
    expect(parseTimeZone('')).toBe('UTC');
  });

  it('accepts IANA names, UTC and Etc/* and returns the canonical spelling', () => {
    expect(parseTimeZone('Europe/Moscow')).toBe('Europe/Moscow');
    expect(parseTimeZone('europe/berlin')).toBe('Europe/Berlin');
    expect(parseTimeZone('UTC')).toBe('UTC');
    expect(parseTimeZone('Etc/UTC')).toBe('UTC');
    expect(parseTimeZone('Etc/GMT-3')).toBe('Etc/GMT-3');
    expect(parseTimeZone('America/Argentina/Salta')).toBe('America/Argentina/Salta');
  });

  it.each(['Mars/Olympus', '+03:00', 'UTC+3', 'Europe/Moscow ', ' Europe/Moscow', "Europe/Moscow') --", '../../etc/passwd', 'Europe//Moscow', `Europe/${'x'.repeat(80)}`])(
    'rejects %j on field time_zone',
    (value) => {
      const err = rejected(value);
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.violations).toEqual([{ field: 'time_zone', message: 'must be an IANA time zone name such as Europe/Moscow or UTC' }]);
    },
  );
});

describe('shiftDay', () => {
  it('moves across month, year and leap-day boundaries', () => {
    expect(shiftDay('2026-03-01', -1)).toBe('2026-02-28');
    expect(shiftDay('2024-02-28', 1)).toBe('2024-02-29');
    expect(shiftDay('2026-12-31', 1)).toBe('2027-01-01');
  });

  it('stays within the dates ClickHouse can hold', () => {
    expect(shiftDay(MIN_DATE, -1)).toBe(MIN_DATE);
    expect(shiftDay(MAX_DATE, 1)).toBe(MAX_DATE);
  });
});
