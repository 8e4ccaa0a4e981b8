import { ValidationError } from '@crm/errors';

/** A position in the journal's order (created_at desc, id desc): the last request of the previous page. */
export interface Cursor {
  /** RFC 3339 UTC with milliseconds, exactly as stored. */
  createdAt: string;
  id: string;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_MS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const BASE64URL_RE = /^[A-Za-z0-9_-]+$/;
const MAX_CURSOR = 512;

/** Opaque to callers: base64url of a small versioned JSON. */
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ v: 1, t: cursor.createdAt, i: cursor.id }), 'utf8').toString('base64url');
}

function malformed(): ValidationError {
  return new ValidationError('cursor is malformed: pass the next_cursor of the previous page unchanged', [
    { field: 'cursor', message: 'is malformed' },
  ]);
}

/** Decodes a cursor made by encodeCursor; anything else is a ValidationError on `cursor`. */
export function decodeCursor(value: string): Cursor {
  if (value.length > MAX_CURSOR || !BASE64URL_RE.test(value)) throw malformed();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  const c = parsed as { v?: unknown; t?: unknown; i?: unknown } | null;
  if (
    c === null ||
    typeof c !== 'object' ||
    c.v !== 1 ||
    typeof c.t !== 'string' ||
    typeof c.i !== 'string' ||
    !ISO_MS_RE.test(c.t) ||
    Number.isNaN(Date.parse(c.t)) ||
    new Date(c.t).toISOString() !== c.t ||
    !UUID_RE.test(c.i)
  ) {
    throw malformed();
  }
  return { createdAt: c.t, id: c.i };
}
