import type { FieldViolation } from '@crm/errors';
import type { CountryCode } from 'libphonenumber-js';
import { normalisePhone } from '@crm/contact-points';
import { idViolation } from './comment';
import { throwIfInvalid } from './validation';
import { decodeCursor, type Cursor } from './cursor';
import {
  charLength,
  isChannel,
  isRequestState,
  type ChannelName,
  type ContactAxisValue,
  type MeaningAxisValue,
  type NumberAxisValue,
  type QualificationAxisValue,
  type RequestStateName,
} from './types';

export const PAGE_SIZE_DEFAULT = 25;
/** Larger page sizes are rejected (INVALID_ARGUMENT), not clamped: a caller asking for 500 learns the cap. */
export const PAGE_SIZE_MAX = 100;
export const QUERY_MAX = 200;

/** A ListRequests call as sent; states/channels are enum names, '' for unspecified or unknown values. */
export interface ListRequestsInput {
  states: string[];
  channels: string[];
  createdFrom: string;
  createdTo: string;
  query: string;
  pageSize: number;
  cursor: string;
  /** Only this contact's requests (a UUID); '' or absent for all. */
  contactId?: string;
  // Issue 8 (intake.proto 9..19); absent means unset.
  /** Department ids (UUIDs). */
  departmentIds?: string[];
  /** Assignee ids (UUIDs), `unassigned` (none) and `me` (the caller). */
  assigneeIds?: string[];
  projectIds?: string[];
  /** Axis value names ('' for unspecified or unknown values). */
  meanings?: string[];
  qualifications?: string[];
  contactAxes?: string[];
  numberAxes?: string[];
  utmSource?: string;
  slaBreached?: boolean;
  missed?: boolean;
  /** `created_desc` (default) or `my_work`. */
  order?: string;
  /** The caller, for `me` among assignee_ids. */
  callerId?: string;
}

export type ListOrder = 'created_desc' | 'my_work';

export interface SearchQuery {
  /** Lower-cased text, matched as a substring of the name and the e-mail. */
  text: string;
  /** The digits of the query (if any), matched as a substring of the phone's digits. */
  digits: string | null;
  /** The query read as a whole phone number (E.164), e.g. `8 (999) 123-45-67`; matched exactly. */
  phone: string | null;
}

export interface ListFilter {
  states: RequestStateName[];
  channels: ChannelName[];
  /** RFC 3339, inclusive. */
  createdFrom: string | null;
  /** RFC 3339, exclusive. */
  createdTo: string | null;
  query: SearchQuery | null;
  pageSize: number;
  after: Cursor | null;
  /** Lower-cased UUID of the contact, or null for every request. */
  contactId: string | null;
  departmentIds: string[];
  /** assignee_ids was given: only the requests of `assigneeIds` (and the unassigned with `includeUnassigned`). */
  assigneeFilter: boolean;
  /** Assignee UUIDs (lower-cased, `me` replaced by the caller). */
  assigneeIds: string[];
  includeUnassigned: boolean;
  projectIds: string[];
  meanings: MeaningAxisValue[];
  qualifications: QualificationAxisValue[];
  contactAxes: ContactAxisValue[];
  numberAxes: NumberAxisValue[];
  /** Lower-cased exact utm_source. */
  utmSource: string | null;
  slaBreached: boolean | null;
  missed: boolean | null;
  order: ListOrder;
  /** For `my_work`: the last row of the previous page in that order. */
  afterWork: WorkCursor | null;
}

/** Id filters take at most this many values each. */
export const IDS_MAX = 100;
export const UTM_SOURCE_MAX = 200;

const MEANINGS: readonly MeaningAxisValue[] = ['unknown', 'targeted', 'non_targeted'];
const QUALIFICATIONS: readonly QualificationAxisValue[] = ['pending', 'lead', 'not_lead'];
const CONTACT_AXES: readonly ContactAxisValue[] = ['none', 'unverified', 'verified'];
const NUMBER_AXES: readonly NumberAxisValue[] = ['primary', 'repeat'];
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A position in the `my_work` order — breached first, then by SLA due (none last), then oldest:
 * (sla_breached_at IS NULL, coalesce(sla_due_at, 'infinity'), created_at, id) ascending.
 */
export interface WorkCursor {
  /** The row had no breach (false sorts first). */
  notBreached: boolean;
  /** RFC 3339 with milliseconds, or null for no SLA due (sorts last). */
  dueAt: string | null;
  createdAt: string;
  id: string;
}

const ISO_MS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function encodeWorkCursor(c: WorkCursor): string {
  return Buffer.from(JSON.stringify({ v: 2, b: c.notBreached, d: c.dueAt, t: c.createdAt, i: c.id }), 'utf8').toString('base64url');
}

function isoMs(v: unknown): v is string {
  return typeof v === 'string' && ISO_MS_RE.test(v) && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString() === v;
}

/** Decodes a `my_work` cursor; null when it is not one (the caller reports the violation). */
export function decodeWorkCursor(value: string): WorkCursor | null {
  if (value.length > 512 || !/^[A-Za-z0-9_-]+$/.test(value)) return null;
  try {
    const c = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as { v?: unknown; b?: unknown; d?: unknown; t?: unknown; i?: unknown } | null;
    if (c === null || typeof c !== 'object' || c.v !== 2 || typeof c.b !== 'boolean' || !(c.d === null || isoMs(c.d)) || !isoMs(c.t)) return null;
    if (typeof c.i !== 'string' || !UUID_RE.test(c.i)) return null;
    return { notBreached: c.b, dueAt: c.d as string | null, createdAt: c.t, id: c.i };
  } catch {
    return null;
  }
}

function enumList<T extends string>(field: string, raw: string[] | undefined, known: readonly T[], violations: FieldViolation[]): T[] {
  const out: T[] = [];
  (raw ?? []).forEach((v, i) => ((known as readonly string[]).includes(v) ? out.push(v as T) : violations.push({ field: `${field}[${i}]`, message: 'is not a known value' })));
  return [...new Set(out)];
}

function idList(field: string, raw: string[] | undefined, violations: FieldViolation[], special: (v: string) => boolean = () => false): string[] {
  const values = raw ?? [];
  if (values.length > IDS_MAX) {
    violations.push({ field, message: `must have at most ${IDS_MAX} values` });
    return [];
  }
  const out: string[] = [];
  values.forEach((v, i) => {
    const t = v.trim();
    if (special(t)) return;
    if (!UUID_RE.test(t)) violations.push({ field: `${field}[${i}]`, message: 'must be a UUID' });
    else out.push(t.toLowerCase());
  });
  return [...new Set(out)];
}

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/i;

/**
 * An RFC 3339 timestamp PostgreSQL can compare: a day that exists in a year 0001…9999, a time below
 * 24:00 (no leap second) and an offset within ±15:59 (PostgreSQL's limit; the gateway sends UTC).
 * Anything else is a field violation (INVALID_ARGUMENT), never a database error.
 */
function rfc3339(value: string): boolean {
  const m = RFC3339_RE.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  if (m[9] !== undefined && (Number(m[9]) > 15 || Number(m[10]) > 59)) return false;
  const probe = new Date(0);
  probe.setUTCFullYear(year, month - 1, day);
  return probe.getUTCMonth() === month - 1 && probe.getUTCDate() === day && !Number.isNaN(Date.parse(value));
}

/** Validates a ListRequests call; every problem is a field violation of one ValidationError. */
export function prepareListFilter(input: ListRequestsInput, country: CountryCode): ListFilter {
  const violations: FieldViolation[] = [];

  const states: RequestStateName[] = [];
  input.states.forEach((s, i) => (isRequestState(s) ? states.push(s) : violations.push({ field: `states[${i}]`, message: 'is not a known state' })));
  const channels: ChannelName[] = [];
  input.channels.forEach((c, i) => (isChannel(c) ? channels.push(c) : violations.push({ field: `channels[${i}]`, message: 'is not a known channel' })));

  const createdFrom = input.createdFrom.trim() || null;
  const createdTo = input.createdTo.trim() || null;
  if (createdFrom !== null && !rfc3339(createdFrom)) violations.push({ field: 'created_from', message: 'must be an RFC 3339 timestamp' });
  if (createdTo !== null && !rfc3339(createdTo)) violations.push({ field: 'created_to', message: 'must be an RFC 3339 timestamp' });
  else if (createdFrom !== null && createdTo !== null && rfc3339(createdFrom) && Date.parse(createdFrom) > Date.parse(createdTo)) {
    violations.push({ field: 'created_to', message: 'must not be before created_from' });
  }

  let pageSize = PAGE_SIZE_DEFAULT;
  if (input.pageSize !== 0) {
    if (!Number.isInteger(input.pageSize) || input.pageSize < 1 || input.pageSize > PAGE_SIZE_MAX) {
      violations.push({ field: 'page_size', message: `must be between 1 and ${PAGE_SIZE_MAX} (0 means ${PAGE_SIZE_DEFAULT})` });
    } else pageSize = input.pageSize;
  }

  let query: SearchQuery | null = null;
  const q = input.query.trim();
  if (charLength(q) > QUERY_MAX) violations.push({ field: 'query', message: `must be at most ${QUERY_MAX} characters` });
  else if (q !== '') query = searchQuery(q, country);

  const rawOrder = (input.order ?? '').trim();
  let order: ListOrder = 'created_desc';
  if (rawOrder === 'my_work') order = 'my_work';
  else if (rawOrder !== '' && rawOrder !== 'created_desc') violations.push({ field: 'order', message: 'must be created_desc or my_work' });

  let after: Cursor | null = null;
  let afterWork: WorkCursor | null = null;
  if (input.cursor !== '') {
    const bad = () => violations.push({ field: 'cursor', message: 'is malformed: pass the next_cursor of the previous page unchanged' });
    if (order === 'my_work') {
      afterWork = decodeWorkCursor(input.cursor);
      if (afterWork === null) bad();
    } else {
      try {
        after = decodeCursor(input.cursor);
      } catch {
        bad();
      }
    }
  }

  const departmentIds = idList('department_ids', input.departmentIds, violations);
  let includeUnassigned = false;
  let includeMe = false;
  const assigneeIds = idList('assignee_ids', input.assigneeIds, violations, (v) => {
    if (v === 'unassigned') includeUnassigned = true;
    else if (v === 'me') includeMe = true;
    else return false;
    return true;
  });
  // `me` is the caller; a caller whose id is no UUID (an API key, a service) is nobody's assignee.
  const callerId = (input.callerId ?? '').trim().toLowerCase();
  if (includeMe && UUID_RE.test(callerId) && !assigneeIds.includes(callerId)) assigneeIds.push(callerId);
  const projectIds = idList('project_ids', input.projectIds, violations);
  const meanings = enumList('meanings', input.meanings, MEANINGS, violations);
  const qualifications = enumList('qualifications', input.qualifications, QUALIFICATIONS, violations);
  const contactAxes = enumList('contact_axes', input.contactAxes, CONTACT_AXES, violations);
  const numberAxes = enumList('number_axes', input.numberAxes, NUMBER_AXES, violations);
  let utmSource: string | null = null;
  const utm = (input.utmSource ?? '').trim();
  if (charLength(utm) > UTM_SOURCE_MAX) violations.push({ field: 'utm_source', message: `must be at most ${UTM_SOURCE_MAX} characters` });
  else if (utm.includes('\u0000')) violations.push({ field: 'utm_source', message: 'must not contain NUL characters' });
  else if (utm !== '') utmSource = utm.toLowerCase();

  let contactId: string | null = null;
  const rawContact = (input.contactId ?? '').trim();
  if (rawContact !== '') {
    const problem = idViolation('contact_id', rawContact);
    if (problem) violations.push(problem);
    else contactId = rawContact.toLowerCase();
  }

  throwIfInvalid('ListRequests', violations);
  return {
    states,
    channels,
    createdFrom,
    createdTo,
    query,
    pageSize,
    after,
    contactId,
    departmentIds,
    assigneeFilter: (input.assigneeIds ?? []).length > 0,
    assigneeIds,
    includeUnassigned,
    projectIds,
    meanings,
    qualifications,
    contactAxes,
    numberAxes,
    utmSource,
    slaBreached: input.slaBreached ?? null,
    missed: input.missed ?? null,
    order,
    afterWork,
  };
}

/** How a search box entry is matched: text on name/e-mail, digits (and a whole number) on the phone. */
export function searchQuery(q: string, country: CountryCode): SearchQuery {
  // Only a query made of digits and phone punctuation is matched against phones, so the digits of an
  // e-mail or a name ("ivan1@…") do not match every phone containing a 1.
  const phoneLike = /^[\d\s()+\-.]+$/.test(q);
  const digits = phoneLike ? q.replace(/\D/g, '') : '';
  // A whole number is also read as a phone, so `8 (999) 123-45-67` finds +79991234567 although its
  // digits differ (the national prefix 8 vs the country code 7).
  const phone = digits.length >= 7 ? normalisePhone(q, country) : null;
  return { text: q.toLowerCase(), digits: digits === '' ? null : digits, phone: phone?.ok ? phone.value : null };
}

/** Escapes LIKE wildcards so user input is matched literally (backslash is PostgreSQL's default escape). */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
