/**
 * Times in the tenant's time zone. The API speaks UTC ISO-8601; the UI shows every timestamp as a
 * wall-clock time of the tenant's IANA zone (`GET /v1/me` → `time_zone`), whatever the browser's own
 * zone is, with date-fns and @date-fns/tz (DST rules from the browser's Intl). Pure functions, no
 * React, so they are unit-tested under Node as well.
 */
import { tz, TZDate, tzName } from '@date-fns/tz';
import { format } from 'date-fns';
import { enGB, ru } from 'date-fns/locale';

export type DateTimeStyle = 'short' | 'medium';
export type TimeLocale = 'ru' | 'en';

/** `short`: numeric date and time, for tables; `medium`: the month in words. */
const PATTERNS: Record<DateTimeStyle, string> = { short: 'P HH:mm', medium: 'PP, HH:mm' };
const LOCALES = { ru, en: enGB } as const;

/** True when this browser knows `zone` (an IANA name such as `Europe/Moscow`). */
export function isKnownTimeZone(zone: string): boolean {
  if (!zone) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * An ISO-8601 instant as a date and time in `zone`. A zone the browser does not know falls back to
 * the browser's own zone (never an error on screen); text that is not a time is shown as it is.
 */
export function formatInZone(iso: string, zone: string, locale: TimeLocale, style: DateTimeStyle = 'medium'): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const opts = { locale: LOCALES[locale] };
  return isKnownTimeZone(zone) ? format(ms, PATTERNS[style], { ...opts, in: tz(zone) }) : format(ms, PATTERNS[style], opts);
}

/** The zone as a person reads it: `Europe/Moscow (GMT+3)`, the offset being the one in force at `at`. */
export function zoneLabel(zone: string, at: Date = new Date()): string {
  if (!isKnownTimeZone(zone)) return zone;
  const offset = tzName(zone, at, 'short');
  return offset && offset !== zone ? `${zone} (${offset})` : zone;
}

/** Midnight starting the local day `date` (YYYY-MM-DD, plus `days`) in `zone`, as an instant. */
export function zonedMidnight(date: string, zone: string, days = 0): Date {
  const [y, m, d] = date.split('-').map(Number);
  return isKnownTimeZone(zone) ? new Date(new TZDate(y, m - 1, d + days, zone).getTime()) : new Date(y, m - 1, d + days);
}

/** Today's date (YYYY-MM-DD) in `zone`, or `days` from it. */
export function dayInZone(zone: string, days = 0, now: Date = new Date()): string {
  const opts = isKnownTimeZone(zone) ? { in: tz(zone) } : {};
  const today = format(now, 'yyyy-MM-dd', opts);
  if (!days) return today;
  const [y, m, d] = today.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}
