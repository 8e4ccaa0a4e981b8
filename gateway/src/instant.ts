/**
 * RFC 3339 date-times as the API accepts them (`format: date-time`), rewritten as the one UTC form the
 * services store and compare: `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`. Any offset (even -23:59, which
 * PostgreSQL cannot parse; `+05` and `+0530` too), a lower-case `t`/`z`, a space for the `T`, a leap second (read as the last
 * microsecond of its minute) and any number of fraction digits are accepted. Instants before year 1 or
 * after 9999 are clamped to those years: no request was created outside them, so a filter means the same.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt\s](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;

export const MIN_INSTANT = '0001-01-01T00:00:00Z';
export const MAX_INSTANT = '9999-12-31T23:59:59.999999Z';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The UTC form of an RFC 3339 date-time, or null when `value` is not one (a day that does not exist, hour 24…). */
export function utcInstant(value: string): string | null {
  const m = RFC3339.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const offHours = m[10] === undefined ? 0 : Number(m[10]);
  const offMinutes = m[11] === undefined ? 0 : Number(m[11]);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60 || offHours > 23 || offMinutes > 59) return null;
  const probe = new Date(0);
  probe.setUTCFullYear(year, month - 1, day);
  if (probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) return null;
  let fraction = (m[7] ?? '').slice(0, 6);
  let sec = second;
  if (second === 60) {
    // A leap second exists only as the last second of a minute; it sorts as that minute's last microsecond.
    sec = 59;
    fraction = '999999';
  }
  const sign = m[9] === '-' ? -1 : 1;
  const local = new Date(0);
  local.setUTCFullYear(year, month - 1, day);
  local.setUTCHours(hour, minute, sec, 0);
  const utcMs = local.getTime() - sign * (offHours * 60 + offMinutes) * 60_000;
  const utc = new Date(utcMs);
  const y = utc.getUTCFullYear();
  if (y < 1) return MIN_INSTANT;
  if (y > 9999) return MAX_INSTANT;
  const base = `${pad(y, 4)}-${pad(utc.getUTCMonth() + 1)}-${pad(utc.getUTCDate())}T${pad(utc.getUTCHours())}:${pad(utc.getUTCMinutes())}:${pad(utc.getUTCSeconds())}`;
  return `${base}${fraction ? `.${fraction}` : ''}Z`;
}
