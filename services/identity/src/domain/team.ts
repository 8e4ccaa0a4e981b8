import { DepartmentKind, type WorkSchedule } from '@crm/contracts/crm/identity/v1/team';
import { isUuid } from '@crm/db';
import { instantOf, isOpen, localDay, validateSchedule, type Schedule } from '@crm/schedule';
import { canonicalTimeZone, type Violations } from './validation';

/** Pure rules of team settings: instants, schedules, kinds, codes, away and on-shift. */

export const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;
export const SLA_DEFAULT = 15;
export const SLA_MAX = 10_080;
export const SHIFT_MAX_MS = 24 * 60 * 60 * 1000;
export const SHIFT_LIST_MAX_MS = 62 * 24 * 60 * 60 * 1000;
export const ID_LIST_MAX = 50;
export const QUERY_MAX = 200;
/** Instants the team accepts (shifts, away until, roster time): years 2000..2199. */
const INSTANT_MIN = Date.UTC(2000, 0, 1);
const INSTANT_MAX = Date.UTC(2200, 0, 1);

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/** An RFC 3339 timestamp with a zone (`2026-12-01T09:00:00Z`, `…+03:00`), or null. */
export function parseInstant(value: string): Date | null {
  const m = RFC3339_RE.exec(value);
  if (!m) return null;
  const [mo, d, h, mi, s] = [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  if (m[7] !== undefined && (Number(m[7]) > 23 || Number(m[8]) > 59)) return null;
  // Date.parse rolls 2026-02-31 over to March: compare the calendar day back.
  const probe = new Date(Date.UTC(Number(m[1]), mo - 1, d));
  if (probe.getUTCMonth() !== mo - 1) return null;
  const t = Date.parse(value.toUpperCase());
  if (Number.isNaN(t) || t < INSTANT_MIN || t >= INSTANT_MAX) return null;
  return new Date(t);
}

/** A required instant; a violation naming `field` when missing or malformed. */
export function checkInstant(v: Violations, field: string, value: string): Date | null {
  if (value === '') {
    v.add(field, 'must not be empty');
    return null;
  }
  const at = parseInstant(value);
  if (!at) v.add(field, 'must be an RFC 3339 timestamp with a zone, e.g. 2026-12-01T09:00:00Z');
  return at;
}

const KIND_NAMES: Record<number, StoredKind | undefined> = {
  [DepartmentKind.DEPARTMENT_KIND_SALES]: 'sales',
  [DepartmentKind.DEPARTMENT_KIND_SUPPORT]: 'support',
  [DepartmentKind.DEPARTMENT_KIND_SERVICE]: 'service',
  [DepartmentKind.DEPARTMENT_KIND_OTHER]: 'other',
};
export type StoredKind = 'sales' | 'support' | 'service' | 'other';

/** The stored kind of a wire kind; UNSPECIFIED → `fallback` (undefined: unchanged); unknown numbers → a violation. */
export function checkKind(v: Violations, field: string, kind: DepartmentKind, fallback?: StoredKind): StoredKind | undefined {
  if (kind === DepartmentKind.DEPARTMENT_KIND_UNSPECIFIED) return fallback;
  const name = KIND_NAMES[kind];
  if (!name) v.add(field, `unknown department kind ${kind}`);
  return name;
}

export function kindToWire(name: string): DepartmentKind {
  const found = Object.entries(KIND_NAMES).find(([, n]) => n === name);
  return found ? (Number(found[0]) as DepartmentKind) : DepartmentKind.DEPARTMENT_KIND_UNSPECIFIED;
}

export function checkSla(v: Violations, field: string, minutes: number): number {
  if (!Number.isInteger(minutes) || minutes < 0 || minutes > SLA_MAX) v.add(field, `must be a whole number of minutes 0..${SLA_MAX}`);
  return minutes;
}

/** The stored form of a schedule (jsonb): the wire shape, time zone canonical or empty (= the tenant's). */
export interface StoredSchedule {
  timeZone: string;
  hours: { weekday: number; from: string; to: string }[];
  holidays: string[];
}

export const EMPTY_SCHEDULE: StoredSchedule = { timeZone: '', hours: [], holidays: [] };

/**
 * Validates a schedule with @crm/schedule, each violation named under `field` (`schedule.hours[2].to`,
 * `schedule.time_zone`). An empty zone means the tenant's (`tenantTimeZone` is used to check the rest).
 */
export function checkSchedule(v: Violations, field: string, s: WorkSchedule | undefined, tenantTimeZone: string): StoredSchedule {
  if (!s) return EMPTY_SCHEDULE;
  let timeZone = '';
  if (s.timeZone !== '') {
    const canonical = canonicalTimeZone(s.timeZone);
    if (canonical === null) v.add(`${field}.time_zone`, `unknown time zone "${s.timeZone.slice(0, 64)}"`);
    timeZone = canonical ?? s.timeZone;
  }
  const stored: StoredSchedule = {
    timeZone,
    hours: s.hours.map((h) => ({ weekday: h.weekday, from: h.from, to: h.to })),
    holidays: [...s.holidays],
  };
  for (const p of validateSchedule({ ...stored, timeZone: timeZone || tenantTimeZone || 'UTC' })) {
    if (p.field === 'time_zone' && s.timeZone !== '') continue; // reported above
    v.add(`${field}.${p.field}`, p.message);
  }
  return stored;
}

/** A stored schedule as @crm/schedule computes with it (empty zone: the tenant's). */
export function effectiveSchedule(s: StoredSchedule | null | undefined, tenantTimeZone: string): Schedule {
  return { timeZone: s?.timeZone || tenantTimeZone || 'UTC', hours: s?.hours ?? [], holidays: s?.holidays ?? [] };
}

export const PROJECT_CODE_RE = /^[a-z0-9-]{1,32}$/;

export function checkProjectCode(v: Violations, field: string, code: string): string {
  if (!PROJECT_CODE_RE.test(code)) v.add(field, 'must match ^[a-z0-9-]{1,32}$');
  return code;
}

/** A list of uuids (duplicates collapse, order kept), each named `field[i]` when malformed. */
export function checkIdList(v: Violations, field: string, ids: readonly string[]): string[] {
  if (ids.length > ID_LIST_MAX) {
    v.add(field, `at most ${ID_LIST_MAX} ids`);
    return [];
  }
  const out: string[] = [];
  ids.forEach((id, i) => {
    if (!isUuid(id)) v.add(`${field}[${i}]`, 'must be a department id');
    else if (!out.includes(id.toLowerCase())) out.push(id.toLowerCase());
  });
  return out;
}

/** Away counts only until `away_until` (computed at read: no job clears it). */
export function isAwayAt(away: boolean, awayUntil: Date | null, at: Date): boolean {
  return away && (awayUntil === null || awayUntil.getTime() > at.getTime());
}

export interface Interval {
  startsAt: Date;
  endsAt: Date;
}

/**
 * On duty at `at`: inside one of the shifts; when no shift overlaps the local day of `at` (in the
 * primary department's zone), while the primary department's schedule is open. No department: on duty.
 */
export function isOnShift(shifts: readonly Interval[], primary: Schedule | null, tenantTimeZone: string, at: Date): boolean {
  const t = at.getTime();
  if (shifts.some((s) => s.startsAt.getTime() <= t && t < s.endsAt.getTime())) return true;
  const zone = primary?.timeZone || tenantTimeZone || 'UTC';
  const day = localDay(zone, at);
  const dayStart = instantOf(zone, day, 0).getTime();
  const dayEnd = instantOf(zone, day, 1440).getTime();
  if (shifts.some((s) => s.startsAt.getTime() < dayEnd && s.endsAt.getTime() > dayStart)) return false;
  return primary ? isOpen(primary, at) : true;
}

/** Escapes LIKE wildcards so a search term matches literally. */
export function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Opaque keyset cursors: `<tag>:<payload>` base64url. */
export function encodeKeyset(tag: string, payload: string): string {
  return Buffer.from(`${tag}:${payload}`, 'utf8').toString('base64url');
}

export function decodeKeyset(tag: string, cursor: string): string | null {
  if (cursor.length > 600) return null;
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  return raw.startsWith(`${tag}:`) ? raw.slice(tag.length + 1) : null;
}
