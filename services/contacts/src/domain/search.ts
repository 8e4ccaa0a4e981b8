import { normalisePhone, phoneDigits } from '@crm/contact-points';
import { ValidationError } from '@crm/errors';
import type { CountryCode } from 'libphonenumber-js';
import { searchKey, searchName } from './contact';

/** How ListContacts reads its query (pure; unit-tested). */

export const QUERY_MAX = 200;
/** Fewer digits than this are not searched as a part of a phone: 3 digits match ~7k of 1M phones and the
 * digits index then reads all of them (130–490 ms); such a query is searched as text (names, e-mails) instead. */
export const DIGITS_MIN = 4;
/** Shorter queries are not searched in e-mails and handles. */
export const VALUE_MIN = 3;

export interface SearchQuery {
  /** Lower-cased as names are stored (searchName); matched as a substring of the name. */
  name: string;
  /** searchKey(name): what the trigram index on contacts.search_key narrows by. */
  key: string;
  /** Lower-cased; matched as a substring of e-mail and social point values (contacts.search_points). Null for
   * phone-like queries, for queries with spaces or non-ASCII letters (unless they have an @), with control
   * characters, and for queries under 3 characters. */
  value: string | null;
  /** The query read as one whole phone number (E.164), when it is one. */
  phone: string | null;
  /** Digit patterns searched as a substring of phones' digits (phone-like queries with ≥ 4 digits). */
  digits: string[];
}

/** Only digits and what people type between them: spaces, + - ( ) . / */
const PHONE_LIKE = /^[\d\s+\-()./]+$/;

/**
 * Reads a query: empty → null (no filter). A phone-like query (digits and separators only) is searched by
 * its digits (≥ 4) anywhere in a phone, and also exactly when it parses as a whole number (a shorter one is
 * read as text, like any other query); a query that
 * starts with the national prefix 8 (`8 999 12…`, Russia and Kazakhstan) is also tried with 7. Any other
 * query is a substring of the name (Cyrillic case-insensitive, ё = е) or of an e-mail / social handle
 * (see `value`).
 */
export function parseSearch(raw: string, country: CountryCode): SearchQuery | null {
  const q = raw.trim();
  if (!q) return null;
  if (q.length > QUERY_MAX) throw new ValidationError('query is too long', [{ field: 'query', message: `must be at most ${QUERY_MAX} characters` }]);
  const name = searchName(q) ?? '';
  const key = searchKey(name);
  const typed = q.replace(/\D/g, '');
  const parsed = PHONE_LIKE.test(q) ? normalisePhone(q, country) : null;
  const phone = parsed?.ok ? parsed.value : null;
  if (parsed && (phone !== null || typed.length >= DIGITS_MIN)) {
    const digits = new Set<string>();
    if (typed.length >= DIGITS_MIN) {
      digits.add(typed);
      if (!q.startsWith('+') && typed.startsWith('8') && (country === 'RU' || country === 'KZ')) digits.add(`7${typed.slice(1)}`);
    }
    if (phone) digits.add(phoneDigits(phone));
    return { name, key, value: null, phone, digits: [...digits] };
  }
  // E-mails and handles: printable ASCII without spaces (or anything with an @), at least 3 characters —
  // pg_trgm takes no trigrams from Cyrillic or from shorter strings, and such a pattern would scan every point.
  const value = q.toLowerCase();
  const valueLike = value.length >= VALUE_MIN && (/^[\x21-\x7e]+$/.test(value) || value.includes('@')) && !/\p{Cc}/u.test(value);
  return { name, key, value: valueLike ? value : null, phone: null, digits: [] };
}

/** `%…%` with LIKE's own characters escaped (the default escape character is `\`). */
export function likeContains(s: string): string {
  return `%${escapeLike(s)}%`;
}

export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
