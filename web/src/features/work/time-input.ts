/**
 * `<input type="datetime-local">` speaks wall-clock time without a zone; the UI means the tenant's
 * zone (as every time on screen). Pure functions (unit-testable under Node).
 */
import { tz, TZDate } from '@date-fns/tz';
import { format } from 'date-fns';
import { isKnownTimeZone } from '../../time';

const LOCAL_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/;

/** `2026-12-01T15:00` in `zone` → the ISO instant ('' when the value is not a date and time). */
export function localInputToIso(value: string, zone: string): string {
  const m = LOCAL_RE.exec(value);
  if (!m) return '';
  const [y, mo, d, h, mi] = m.slice(1).map(Number);
  const date = isKnownTimeZone(zone) ? new TZDate(y, mo - 1, d, h, mi, zone) : new Date(y, mo - 1, d, h, mi);
  return Number.isNaN(date.getTime()) ? '' : new Date(date.getTime()).toISOString();
}

/** An ISO instant → the `datetime-local` value of its wall-clock time in `zone`. */
export function isoToLocalInput(iso: string, zone: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  return isKnownTimeZone(zone) ? format(ms, "yyyy-MM-dd'T'HH:mm", { in: tz(zone) }) : format(ms, "yyyy-MM-dd'T'HH:mm");
}
