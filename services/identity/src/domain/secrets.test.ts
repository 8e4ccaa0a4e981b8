import {
  generateApiKeySecret,
  generatePublicFormId,
  generateSessionToken,
  isWellFormedPublicFormId,
  isWellFormedSessionToken,
  parseApiKeySecret,
  randomBase62,
  sameHash,
  sha256,
} from './secrets';

describe('API key secrets', () => {
  it('have the format crm_<8-char prefix>_<32 random bytes base64url> and parse back to their prefix', () => {
    for (let i = 0; i < 200; i++) {
      const { prefix, secret } = generateApiKeySecret();
      expect(prefix).toMatch(/^[A-Za-z0-9]{8}$/);
      expect(secret.startsWith(`crm_${prefix}_`)).toBe(true);
      const random = secret.slice(`crm_${prefix}_`.length);
      expect(Buffer.from(random, 'base64url')).toHaveLength(32);
      expect(parseApiKeySecret(secret)).toEqual({ prefix });
    }
  });

  it('parse even when the random part contains the separator characters _ and -', () => {
    const secret = `crm_AbCd1234_${'_-'.repeat(21)}x`;
    expect(parseApiKeySecret(secret)).toEqual({ prefix: 'AbCd1234' });
  });

  it('reject anything else', () => {
    const good = generateApiKeySecret().secret;
    for (const bad of ['', 'crm_', good.slice(0, -1), `${good}x`, good.replace('crm_', 'CRM_'), good.replace(/^crm_(.{8})_/, 'crm_$1-'), `crm_short_${good.slice(-43)}`, ` ${good}`, `crm_Ab+d1234_${good.slice(-43)}`]) {
      expect(parseApiKeySecret(bad)).toBeUndefined();
    }
  });

  it('are unique', () => {
    const secrets = new Set(Array.from({ length: 1000 }, () => generateApiKeySecret().secret));
    expect(secrets.size).toBe(1000);
  });
});

describe('session tokens, public form ids, hashes', () => {
  it('session tokens are 32 random bytes base64url and recognised by shape', () => {
    const t = generateSessionToken();
    expect(Buffer.from(t, 'base64url')).toHaveLength(32);
    expect(isWellFormedSessionToken(t)).toBe(true);
    expect(isWellFormedSessionToken(`${t}=`)).toBe(false);
    expect(isWellFormedSessionToken(t.slice(1))).toBe(false);
  });

  it('public form ids are pf_ + 16 base62 characters', () => {
    const id = generatePublicFormId();
    expect(id).toMatch(/^pf_[A-Za-z0-9]{16}$/);
    expect(isWellFormedPublicFormId(id)).toBe(true);
    expect(isWellFormedPublicFormId('pf_short')).toBe(false);
    expect(isWellFormedPublicFormId(`${id}'; --`)).toBe(false);
  });

  it('randomBase62 uses the whole alphabet', () => {
    const seen = new Set(randomBase62(5000));
    expect(seen.size).toBe(62);
  });

  it('sameHash compares SHA-256 digests, false for different values or lengths', () => {
    expect(sameHash(sha256('a'), sha256('a'))).toBe(true);
    expect(sameHash(sha256('a'), sha256('b'))).toBe(false);
    expect(sameHash(sha256('a'), sha256('a').subarray(1))).toBe(false);
  });
});
