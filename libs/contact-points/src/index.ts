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

/** The messenger and social networks a social point may name (lower case, as stored before the `:`). */
export const SOCIAL_NETWORKS = ['telegram', 'whatsapp', 'vk', 'viber', 'instagram', 'facebook', 'ok', 'max'] as const;
export type SocialNetwork = (typeof SOCIAL_NETWORKS)[number];
/** The id or handle on the network, after trimming. */
export const SOCIAL_ID_MAX = 200;

export function isSocialNetwork(network: string): network is SocialNetwork {
  return (SOCIAL_NETWORKS as readonly string[]).includes(network);
}

/**
 * A social point as stored: `<network>:<id>`. The network is trimmed and lower-cased and must be one of
 * SOCIAL_NETWORKS; the id is trimmed, a handle's leading `@` dropped and it is lower-cased (handles are
 * case-insensitive on every listed network; numeric ids are unaffected). No whitespace or control
 * characters inside, 1..200 characters. `{ ok, value, network }` on success.
 */
export function normaliseSocial(rawNetwork: string, rawId: string): (Normalised & { ok: false }) | { ok: true; value: string; network: SocialNetwork } {
  const network = rawNetwork.trim().toLowerCase();
  if (!isSocialNetwork(network)) return { ok: false, problem: `network must be one of ${SOCIAL_NETWORKS.join(', ')}` };
  let id = rawId.trim();
  if (id.startsWith('@')) id = id.slice(1).trim();
  id = id.toLowerCase();
  if (!id) return { ok: false, problem: 'is empty' };
  if (id.length > SOCIAL_ID_MAX) return { ok: false, problem: `must be at most ${SOCIAL_ID_MAX} characters` };
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/u.test(id)) return { ok: false, problem: 'must not contain spaces or control characters' };
  return { ok: true, value: `${network}:${id}`, network };
}

/** The digits of an E.164 phone (without the `+`), for searching by any part of the number. */
export function phoneDigits(e164: string): string {
  return e164.replace(/\D/g, '');
}
