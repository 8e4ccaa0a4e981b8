/**
 * IANA time zone names at the edge. Identity and reporting validate the same way (ICU through Intl)
 * and have the last word; the gateway checks first so that a bad name is a 400 even when the service
 * behind the route is not asked.
 */

/** Area/Location names (`Europe/Moscow`, `America/Argentina/Salta`, `Etc/GMT-3`) and single names (`UTC`). */
export const TIME_ZONE_PATTERN = '^[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+){0,2}$';
const TIME_ZONE_RE = new RegExp(TIME_ZONE_PATTERN);
export const TIME_ZONE_MAX = 64;

/** The JSON schema of a time zone field. */
export const timeZoneSchema = {
  type: 'string',
  // A format of the API's own, checked with isTimeZone by the gateway's Ajv (app.ts), which also holds the
  // length and the pattern: a pattern or length bound in the schema admits names no zone has (fuzzers try them).
  format: 'time-zone',
  description: 'An IANA time zone name, e.g. `Europe/Moscow`, `UTC`, `Etc/GMT-3`',
  examples: ['Europe/Moscow'],
} as const;

/** True when the runtime's ICU knows `value` as a time zone name (any case; aliases included). */
export function isTimeZone(value: string): boolean {
  if (value.length > TIME_ZONE_MAX || !TIME_ZONE_RE.test(value)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}
