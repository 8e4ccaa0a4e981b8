/**
 * The journal's filters: kept in the page's query string (so back/forward and a shared link keep them),
 * turned into the API's filters, and matched against a live event.
 */
import { CHANNELS, STATES, type CrmRequest, type RequestFilters } from './api';
import { zonedMidnight } from './time';

export interface JournalFilters {
  states: string[];
  channels: string[];
  meanings: string[];
  qualifications: string[];
  contactAxes: string[];
  numberAxes: string[];
  /** Department ids. */
  departments: string[];
  /** User ids, `me`, `unassigned`. */
  assignees: string[];
  projects: string[];
  utmSource: string;
  slaBreached: boolean;
  missed: boolean;
  /** Calendar dates of the tenant's time zone, YYYY-MM-DD (from `<input type="date">`); '' = no bound. */
  from: string;
  to: string;
  q: string;
}

export const NO_FILTERS: JournalFilters = {
  states: [],
  channels: [],
  meanings: [],
  qualifications: [],
  contactAxes: [],
  numberAxes: [],
  departments: [],
  assignees: [],
  projects: [],
  utmSource: '',
  slaBreached: false,
  missed: false,
  from: '',
  to: '',
  q: '',
};

export const MEANING_VALUES = ['unknown', 'targeted', 'non_targeted'] as const;
export const QUALIFICATION_VALUES = ['pending', 'lead', 'not_lead'] as const;
export const CONTACT_AXIS_VALUES = ['none', 'unverified', 'verified'] as const;
export const NUMBER_AXIS_VALUES = ['primary', 'repeat'] as const;

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
/** Ids (UUIDs) or the two words the assignee filter knows. */
const ID_RE = /^(me|unassigned|[0-9a-fA-F-]{36})$/;

/** The URL (and API) parameter of each list filter. */
const LIST_PARAMS = [
  ['meanings', 'meaning'],
  ['qualifications', 'qualification'],
  ['contactAxes', 'contact_axis'],
  ['numberAxes', 'number_axis'],
  ['departments', 'department'],
  ['assignees', 'assignee'],
  ['projects', 'project'],
] as const;

export function filtersFromSearch(s: URLSearchParams): JournalFilters {
  const known = (list: readonly string[], values: string[]) => list.filter((v) => values.includes(v));
  const date = (v: string | null) => (v && DATE_RE.test(v) ? v : '');
  const ids = (values: string[]) => [...new Set(values.filter((v) => ID_RE.test(v)))].slice(0, 50);
  return {
    states: known(STATES, s.getAll('state')),
    channels: known(CHANNELS, s.getAll('channel')),
    meanings: known(MEANING_VALUES, s.getAll('meaning')),
    qualifications: known(QUALIFICATION_VALUES, s.getAll('qualification')),
    contactAxes: known(CONTACT_AXIS_VALUES, s.getAll('contact_axis')),
    numberAxes: known(NUMBER_AXIS_VALUES, s.getAll('number_axis')),
    departments: ids(s.getAll('department')),
    assignees: ids(s.getAll('assignee')),
    projects: ids(s.getAll('project')),
    utmSource: (s.get('utm_source') ?? '').slice(0, 200),
    slaBreached: s.get('sla_breached') === '1' || s.get('sla_breached') === 'true',
    missed: s.get('missed') === '1' || s.get('missed') === 'true',
    from: date(s.get('from')),
    to: date(s.get('to')),
    q: (s.get('q') ?? '').slice(0, 200),
  };
}

export function filtersToSearch(f: JournalFilters): string {
  const p = new URLSearchParams();
  for (const s of f.states) p.append('state', s);
  for (const c of f.channels) p.append('channel', c);
  for (const [field, param] of LIST_PARAMS) for (const v of f[field]) p.append(param, v);
  if (f.utmSource.trim()) p.set('utm_source', f.utmSource.trim());
  if (f.slaBreached) p.set('sla_breached', '1');
  if (f.missed) p.set('missed', '1');
  if (f.from) p.set('from', f.from);
  if (f.to) p.set('to', f.to);
  if (f.q.trim()) p.set('q', f.q.trim());
  const s = p.toString();
  return s ? `?${s}` : '';
}

export function hasFilters(f: JournalFilters): boolean {
  return (
    f.states.length > 0 ||
    f.channels.length > 0 ||
    LIST_PARAMS.some(([field]) => f[field].length > 0) ||
    f.utmSource.trim() !== '' ||
    f.slaBreached ||
    f.missed ||
    f.from !== '' ||
    f.to !== '' ||
    f.q.trim() !== ''
  );
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
 * The query of `GET /v1/requests` (and, without paging, `GET /v1/requests/counts`) for every filter of
 * the workplace: repeated parameters for the lists, dates as instants of the tenant's days.
 */
export function workQuery(f: JournalFilters, timeZone = '', page: { limit?: number; cursor?: string | null; order?: 'created_desc' | 'my_work'; withStates?: boolean } = {}): URLSearchParams {
  const api = toApiFilters(f, timeZone);
  const p = new URLSearchParams();
  if (page.withStates !== false) for (const s of f.states) p.append('state', s);
  for (const c of f.channels) p.append('channel', c);
  for (const [field, param] of LIST_PARAMS) for (const v of f[field]) p.append(param, v);
  if (f.utmSource.trim()) p.set('utm_source', f.utmSource.trim());
  if (f.slaBreached) p.set('sla_breached', 'true');
  if (f.missed) p.set('missed', 'true');
  if (api.createdFrom) p.set('created_from', api.createdFrom);
  if (api.createdTo) p.set('created_to', api.createdTo);
  if (api.q) p.set('q', api.q);
  if (page.order) p.set('order', page.order);
  if (page.limit) p.set('limit', String(page.limit));
  if (page.cursor) p.set('cursor', page.cursor);
  return p;
}

/**
 * Whether a request pushed by the live feed belongs in the journal as filtered. State, channel and dates
 * are decided here; the text search is left to the server (`needsServerCheck`), whose matching
 * (names, e-mails, phone numbers in any notation) the UI does not imitate.
 */
export function matchesLocally(r: CrmRequest, f: JournalFilters, timeZone = '', meId = ''): boolean {
  if (f.states.length && !f.states.includes(r.state)) return false;
  if (f.channels.length && !f.channels.includes(r.channel)) return false;
  if (f.meanings.length && !f.meanings.includes(r.axes.meaning)) return false;
  if (f.qualifications.length && !f.qualifications.includes(r.axes.qualification)) return false;
  if (f.contactAxes.length && !f.contactAxes.includes(r.axes.contact)) return false;
  if (f.numberAxes.length && !f.numberAxes.includes(r.axes.number)) return false;
  if (f.departments.length && !f.departments.includes(r.department_id ?? '')) return false;
  if (f.projects.length && !f.projects.includes(r.project_id ?? '')) return false;
  if (f.assignees.length) {
    const a = r.assignee_id ?? '';
    const ok = f.assignees.some((v) => (v === 'unassigned' ? !a : v === 'me' ? !!meId && a === meId : a === v));
    if (!ok) return false;
  }
  if (f.utmSource.trim() && f.utmSource.trim().toLowerCase() !== r.attribution.utm_source.toLowerCase()) return false;
  if (f.slaBreached && !r.sla_breached_at) return false;
  if (f.missed && !r.missed) return false;
  const api = toApiFilters(f, timeZone);
  const at = Date.parse(r.created_at);
  if (api.createdFrom && at < Date.parse(api.createdFrom)) return false;
  if (api.createdTo && at >= Date.parse(api.createdTo)) return false;
  return true;
}

export function needsServerCheck(f: JournalFilters): boolean {
  return f.q.trim() !== '';
}
