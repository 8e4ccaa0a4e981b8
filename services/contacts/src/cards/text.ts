import { ValidationError } from '@crm/errors';

/**
 * How names are searched: lower-cased in JavaScript (PostgreSQL's lower() under the C locale leaves
 * Cyrillic as it is), ё read as е, runs of white space made one space; `search_name` columns hold the same.
 */
export function searchKey(raw: string): string {
  // The same as contacts' searchName (src/domain/contact.ts): lower case, ё = е, one space.
  return raw.toLowerCase().replace(/ё/g, 'е').replace(/\s+/g, ' ').trim();
}

/** A LIKE pattern matching `text` anywhere (its %, _ and \ taken literally). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** C0 controls other than tab, line feed and carriage return, and DEL. */
function hasControl(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return true;
  }
  return false;
}

/** Trimmed text of min..max characters without control characters, else INVALID_ARGUMENT on `field`. */
export function boundedText(field: string, raw: string | undefined, min: number, max: number): string {
  const v = (raw ?? '').trim();
  if (v.length < min || v.length > max) {
    throw new ValidationError(`${field} must be ${min}..${max} characters`, [{ field, message: `must be ${min}..${max} characters` }]);
  }
  if (hasControl(v)) throw new ValidationError(`${field} must not contain control characters`, [{ field, message: 'must not contain control characters' }]);
  return v;
}

/** A search query: at most 200 characters, returned as a search key ('' when none). */
export function queryArg(raw: string | undefined): string {
  const v = raw ?? '';
  if (v.length > 200) throw new ValidationError('query must be at most 200 characters', [{ field: 'query', message: 'must be at most 200 characters' }]);
  return searchKey(v);
}

const OWNER_RE = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$/;

/** A seller's user id (identity's id): 1..100 of letters, digits and . _ : @ -. */
export function ownerArg(field: string, raw: string): string {
  if (!OWNER_RE.test(raw)) throw new ValidationError(`${field} must be a user id`, [{ field, message: 'must be a user id (1..100 letters, digits, . _ : @ -)' }]);
  return raw;
}
