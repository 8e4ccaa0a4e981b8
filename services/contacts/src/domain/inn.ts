import { ValidationError } from '@crm/errors';

/**
 * The Russian taxpayer number (ИНН): 10 digits for a legal entity, 12 for an individual (a sole
 * proprietor). The last digit (10) or the last two (12) are check digits: each is the weighted sum of
 * the digits before it, mod 11, mod 10, with the weights below (Federal Tax Service order ММВ-7-6/435@
 * of 2012; the same algorithm as every public INN checker).
 */
const W10 = [2, 4, 10, 3, 5, 9, 4, 6, 8];
const W11 = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
const W12 = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8];

function checkDigit(digits: number[], weights: number[]): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += weights[i]! * digits[i]!;
  return (sum % 11) % 10;
}

/** True when `inn` is 10 or 12 digits and its check digits are right. */
export function isValidInn(inn: string): boolean {
  if (!/^(\d{10}|\d{12})$/.test(inn)) return false;
  const d = [...inn].map(Number);
  if (d.length === 10) return checkDigit(d, W10) === d[9];
  return checkDigit(d, W11) === d[10] && checkDigit(d, W12) === d[11];
}

/**
 * A tax id as a caller gives it: spaces around it are trimmed; empty means none (null). Otherwise it
 * must be a valid INN, or it is INVALID_ARGUMENT on `field` saying which rule failed.
 */
export function parseInn(raw: string | undefined, field = 'tax_id'): string | null {
  const v = (raw ?? '').trim();
  if (!v) return null;
  const fail = (message: string) => new ValidationError(`invalid tax id: ${message}`, [{ field, message }]);
  if (!/^\d+$/.test(v)) throw fail('must contain digits only (a Russian INN: 10 digits for an organisation, 12 for an individual)');
  if (v.length !== 10 && v.length !== 12) throw fail(`must be 10 digits (an organisation) or 12 (an individual), got ${v.length}`);
  if (!isValidInn(v)) throw fail('the check digit does not match: the INN is mistyped');
  return v;
}
