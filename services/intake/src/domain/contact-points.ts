import { isSupportedCountry, parsePhoneNumberWithError, type CountryCode } from 'libphonenumber-js';

/**
 * Contact point normalisation: phones to E.164, e-mails trimmed and lower-cased. Each function returns
 * either the normalised value or a human-readable problem (the caller turns it into a field violation).
 */
export type Normalised = { ok: true; value: string } | { ok: false; problem: string };

/** Longer raw input is not a phone number; also bounds the parser's work. */
export const PHONE_MAX_INPUT = 64;
/** RFC 5321 path limit. */
export const EMAIL_MAX = 254;

export function isCountry(code: string): code is CountryCode {
  return isSupportedCountry(code);
}

/**
 * Parses a phone written in any common way (`8 (999) 123-45-67`, `+7 999 123 45 67`, `+79991234567`)
 * into E.164. A number without a `+country` prefix is read as a number of `defaultCountry`
 * (national prefixes such as Russia's `8` are understood). An extension, if any, is dropped: E.164 has none.
 */
export function normalisePhone(raw: string, defaultCountry: CountryCode): Normalised {
  const input = raw.trim();
  if (input.length > PHONE_MAX_INPUT) return { ok: false, problem: `must be at most ${PHONE_MAX_INPUT} characters` };
  if (!/\d/.test(input)) return { ok: false, problem: 'is not a phone number' };
  try {
    const parsed = parsePhoneNumberWithError(input, defaultCountry);
    if (!parsed.isValid()) return { ok: false, problem: `is not a valid phone number (read as ${parsed.number})` };
    return { ok: true, value: parsed.number };
  } catch {
    return { ok: false, problem: 'is not a phone number' };
  }
}

// Deliberately simple: one @, a non-empty local part, a dotted domain of letters/digits/hyphens, no spaces.
// Deliverability is the contact service's concern; this only keeps obvious garbage out.
const EMAIL_RE = /^[^\s@<>()[\]\\,;:"]+@(?=.{1,253}$)(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+[\p{L}]{2,63}$/u;

/** Trims, lower-cases and checks the shape of an e-mail address. */
export function normaliseEmail(raw: string): Normalised {
  const value = raw.trim().toLowerCase();
  if (value.length > EMAIL_MAX) return { ok: false, problem: `must be at most ${EMAIL_MAX} characters` };
  const local = value.split('@')[0];
  if (!EMAIL_RE.test(value) || local.length > 64 || local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return { ok: false, problem: 'is not a valid e-mail address' };
  }
  return { ok: true, value };
}
