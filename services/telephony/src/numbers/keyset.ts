/**
 * Keyset cursors of the number and pool lists (the house pattern): the created_at (microseconds) and id
 * of the last row, base64url of a small versioned JSON naming its list, so that a cursor of one list
 * passed to another is INVALID_ARGUMENT instead of silently wrong.
 */
import { ValidationError } from '@crm/errors';

export interface Keyset {
  key: string;
  id: string;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TS_KEY_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** SQL rendering a timestamptz column as a cursor key with full (microsecond) precision. */
export const tsKeySql = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export function encodeKeyset(list: string, k: Keyset): string {
  return Buffer.from(JSON.stringify({ v: 1, l: list, k: k.key, i: k.id }), 'utf8').toString('base64url');
}

const malformed = (): ValidationError =>
  new ValidationError('page_token is malformed: pass the next_page_token of the previous page unchanged', [{ field: 'page_token', message: 'is malformed' }]);

export function decodeKeyset(list: string, value: string | undefined): Keyset | null {
  if (!value) return null;
  if (value.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(value)) throw malformed();
  let c: { v?: unknown; l?: unknown; k?: unknown; i?: unknown } | null;
  try {
    c = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  if (c === null || typeof c !== 'object' || c.v !== 1 || c.l !== list || typeof c.k !== 'string' || typeof c.i !== 'string' || !TS_KEY_RE.test(c.k) || !UUID_RE.test(c.i)) throw malformed();
  return { key: c.k, id: c.i };
}

/** Rows fetched with one more than the page: the page and the token of the next one ('' at the end). */
export function page<T extends { id: string; key: string }>(rows: T[], size: number, list: string): { items: T[]; next: string } {
  if (rows.length <= size) return { items: rows, next: '' };
  const items = rows.slice(0, size);
  const last = items[items.length - 1]!;
  return { items, next: encodeKeyset(list, { key: last.key, id: last.id }) };
}
