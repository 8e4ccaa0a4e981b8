import { ValidationError, type FieldViolation } from '@crm/errors';
import { isIsoDate, MAX_DATE, MIN_DATE } from '../clickhouse/sql';

/** Longest report range in days, both ends included (a leap year). */
export const MAX_RANGE_DAYS = 366;

export interface DateRange {
  /** YYYY-MM-DD, inclusive. */
  from: string;
  /** YYYY-MM-DD, inclusive. */
  to: string;
}

const DAY_MS = 86_400_000;

/** Days from `from` to `to`, both included. Inputs must be valid ISO dates. */
export function daysInclusive(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;
}

/**
 * Validates a report's date range: both days real calendar days written YYYY-MM-DD (local days of the
 * report's time zone), from ≤ to,
 * at most MAX_RANGE_DAYS days. Throws a ValidationError naming every problem (INVALID_ARGUMENT).
 */
export function parseDateRange(dateFrom: string, dateTo: string): DateRange {
  const violations: FieldViolation[] = [];
  const check = (field: string, value: string) => {
    if (!value) violations.push({ field, message: 'required, YYYY-MM-DD' });
    else if (!isIsoDate(value)) violations.push({ field, message: `must be a calendar day YYYY-MM-DD between ${MIN_DATE} and ${MAX_DATE}` });
  };
  check('date_from', dateFrom);
  check('date_to', dateTo);
  if (!violations.length) {
    if (dateFrom > dateTo) violations.push({ field: 'date_to', message: 'must not be before date_from' });
    else if (daysInclusive(dateFrom, dateTo) > MAX_RANGE_DAYS) violations.push({ field: 'date_to', message: `the range may span at most ${MAX_RANGE_DAYS} days` });
  }
  if (violations.length) throw new ValidationError('invalid date range', violations);
  return { from: dateFrom, to: dateTo };
}
