import { ValidationError } from '@crm/errors';
import { isIsoDate, MAX_DATE, MIN_DATE } from '../clickhouse/sql';

/** The zone of a report that names none. */
export const DEFAULT_TIME_ZONE = 'UTC';

const TIME_ZONE_MAX = 64;
/** Area/Location names (`Europe/Moscow`, `America/Argentina/Salta`, `Etc/GMT-3`) and single names (`UTC`). */
const TIME_ZONE_RE = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+){0,2}$/;

const invalid = () =>
  new ValidationError('invalid time_zone', [{ field: 'time_zone', message: 'must be an IANA time zone name such as Europe/Moscow or UTC' }]);

/**
 * The canonical spelling of an IANA time zone name as ICU knows it (`europe/moscow` → `Europe/Moscow`,
 * `Etc/UTC` → `UTC`); empty or absent means UTC. Anything else — offsets such as `+03:00`, unknown
 * names, text that is not a zone name — is INVALID_ARGUMENT on field `time_zone`. Only a name that
 * passed here reaches SQL (through `str()`), and it is the canonical one, which the zone database
 * ClickHouse reads (case-sensitive file names) knows.
 */
export function parseTimeZone(value: string | undefined): string {
  if (value === undefined || value === '') return DEFAULT_TIME_ZONE;
  if (value.length > TIME_ZONE_MAX || !TIME_ZONE_RE.test(value)) throw invalid();
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    throw invalid(); // RangeError: not a zone ICU knows
  }
}

/** `day` (YYYY-MM-DD) moved by `days`, kept within MIN_DATE..MAX_DATE. */
export function shiftDay(day: string, days: number): string {
  if (!isIsoDate(day)) throw new RangeError(`shiftDay: "${String(day).slice(0, 40)}" is not a calendar day`);
  const shifted = new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
  return shifted < MIN_DATE ? MIN_DATE : shifted > MAX_DATE ? MAX_DATE : shifted;
}
