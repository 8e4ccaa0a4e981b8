import { ValidationError, type FieldViolation } from '@crm/errors';

/** Throws one ValidationError listing every violation (its message names them all); no-op when none. */
export function throwIfInvalid(what: string, violations: FieldViolation[]): void {
  if (!violations.length) return;
  throw new ValidationError(`${what} is invalid: ${violations.map((v) => `${v.field} ${v.message}`).join('; ')}`, violations);
}
