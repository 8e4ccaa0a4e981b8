/**
 * Keyset cursors of the deal lists (the pattern of intake's and contacts' cursors): the sort key and the
 * id of the last row, base64url of a small versioned JSON naming its list, so that a cursor of one list
 * (or one board column) passed to another is INVALID_ARGUMENT instead of silently wrong.
 */
import { ValidationError } from '@crm/errors';

export interface Keyset {
  /** A timestamp as PostgreSQL renders it with microseconds (TS_KEY_SQL). */
  key: string;
  id: string;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BASE64URL_RE = /^[A-Za-z0-9_-]+$/;
const TS_KEY_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** SQL rendering a timestamptz column as a cursor key with full (microsecond) precision. */
export const tsKeySql = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export function encodeKeyset(list: string, k: Keyset): string {
  return Buffer.from(JSON.stringify({ v: 1, l: list, k: k.key, i: k.id }), 'utf8').toString('base64url');
}

const malformed = (): ValidationError =>
  new ValidationError('cursor is malformed: pass the next_cursor of the previous page unchanged', [{ field: 'cursor', message: 'is malformed' }]);

/** '' is null (the first page); else the cursor of `list`, or INVALID_ARGUMENT on `cursor`. */
export function decodeKeyset(list: string, value: string | undefined): Keyset | null {
  if (!value) return null;
  if (value.length > 1024 || !BASE64URL_RE.test(value)) throw malformed();
  let c: { v?: unknown; l?: unknown; k?: unknown; i?: unknown } | null;
  try {
    c = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  if (c === null || typeof c !== 'object' || c.v !== 1 || c.l !== list || typeof c.k !== 'string' || typeof c.i !== 'string' || !TS_KEY_RE.test(c.k) || !UUID_RE.test(c.i) || Number.isNaN(Date.parse(c.k))) {
    throw malformed();
  }
  return { key: c.k, id: c.i };
}

/** 0 → `def`; 1..max as asked; anything else INVALID_ARGUMENT on `field`. */
export function pageSize(raw: number | undefined, def: number, max: number, field = 'page_size'): number {
  const n = raw ?? 0;
  if (n === 0) return def;
  if (!Number.isInteger(n) || n < 1 || n > max) throw new ValidationError(`${field} must be 1..${max} (0 means ${def})`, [{ field, message: `must be 0..${max}` }]);
  return n;
}

/** Rows fetched with one more than the page: the page and the cursor of the next one ('' at the end). */
export function page<T>(rows: T[], size: number, list: string, keyOf: (row: T) => Keyset): { items: T[]; nextCursor: string } {
  if (rows.length <= size) return { items: rows, nextCursor: '' };
  const items = rows.slice(0, size);
  return { items, nextCursor: encodeKeyset(list, keyOf(items[items.length - 1]!)) };
}
