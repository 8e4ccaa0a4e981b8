import { ValidationError } from '@crm/errors';

/** Pure rules of a contact (no I/O; unit-tested beside this file). */

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const NAME_MAX = 200;

/**
 * The name as stored: trimmed, at most 200 characters; null when empty (unknown). The caller decides
 * whether a contact without a name is acceptable (it is when it has a point).
 */
export function contactName(raw: string, field = 'name'): string | null {
  const name = raw.trim();
  if (name.length > NAME_MAX) throw new ValidationError('invalid contact', [{ field, message: `must be at most ${NAME_MAX} characters` }]);
  return name || null;
}

/**
 * What names are searched by: lower-cased in JavaScript (PostgreSQL's lower() under the C locale leaves
 * Cyrillic as it is), runs of whitespace made one space, `ё` read as `е` (people type either).
 */
export function searchName(name: string | null): string | null {
  if (name === null) return null;
  const s = name.toLowerCase().replace(/ё/g, 'е').replace(/\s+/g, ' ').trim();
  return s || null;
}

/**
 * The trigram search key of a search name, as the generated column contacts.search_key computes it in
 * SQL (`translate(search_name, SEARCH_KEY_FROM, SEARCH_KEY_TO)`): Cyrillic letters to Latin ones, ъ to w and
 * ь to q (not dropped: a query of mostly soft signs would leave under 3 letters, no trigram, and scan every
 * name). pg_trgm takes no trigrams from Cyrillic under the C locale; from the key it does. Equal
 * substrings give equal keys, so `search_key LIKE %key(q)%` is a superset of `search_name LIKE %q%` and
 * the exact condition is checked on search_name after the index narrowed the rows.
 */
export const SEARCH_KEY_FROM = 'абвгдеёжзийклмнопрстуфхцчшщыэюяіїєґъь';
export const SEARCH_KEY_TO = 'abvgdeezzijklmnoprstufhccssyeuaiiegwq';

const KEY_MAP = new Map<string, string>([...SEARCH_KEY_FROM].map((ch, i) => [ch, SEARCH_KEY_TO[i] ?? '']));

export function searchKey(search: string): string {
  let out = '';
  for (const ch of search) out += KEY_MAP.has(ch) ? KEY_MAP.get(ch)! : ch;
  return out;
}

/** An id from a caller: a UUID, lower-cased; anything else is INVALID_ARGUMENT (never a database error). */
export function contactId(raw: string, field = 'id'): string {
  if (!UUID_RE.test(raw)) throw new ValidationError(`invalid ${field}`, [{ field, message: 'must be a UUID' }]);
  return raw.toLowerCase();
}

/** An optional id: empty is null. */
export function optionalId(raw: string, field: string): string | null {
  return raw === '' ? null : contactId(raw, field);
}
