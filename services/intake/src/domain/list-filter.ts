import type { FieldViolation } from '@crm/errors';
import type { CountryCode } from 'libphonenumber-js';
import { normalisePhone } from '@crm/contact-points';
import { idViolation } from './comment';
import { throwIfInvalid } from './validation';
import { decodeCursor, type Cursor } from './cursor';
import { charLength, isChannel, isRequestState, type ChannelName, type RequestStateName } from './types';

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
}

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

  let after: Cursor | null = null;
  if (input.cursor !== '') {
    try {
      after = decodeCursor(input.cursor);
    } catch {
      violations.push({ field: 'cursor', message: 'is malformed: pass the next_cursor of the previous page unchanged' });
    }
  }

  let contactId: string | null = null;
  const rawContact = (input.contactId ?? '').trim();
  if (rawContact !== '') {
    const problem = idViolation('contact_id', rawContact);
    if (problem) violations.push(problem);
    else contactId = rawContact.toLowerCase();
  }

  throwIfInvalid('ListRequests', violations);
  return { states, channels, createdFrom, createdTo, query, pageSize, after, contactId };
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
