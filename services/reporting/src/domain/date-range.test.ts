import { ValidationError } from '@crm/errors';
import { daysInclusive, MAX_RANGE_DAYS, parseDateRange } from './date-range';

function violations(from: string, to: string) {
  try {
    parseDateRange(from, to);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('INVALID_ARGUMENT');
    return (err as ValidationError).violations;
  }
  throw new Error('expected a ValidationError');
}

describe('parseDateRange', () => {
  it('accepts a single day and ranges up to 366 days inclusive', () => {
    expect(parseDateRange('2026-03-01', '2026-03-01')).toEqual({ from: '2026-03-01', to: '2026-03-01' });
    expect(parseDateRange('2024-01-01', '2024-12-31')).toEqual({ from: '2024-01-01', to: '2024-12-31' }); // 366 days (leap year)
    expect(daysInclusive('2024-01-01', '2024-12-31')).toBe(MAX_RANGE_DAYS);
  });

  it('rejects 367 days', () => {
    expect(daysInclusive('2025-01-01', '2026-01-02')).toBe(367);
    expect(violations('2025-01-01', '2026-01-02')).toEqual([{ field: 'date_to', message: 'the range may span at most 366 days' }]);
  });

  it('rejects from after to', () => {
    expect(violations('2026-03-02', '2026-03-01')).toEqual([{ field: 'date_to', message: 'must not be before date_from' }]);
  });

  it('names every malformed or missing field', () => {
    expect(violations('', '')).toEqual([
      { field: 'date_from', message: 'required, YYYY-MM-DD' },
      { field: 'date_to', message: 'required, YYYY-MM-DD' },
    ]);
    expect(violations('2026-02-30', "2026-03-01' OR 1=1 --").map((v) => v.field)).toEqual(['date_from', 'date_to']);
    expect(violations('2026-01-01T00:00:00Z', '2026-01-02').map((v) => v.field)).toEqual(['date_from']);
    expect(violations('1969-12-31', '1970-01-01').map((v) => v.field)).toEqual(['date_from']);
  });

  it('counts days across a DST-free UTC calendar', () => {
    expect(daysInclusive('2026-03-28', '2026-03-30')).toBe(3);
    expect(daysInclusive('2026-10-24', '2026-10-26')).toBe(3);
  });
});
