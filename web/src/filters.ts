/**
 * The journal's filters: kept in the page's query string (so back/forward and a shared link keep them),
 * turned into the API's filters, and matched against a live event.
 */
import { CHANNELS, STATES, type CrmRequest, type RequestFilters } from './api';
import { zonedMidnight } from './time';

export interface JournalFilters {
  states: string[];
  channels: string[];
  /** Calendar dates of the tenant's time zone, YYYY-MM-DD (from `<input type="date">`); '' = no bound. */
  from: string;
  to: string;
  q: string;
}

export const NO_FILTERS: JournalFilters = { states: [], channels: [], from: '', to: '', q: '' };

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

export function filtersFromSearch(s: URLSearchParams): JournalFilters {
  const known = (list: readonly string[], values: string[]) => list.filter((v) => values.includes(v));
  const date = (v: string | null) => (v && DATE_RE.test(v) ? v : '');
  return {
    states: known(STATES, s.getAll('state')),
    channels: known(CHANNELS, s.getAll('channel')),
    from: date(s.get('from')),
    to: date(s.get('to')),
    q: (s.get('q') ?? '').slice(0, 200),
  };
}

export function filtersToSearch(f: JournalFilters): string {
  const p = new URLSearchParams();
  for (const s of f.states) p.append('state', s);
  for (const c of f.channels) p.append('channel', c);
  if (f.from) p.set('from', f.from);
  if (f.to) p.set('to', f.to);
  if (f.q.trim()) p.set('q', f.q.trim());
  const s = p.toString();
  return s ? `?${s}` : '';
}

export function hasFilters(f: JournalFilters): boolean {
  return f.states.length > 0 || f.channels.length > 0 || f.from !== '' || f.to !== '' || f.q.trim() !== '';
}

/**
 * The API's filters: dates become the bounds of those days in `timeZone` — the tenant's, in which the
 * journal shows times (`to` is inclusive, so its next midnight; a DST day is 23 or 25 hours long).
 * Without a zone, the browser's own.
 */
export function toApiFilters(f: JournalFilters, timeZone = ''): RequestFilters {
  return {
    states: f.states,
    channels: f.channels,
    createdFrom: f.from ? zonedMidnight(f.from, timeZone).toISOString() : undefined,
    createdTo: f.to ? zonedMidnight(f.to, timeZone, 1).toISOString() : undefined,
    q: f.q.trim() || undefined,
  };
}

/**
 * Whether a request pushed by the live feed belongs in the journal as filtered. State, channel and dates
 * are decided here; the text search is left to the server (`needsServerCheck`), whose matching
 * (names, e-mails, phone numbers in any notation) the UI does not imitate.
 */
export function matchesLocally(r: CrmRequest, f: JournalFilters, timeZone = ''): boolean {
  if (f.states.length && !f.states.includes(r.state)) return false;
  if (f.channels.length && !f.channels.includes(r.channel)) return false;
  const api = toApiFilters(f, timeZone);
  const at = Date.parse(r.created_at);
  if (api.createdFrom && at < Date.parse(api.createdFrom)) return false;
  if (api.createdTo && at >= Date.parse(api.createdTo)) return false;
  return true;
}

export function needsServerCheck(f: JournalFilters): boolean {
  return f.q.trim() !== '';
}
