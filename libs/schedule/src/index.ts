/**
 * Work schedules in a time zone: weekly working intervals and holidays. Identity validates them and
 * answers "on shift / open now"; intake counts SLA minutes in business time and evaluates routing's
 * working-hours condition. Pure functions over Intl (no zone database of our own).
 */

export interface WorkingHours {
  /** 1 = Monday … 7 = Sunday (ISO). */
  weekday: number;
  /** `HH:MM`, 00:00..23:59. */
  from: string;
  /** `HH:MM`, 00:01..24:00, after `from`. */
  to: string;
}

export interface Schedule {
  /** IANA zone. */
  timeZone: string;
  /** Empty: open around the clock. */
  hours: WorkingHours[];
  /** `YYYY-MM-DD` days off in the zone. */
  holidays: string[];
}

export interface ScheduleViolation {
  field: string;
  message: string;
}

const TIME_RE = /^([01]\d|2[0-4]):([0-5]\d)$/;
const DAY_RE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const MAX_HOLIDAYS = 400;
const MAX_INTERVALS = 70;

function minutesOf(hhmm: string): number | null {
  const m = TIME_RE.exec(hhmm);
  if (!m) return null;
  const v = Number(m[1]) * 60 + Number(m[2]);
  return v > 1440 ? null : v;
}

export function isValidTimeZone(tz: string): boolean {
  if (!tz || tz.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Every problem of a schedule, each naming its entry (`hours[2].to`, `holidays[0]`, `time_zone`). */
export function validateSchedule(s: Schedule): ScheduleViolation[] {
  const out: ScheduleViolation[] = [];
  if (!isValidTimeZone(s.timeZone)) out.push({ field: 'time_zone', message: `unknown time zone "${s.timeZone}"` });
  if (s.hours.length > MAX_INTERVALS) out.push({ field: 'hours', message: `at most ${MAX_INTERVALS} intervals` });
  const byDay = new Map<number, { i: number; a: number; b: number }[]>();
  s.hours.forEach((h, i) => {
    if (!Number.isInteger(h.weekday) || h.weekday < 1 || h.weekday > 7) {
      out.push({ field: `hours[${i}].weekday`, message: 'weekday must be 1 (Monday) … 7 (Sunday)' });
      return;
    }
    const a = minutesOf(h.from);
    const b = minutesOf(h.to);
    if (a === null || a >= 1440) out.push({ field: `hours[${i}].from`, message: 'from must be HH:MM between 00:00 and 23:59' });
    if (b === null) out.push({ field: `hours[${i}].to`, message: 'to must be HH:MM between 00:01 and 24:00' });
    if (a === null || b === null || a >= 1440) return;
    if (b <= a) {
      out.push({ field: `hours[${i}].to`, message: `to (${h.to}) must be after from (${h.from})` });
      return;
    }
    const list = byDay.get(h.weekday) ?? [];
    for (const o of list)
      if (a < o.b && o.a < b) out.push({ field: `hours[${i}]`, message: `overlaps hours[${o.i}] on weekday ${h.weekday}` });
    list.push({ i, a, b });
    byDay.set(h.weekday, list);
  });
  if (s.holidays.length > MAX_HOLIDAYS) out.push({ field: 'holidays', message: `at most ${MAX_HOLIDAYS} holidays` });
  const seen = new Set<string>();
  s.holidays.forEach((d, i) => {
    if (!DAY_RE.test(d) || Number.isNaN(Date.parse(`${d}T00:00:00Z`)) || new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10) !== d)
      out.push({ field: `holidays[${i}]`, message: `"${d}" is not a YYYY-MM-DD date` });
    else if (seen.has(d)) out.push({ field: `holidays[${i}]`, message: `${d} is listed twice` });
    seen.add(d);
  });
  return out;
}

interface Wall {
  /** `YYYY-MM-DD`. */
  day: string;
  /** 1..7, Monday first. */
  weekday: number;
  /** Minutes since local midnight. */
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', weekday: 'short' });
    formatters.set(tz, f);
  }
  return f;
}

const WEEKDAY: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

function parts(tz: string, at: Date): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of formatter(tz).formatToParts(at)) out[p.type] = p.value;
  return out;
}

/** The local wall clock of an instant in a zone. */
export function wallClock(tz: string, at: Date): Wall {
  const p = parts(tz, at);
  return { day: `${p.year}-${p.month}-${p.day}`, weekday: WEEKDAY[p.weekday], minute: Number(p.hour) * 60 + Number(p.minute) };
}

/** The zone's local date (`YYYY-MM-DD`) of an instant. */
export function localDay(tz: string, at: Date): string {
  return wallClock(tz, at).day;
}

/** Offset (ms) of the zone from UTC at an instant. */
function offsetMs(tz: string, at: Date): number {
  const p = parts(tz, at);
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/** The instant of a local wall time (`day` + minutes) in a zone; in a DST gap, the next valid time. */
export function instantOf(tz: string, day: string, minute: number): Date {
  const [y, m, d] = day.split('-').map(Number);
  const naive = Date.UTC(y, m - 1, d, 0, minute);
  let guess = naive - offsetMs(tz, new Date(naive));
  guess = naive - offsetMs(tz, new Date(guess));
  return new Date(guess);
}

function nextDay(day: string): string {
  const t = Date.parse(`${day}T00:00:00Z`) + 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

function weekdayOf(day: string): number {
  const w = new Date(`${day}T00:00:00Z`).getUTCDay();
  return w === 0 ? 7 : w;
}

function intervalsOf(s: Schedule, day: string): [number, number][] {
  if (s.holidays.includes(day)) return [];
  const wd = weekdayOf(day);
  return s.hours
    .filter((h) => h.weekday === wd)
    .map((h) => [minutesOf(h.from) ?? 0, minutesOf(h.to) ?? 0] as [number, number])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
}

/** Is it working time at `at`? A schedule without hours is always open. */
export function isOpen(s: Schedule, at: Date): boolean {
  if (!s.hours.length) return true;
  const w = wallClock(s.timeZone, at);
  return intervalsOf(s, w.day).some(([a, b]) => w.minute >= a && w.minute < b);
}

/**
 * `minutes` of working time after `from` (an SLA's due time). Outside working hours the count starts at
 * the next opening. Without hours: plain minutes. Null when the schedule never opens within 400 days.
 */
export function addBusinessMinutes(s: Schedule, from: Date, minutes: number): Date | null {
  if (!s.hours.length) return new Date(from.getTime() + minutes * 60_000);
  let left = minutes * 60_000;
  let day = localDay(s.timeZone, from);
  for (let n = 0; n < 400; n++, day = nextDay(day)) {
    for (const [a, b] of intervalsOf(s, day)) {
      const start = Math.max(instantOf(s.timeZone, day, a).getTime(), from.getTime());
      const end = instantOf(s.timeZone, day, b).getTime();
      if (end <= start) continue;
      if (end - start >= left) return new Date(start + left);
      left -= end - start;
    }
  }
  return null;
}

/** The next opening at or after `from` (itself when open); null when none within 400 days. */
export function nextOpening(s: Schedule, from: Date): Date | null {
  if (!s.hours.length || isOpen(s, from)) return from;
  let day = localDay(s.timeZone, from);
  for (let n = 0; n < 400; n++, day = nextDay(day))
    for (const [a] of intervalsOf(s, day)) {
      const t = instantOf(s.timeZone, day, a);
      if (t.getTime() >= from.getTime()) return t;
    }
  return null;
}
