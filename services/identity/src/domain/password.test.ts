import { dummyPasswordHash, hashPassword, verifyPassword } from './password';

describe('password hashing (scrypt)', () => {
  it('stores the parameters, a 16-byte salt and a 64-byte key, and verifies the right password only', async () => {
    const stored = await hashPassword('correct horse battery');
    const [alg, N, r, p, salt, key] = stored.split('$');
    expect([alg, N, r, p]).toEqual(['scrypt', '16384', '8', '1']);
    expect(Buffer.from(salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(key, 'base64')).toHaveLength(64);
    await expect(verifyPassword('correct horse battery', stored)).resolves.toBe(true);
    await expect(verifyPassword('correct horse batterY', stored)).resolves.toBe(false);
    await expect(verifyPassword('', stored)).resolves.toBe(false);
  });

  it('salts every hash: the same password hashes differently', async () => {
    const [a, b] = await Promise.all([hashPassword('same password'), hashPassword('same password')]);
    expect(a).not.toBe(b);
    await expect(verifyPassword('same password', b)).resolves.toBe(true);
  });

  it('verifies with the parameters stored in the hash (so they can be raised later)', async () => {
    // A hash made with other parameters (N=1024, 32-byte key) still verifies.
    const { scryptSync } = await import('node:crypto');
    const salt = Buffer.alloc(16, 7);
    const key = scryptSync('legacy pass', salt, 32, { N: 1024, r: 8, p: 1 });
    const stored = `scrypt$1024$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
    await expect(verifyPassword('legacy pass', stored)).resolves.toBe(true);
    await expect(verifyPassword('legacy pasS', stored)).resolves.toBe(false);
  });

  it('treats a malformed stored value as a mismatch, not an error', async () => {
    await expect(verifyPassword('x', 'plaintext')).resolves.toBe(false);
    await expect(verifyPassword('x', 'scrypt$1000$8$1$AAAA$AAAA')).resolves.toBe(false); // N not a power of two
    await expect(verifyPassword('x', 'scrypt$16384$8$1$AAAA$')).resolves.toBe(false);
  });

  it('normalises Unicode, so the same password typed in another normal form matches', async () => {
    const stored = await hashPassword('caf\u00e9-password');
    await expect(verifyPassword('cafe\u0301-password', stored)).resolves.toBe(true);
  });

  it('has a dummy hash (for unknown accounts at login) that no password is expected to match', async () => {
    const dummy = await dummyPasswordHash();
    expect(dummy).toMatch(/^scrypt\$16384\$8\$1\$/);
    await expect(verifyPassword('password', dummy)).resolves.toBe(false);
    expect(await dummyPasswordHash()).toBe(dummy);
  });
});
