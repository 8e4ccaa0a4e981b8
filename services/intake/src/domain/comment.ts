import type { FieldViolation } from '@crm/errors';
import { throwIfInvalid } from './validation';
import { charLength } from './types';

export const COMMENT_MAX = 4000;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A violation when `value` is not a request/comment id (ids are UUIDs); null when it is one. */
export function idViolation(field: string, value: string): FieldViolation | null {
  if (value.trim() === '') return { field, message: 'is required' };
  if (!UUID_RE.test(value.trim())) return { field, message: 'must be a UUID' };
  return null;
}

/** Validates an id argument (lower-cased); throws a ValidationError on `field`. */
export function prepareId(what: string, field: string, value: string): string {
  const v = idViolation(field, value);
  throwIfInvalid(what, v ? [v] : []);
  return value.trim().toLowerCase();
}

/** An AddComment call: the request id and the text, trimmed, 1..4000 characters. */
export function prepareComment(requestId: string, text: string): { requestId: string; text: string } {
  const violations: FieldViolation[] = [];
  const idProblem = idViolation('request_id', requestId);
  if (idProblem) violations.push(idProblem);
  const value = text.trim();
  if (value === '') violations.push({ field: 'text', message: 'must not be empty' });
  // PostgreSQL text cannot hold NUL: refused here rather than failing in the database.
  else if (value.includes('\u0000')) violations.push({ field: 'text', message: 'must not contain NUL characters' });
  else if (charLength(value) > COMMENT_MAX) violations.push({ field: 'text', message: `must be at most ${COMMENT_MAX} characters` });
  throwIfInvalid('AddComment', violations);
  return { requestId: requestId.trim().toLowerCase(), text: value };
}
