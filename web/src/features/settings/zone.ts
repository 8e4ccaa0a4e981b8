/** Wall-clock times of the tenant's zone ↔ instants, for the settings forms (`datetime-local` inputs). */
import { tz, TZDate } from '@date-fns/tz';
import { format } from 'date-fns';
import { isKnownTimeZone } from '../../time';

/** `YYYY-MM-DDTHH:mm` read in `zone` as an ISO instant ('' when it is not such a value). */
export function wallToIso(wall: string, zone: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(wall);
  if (!m) return '';
  const [y, mo, d, h, mi] = m.slice(1).map(Number);
  const date = isKnownTimeZone(zone) ? new TZDate(y, mo - 1, d, h, mi, zone) : new Date(y, mo - 1, d, h, mi);
  return new Date(date.getTime()).toISOString();
}

/** An instant as `YYYY-MM-DDTHH:mm` in `zone`. */
export function isoToWall(iso: string, zone: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  return format(ms, "yyyy-MM-dd'T'HH:mm", isKnownTimeZone(zone) ? { in: tz(zone) } : {});
}

/** `HH:mm` of an instant in `zone`. */
export function timeInZone(iso: string, zone: string): string {
  return isoToWall(iso, zone).slice(11);
}

/** `YYYY-MM-DD` of an instant in `zone`. */
export function dayOf(iso: string, zone: string): string {
  return isoToWall(iso, zone).slice(0, 10);
}
