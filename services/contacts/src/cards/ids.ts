import { ValidationError } from '@crm/errors';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id from a caller: a UUID, lower-cased; anything else is INVALID_ARGUMENT on `field` (never a database error). */
export function uuidArg(field: string, raw: string | undefined): string {
  const v = raw ?? '';
  if (!UUID_RE.test(v)) throw new ValidationError(`${field} must be a UUID`, [{ field, message: 'must be a UUID' }]);
  return v.toLowerCase();
}

/** Like uuidArg, but an empty string means "not given" (undefined). */
export function optionalUuidArg(field: string, raw: string | undefined): string | undefined {
  return raw ? uuidArg(field, raw) : undefined;
}

/** True when the string is a UUID (events from other services are checked before they reach SQL). */
export const isUuidString = (v: string | undefined): v is string => !!v && UUID_RE.test(v);
