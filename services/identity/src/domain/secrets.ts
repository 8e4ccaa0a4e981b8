import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/**
 * Generated secrets and ids. Only SHA-256 hashes of API key secrets and session tokens are stored;
 * a database leak does not yield usable credentials.
 */

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Uniformly random base62 string (randomInt avoids modulo bias). */
export function randomBase62(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += BASE62[randomInt(BASE62.length)];
  return out;
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time comparison of two hashes (false when lengths differ). */
export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export const API_KEY_PREFIX_LENGTH = 8;
// 32 random bytes in base64url without padding are 43 characters (which may include `_` and `-`).
const API_KEY_RE = /^crm_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeySecret {
  /** The 8-character prefix: stored in clear, used to find the key. */
  prefix: string;
  /** The whole secret `crm_<prefix>_<random>`, shown once. */
  secret: string;
}

export function generateApiKeySecret(): ApiKeySecret {
  const prefix = randomBase62(API_KEY_PREFIX_LENGTH);
  return { prefix, secret: `crm_${prefix}_${randomBytes(32).toString('base64url')}` };
}

/** The prefix of a well-formed secret, or undefined (then there is nothing to look up). */
export function parseApiKeySecret(secret: string): { prefix: string } | undefined {
  const m = API_KEY_RE.exec(secret);
  return m ? { prefix: m[1] } : undefined;
}

const SESSION_TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

/** 32 random bytes, base64url (43 characters). */
export function generateSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

export function isWellFormedSessionToken(token: string): boolean {
  return SESSION_TOKEN_RE.test(token);
}

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

const PUBLIC_FORM_ID_RE = /^pf_[A-Za-z0-9]{16}$/;

/** `pf_` + 16 base62 characters (~95 bits): safe to embed in a public page, not guessable. */
export function generatePublicFormId(): string {
  return `pf_${randomBase62(16)}`;
}

export function isWellFormedPublicFormId(id: string): boolean {
  return PUBLIC_FORM_ID_RE.test(id);
}
