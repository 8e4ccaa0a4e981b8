import { ValidationError } from '@crm/errors';

/**
 * Keyset pagination shared by the cards' lists, the bases and the timeline (the pattern of intake's
 * src/domain/cursor.ts): a cursor is the sort key and the id of the last row of the previous page,
 * base64url of a small versioned JSON, opaque to callers. `list` names the list it belongs to, so a
 * cursor of one list passed to another is malformed instead of silently wrong.
 */
export interface Keyset {
  /** The sort key of the last row as the query compares it (a timestamp with microseconds, a name). */
  key: string;
  id: string;
}

export const PAGE_SIZE_DEFAULT = 25;
export const PAGE_SIZE_MAX = 100;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BASE64URL_RE = /^[A-Za-z0-9_-]+$/;
/** What to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') yields (see TS_KEY_SQL). */
export const TS_KEY_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const MAX_CURSOR = 1024;
const MAX_KEY = 400;

/** SQL rendering a timestamptz column as a cursor key with PostgreSQL's full (microsecond) precision. */
export const tsKeySql = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export function encodeKeyset(list: string, k: Keyset): string {
  return Buffer.from(JSON.stringify({ v: 1, l: list, k: k.key, i: k.id }), 'utf8').toString('base64url');
}

function malformed(): ValidationError {
  return new ValidationError('cursor is malformed: pass the next_cursor of the previous page unchanged', [{ field: 'cursor', message: 'is malformed' }]);
}

/** Decodes a cursor of `list`; anything else is INVALID_ARGUMENT on `cursor`. `keyRe` checks the key's shape. */
export function decodeKeyset(list: string, value: string, keyRe?: RegExp): Keyset {
  if (value.length > MAX_CURSOR || !BASE64URL_RE.test(value)) throw malformed();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  const c = parsed as { v?: unknown; l?: unknown; k?: unknown; i?: unknown } | null;
  if (
    c === null ||
    typeof c !== 'object' ||
    c.v !== 1 ||
    c.l !== list ||
    typeof c.k !== 'string' ||
    typeof c.i !== 'string' ||
    c.k.length > MAX_KEY ||
    !UUID_RE.test(c.i) ||
    (keyRe !== undefined && !keyRe.test(c.k))
  ) {
    throw malformed();
  }
  if (keyRe === TS_KEY_RE && Number.isNaN(Date.parse(c.k))) throw malformed();
  return { key: c.k, id: c.i };
}

/** 0 (unset) → 25; 1..100 as asked; anything else INVALID_ARGUMENT on `page_size`. */
export function pageSize(raw: number | undefined): number {
  const n = raw ?? 0;
  if (n === 0) return PAGE_SIZE_DEFAULT;
  if (!Number.isInteger(n) || n < 1 || n > PAGE_SIZE_MAX) {
    throw new ValidationError(`page_size must be 1..${PAGE_SIZE_MAX} (0 means ${PAGE_SIZE_DEFAULT})`, [{ field: 'page_size', message: `must be 0..${PAGE_SIZE_MAX}` }]);
  }
  return n;
}

/** Takes one row more than the page to know whether another page follows. */
export function page<T>(rows: T[], size: number, list: string, keyOf: (row: T) => Keyset): { items: T[]; nextCursor: string } {
  if (rows.length <= size) return { items: rows, nextCursor: '' };
  const items = rows.slice(0, size);
  return { items, nextCursor: encodeKeyset(list, keyOf(items[items.length - 1]!)) };
}
