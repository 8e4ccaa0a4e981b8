/**
 * TOTP (RFC 6238 through `otpauth`: SHA-1, 6 digits, 30 s steps, ±1 step accepted), secrets sealed at rest
 * with AES-256-GCM under IDENTITY_SECRET_KEY, recovery codes and login challenge tokens.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

export const TOTP_PERIOD_SECONDS = 30;
const DIGITS = 6;
const ISSUER = 'Sales 2.0';

/** Sealed value layout: version (1) ‖ IV (12) ‖ GCM tag (16) ‖ ciphertext. */
const SEAL_VERSION = 1;

/** The 32-byte sealing key from IDENTITY_SECRET_KEY (base64), or a fixed development key when it is empty. */
export function sealingKey(env: { IDENTITY_SECRET_KEY: string }): { key: Buffer; development: boolean } {
  if (env.IDENTITY_SECRET_KEY) return { key: Buffer.from(env.IDENTITY_SECRET_KEY, 'base64'), development: false };
  return { key: createHash('sha256').update('crm-identity-development-secret-key').digest(), development: true };
}

/** Seals a TOTP secret (base32 text) for the user `aad` names: a secret copied to another row does not open. */
export function seal(key: Buffer, plain: string, aad: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([SEAL_VERSION]), iv, cipher.getAuthTag(), body]);
}

/** The secret, or undefined when the value was not sealed with this key for this user (tampered, wrong key). */
export function unseal(key: Buffer, sealed: Buffer | null | undefined, aad: string): string | undefined {
  if (!sealed || sealed.length < 1 + 12 + 16 + 1 || sealed[0] !== SEAL_VERSION) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 13));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(sealed.subarray(13, 29));
    return Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

function totp(secretBase32: string, label = 'user'): TOTP {
  return new TOTP({ issuer: ISSUER, label, secret: Secret.fromBase32(secretBase32), algorithm: 'SHA1', digits: DIGITS, period: TOTP_PERIOD_SECONDS });
}

/** A new random secret (160 bits, as RFC 4226 recommends) and its otpauth:// URI for `account`. */
export function newTotpSecret(account: string): { secret: string; uri: string } {
  const secret = new Secret({ size: 20 }).base32;
  return { secret, uri: totp(secret, account).toString() };
}

/** Six digits; spaces a user may type between groups are dropped. Undefined: not a code at all. */
export function normaliseCode(code: string): string | undefined {
  const c = code.replace(/[\s-]/g, '');
  return /^[0-9]{6}$/.test(c) ? c : undefined;
}

/**
 * The time step of a right code (the current one ±1), or undefined: a wrong code, or one whose step is not
 * after `lastStep` (a code already used, replayed within its window, or an older one).
 */
export function acceptCode(secretBase32: string, code: string, lastStep: number | null, now = Date.now()): number | undefined {
  const c = normaliseCode(code);
  if (!c) return undefined;
  const t = totp(secretBase32);
  const delta = t.validate({ token: c, timestamp: now, window: 1 });
  if (delta === null) return undefined;
  const step = t.counter({ timestamp: now }) + delta;
  if (lastStep !== null && step <= lastStep) return undefined;
  return step;
}

/** Readable: no 0/o, 1/l/i. */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
export const RECOVERY_CODE_COUNT = 10;

/** Ten codes `xxxx-xxxx` (~39 bits each). */
export function newRecoveryCodes(): string[] {
  const one = () => {
    let s = '';
    for (let i = 0; i < 8; i++) s += RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)];
    return `${s.slice(0, 4)}-${s.slice(4)}`;
  };
  const out = new Set<string>();
  while (out.size < RECOVERY_CODE_COUNT) out.add(one());
  return [...out];
}

/** A typed recovery code in its stored form (`xxxx-xxxx`, lower case), or undefined when it cannot be one. */
export function normaliseRecoveryCode(code: string): string | undefined {
  const c = code.trim().toLowerCase().replace(/[\s-]/g, '');
  if (c.length !== 8 || [...c].some((ch) => !RECOVERY_ALPHABET.includes(ch))) return undefined;
  return `${c.slice(0, 4)}-${c.slice(4)}`;
}

const CHALLENGE_RE = /^[A-Za-z0-9_-]{43}$/;

/** 32 random bytes, base64url (43 characters). */
export function newChallengeToken(): string {
  return randomBytes(32).toString('base64url');
}

export function isWellFormedChallengeToken(token: string): boolean {
  return CHALLENGE_RE.test(token);
}
