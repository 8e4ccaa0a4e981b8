/**
 * Two-factor sign-in (issue 16 §3) against real PostgreSQL over real gRPC (identity in-process on a fresh
 * database): enrolment in settings, login → challenge → code → session, a replayed code refused, a wrong
 * code counted as a failed login, recovery codes used once, forged/expired/dead challenges, two parallel
 * submissions of one code, the tenant's policy (enrolment at login, disable refused), an admin's reset and
 * its cross-tenant 404, the secret sealed at rest, and malformed input. Codes are computed with otpauth.
 */
import { Role, SecondFactorStep, type Tenant, type User } from '@crm/contracts/crm/identity/v1/identity';
import { status } from '@crm/grpc';
import { createHash, randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { failure, MISSING, PASSWORD, platform, serviceFor, startIdentityHarness, userFor, type IdentityHarness } from './harness';


let h: IdentityHarness;
let identity: IdentityHarness['identity'];
let security: IdentityHarness['security'];

beforeAll(async () => {
  h = await startIdentityHarness('mfa', {
    // The throttle stays out of the way (its own test covers delays and locks); failures are still counted.
    LOGIN_DELAY_AFTER: '1000',
    LOGIN_ACCOUNT_LOCK_AFTER: '1000',
    LOGIN_ADDRESS_LOCK_AFTER: '100000',
    IDENTITY_SECRET_KEY: randomBytes(32).toString('base64'),
  });
  ({ identity, security } = h);
});

afterAll(() => h?.stop());

const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) => h.sql<T>(query, params);
const newTenant = () => h.newTenant();
const newUser = (tenant: Tenant, roles: Role[]) => h.newUser(tenant, roles);

/** The code of `secret` `steps` periods from now (the server accepts the current step ±1). */
function codeOf(secret: string, steps = 0): string {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: Date.now() + steps * 30_000 });
}

const login = (tenant: Tenant, user: User, password = PASSWORD) =>
  identity.login({ tenantSlug: tenant.slug, email: user.email, password, clientAddress: '203.0.113.7', userAgent: 'jest' }, platform);
const verify = (token: string, proof: { code: string } | { recoveryCode: string }) =>
  identity.verifySecondFactor(
    { challengeToken: token, proof: 'code' in proof ? { $case: 'code', value: proof.code } : { $case: 'recoveryCode', value: proof.recoveryCode }, clientAddress: '203.0.113.7', userAgent: 'jest' },
    platform,
  );

/** A user with TOTP on (enrolled in settings): their secret and recovery codes. */
async function enrolled(tenant: Tenant, roles = [Role.ROLE_SELLER]): Promise<{ user: User; secret: string; codes: string[] }> {
  const user = await newUser(tenant, roles);
  const { enrollment } = await security.beginOwnTotpEnrollment({}, userFor(tenant, user));
  const { codes } = await security.confirmOwnTotpEnrollment({ code: codeOf(enrollment!.secret) }, userFor(tenant, user));
  return { user, secret: enrollment!.secret, codes };
}

async function audits(tenant: Tenant, action: string): Promise<{ target: string; actor_id: string }[]> {
  return sql('SELECT target, actor_id FROM audit_log WHERE tenant_id = ? AND action = ? ORDER BY at', [tenant.id, action]);
}

describe('enrolment in settings', () => {
  it('begins with a pending secret, confirms with a current code, answers ten recovery codes once and seals the secret', async () => {
    const tenant = await newTenant();
    const user = await newUser(tenant, [Role.ROLE_SELLER]);
    const me = userFor(tenant, user);
    expect((await security.getOwnTwoFactor({}, me)).state).toEqual({ enabled: false, recoveryCodesLeft: 0, required: false, pending: false });

    const { enrollment } = await security.beginOwnTotpEnrollment({}, me);
    expect(enrollment!.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(enrollment!.otpauthUri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(enrollment!.secret);
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect((await security.getOwnTwoFactor({}, me)).state).toMatchObject({ enabled: false, pending: true });

    // Malformed, oversized and wrong codes: 400 with the field; nothing enabled.
    for (const code of ['', '12345', 'abcdef', '1'.repeat(10_000)]) {
      const err = await failure(security.confirmOwnTotpEnrollment({ code }, me));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
    }
    const wrong = String((Number(codeOf(enrollment!.secret)) + 500_000) % 1_000_000).padStart(6, '0');
    expect((await failure(security.confirmOwnTotpEnrollment({ code: wrong }, me))).code).toBe(status.INVALID_ARGUMENT);
    expect((await security.getOwnTwoFactor({}, me)).state).toMatchObject({ enabled: false });

    const { codes } = await security.confirmOwnTotpEnrollment({ code: codeOf(enrollment!.secret) }, me);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[a-hj-km-np-z2-9]{4}-[a-hj-km-np-z2-9]{4}$/);
    const state = (await security.getOwnTwoFactor({}, me)).state!;
    expect(state).toMatchObject({ enabled: true, recoveryCodesLeft: 10, pending: false });
    expect(Date.parse(state.enabledAt!)).toBeGreaterThan(Date.now() - 60_000);

    // A second confirm or begin (duplicate): FAILED_PRECONDITION.
    expect((await failure(security.confirmOwnTotpEnrollment({ code: codeOf(enrollment!.secret) }, me))).code).toBe(status.FAILED_PRECONDITION);
    expect((await failure(security.beginOwnTotpEnrollment({}, me))).code).toBe(status.FAILED_PRECONDITION);

    // At rest: the secret sealed (not its base32, nor its bytes), recovery codes only as SHA-256.
    const [row] = await sql<{ totp_secret: Buffer; totp_pending_secret: Buffer | null }>('SELECT totp_secret, totp_pending_secret FROM users WHERE id = ?', [user.id]);
    expect(row.totp_pending_secret).toBeNull();
    expect(row.totp_secret.toString('latin1')).not.toContain(enrollment!.secret);
    expect(row.totp_secret.includes(Buffer.from(Secret.fromBase32(enrollment!.secret).bytes))).toBe(false);
    const hashes = await sql<{ code_hash: Buffer }>('SELECT code_hash FROM recovery_codes WHERE user_id = ?', [user.id]);
    expect(hashes.map((h) => h.code_hash.toString('hex')).sort()).toEqual(codes.map((c) => createHash('sha256').update(c).digest('hex')).sort());
    expect(await audits(tenant, 'two_factor.enabled')).toEqual([{ target: `user:${user.id}`, actor_id: user.id }]);
  });

  it('is for signed-in users only: an API key or a service is refused', async () => {
    const tenant = await newTenant();
    expect((await failure(security.getOwnTwoFactor({}, serviceFor(tenant)))).code).toBe(status.PERMISSION_DENIED);
    expect((await failure(security.beginOwnTotpEnrollment({}, { tenantId: tenant.id, callerId: MISSING, callerKind: 'api_key' }))).code).toBe(status.PERMISSION_DENIED);
  });
});

describe('login with a second factor', () => {
  it('answers a challenge instead of a session; a code opens it; the same code replayed is refused', async () => {
    const tenant = await newTenant();
    const { user, secret } = await enrolled(tenant);
    const first = await login(tenant, user);
    expect(first).toMatchObject({ sessionToken: '', secondFactor: SecondFactorStep.SECOND_FACTOR_STEP_CODE });
    expect(first.challengeToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(first.challengeExpiresAt) - Date.now()).toBeGreaterThan(200_000);
    const [stored] = await sql<{ token_hash: Buffer }>('SELECT token_hash FROM login_challenges WHERE user_id = ?', [user.id]);
    expect(stored.token_hash.equals(createHash('sha256').update(first.challengeToken).digest())).toBe(true);

    // The enrolment used the current step: the next step's code is the first one a login can use.
    const code = codeOf(secret, 1);
    const s = await verify(first.challengeToken, { code });
    expect(s.sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.principal).toMatchObject({ subjectId: user.id, tenantId: tenant.id });
    expect(s.recoveryCodes).toEqual([]);
    const { principal } = await identity.authenticate({ credential: { $case: 'sessionToken', value: s.sessionToken } }, platform);
    expect(principal!.subjectId).toBe(user.id);

    // The challenge is used; a new one with the very same code (replayed within its window) is refused.
    expect((await failure(verify(first.challengeToken, { code }))).code).toBe(status.UNAUTHENTICATED);
    const again = await login(tenant, user);
    expect((await failure(verify(again.challengeToken, { code }))).code).toBe(status.UNAUTHENTICATED);
    // …and so is the previous step's code (older than the one used).
    expect((await failure(verify(again.challengeToken, { code: codeOf(secret, 0) }))).code).toBe(status.UNAUTHENTICATED);
  });

  it('counts a wrong code as a failed login and kills the challenge after five wrong codes', async () => {
    const tenant = await newTenant();
    const { user, secret } = await enrolled(tenant);
    const ch = await login(tenant, user);
    const bad = ['', '000000x', '1'.repeat(5000), 'aaaa-aaaa'];
    for (const code of bad) expect((await failure(verify(ch.challengeToken, { code }))).code).toBe(status.UNAUTHENTICATED);
    const [throttle] = await sql<{ failures: number }>("SELECT failures FROM login_throttle WHERE kind = 'account' AND email = ?", [user.email]);
    expect(throttle.failures).toBeGreaterThanOrEqual(bad.length);
    // Fifth wrong one: dead; even the right code cannot revive it.
    expect((await failure(verify(ch.challengeToken, { recoveryCode: 'zzzz-zzzz' }))).code).toBe(status.UNAUTHENTICATED);
    expect((await failure(verify(ch.challengeToken, { code: codeOf(secret, 1) }))).code).toBe(status.UNAUTHENTICATED);
    const [row] = await sql<{ attempts: number; used_at: unknown }>('SELECT attempts, used_at FROM login_challenges WHERE token_hash = ?', [createHash('sha256').update(ch.challengeToken).digest()]);
    expect(row).toEqual({ attempts: 5, used_at: null });
    // A new login (password again) gets a new challenge that works.
    const fresh = await login(tenant, user);
    expect((await verify(fresh.challengeToken, { code: codeOf(secret, 1) })).sessionToken).not.toBe('');
  });

  it('takes a recovery code once', async () => {
    const tenant = await newTenant();
    const { user, codes } = await enrolled(tenant);
    const a = await login(tenant, user);
    // Typed in upper case with spaces: still the code.
    const s = await verify(a.challengeToken, { recoveryCode: ` ${codes[3].toUpperCase().replace('-', ' ')} ` });
    expect(s.sessionToken).not.toBe('');
    expect((await security.getOwnTwoFactor({}, userFor(tenant, user))).state!.recoveryCodesLeft).toBe(9);
    const b = await login(tenant, user);
    expect((await failure(verify(b.challengeToken, { recoveryCode: codes[3] }))).code).toBe(status.UNAUTHENTICATED);
    expect(await audits(tenant, 'login.recovery_code_used')).toEqual([{ target: `user:${user.id}`, actor_id: user.id }]);
  });

  it('refuses a forged, malformed, expired or other user’s challenge', async () => {
    const tenant = await newTenant();
    const { user, secret } = await enrolled(tenant);
    for (const token of ['', 'x', randomBytes(32).toString('base64url'), 'A'.repeat(10_000)]) {
      expect((await failure(verify(token, { code: codeOf(secret, 1) }))).code).toBe(status.UNAUTHENTICATED);
      expect((await failure(identity.beginLoginEnrollment({ challengeToken: token }, platform))).code).toBe(status.UNAUTHENTICATED);
    }
    const ch = await login(tenant, user);
    await sql("UPDATE login_challenges SET expires_at = now() - interval '1 second' WHERE token_hash = ?", [createHash('sha256').update(ch.challengeToken).digest()]);
    expect((await failure(verify(ch.challengeToken, { code: codeOf(secret, 1) }))).code).toBe(status.UNAUTHENTICATED);
    // Another user's right code does not open this user's challenge.
    const other = await enrolled(tenant);
    const ch2 = await login(tenant, user);
    expect((await failure(verify(ch2.challengeToken, { code: codeOf(other.secret, 1) }))).code).toBe(status.UNAUTHENTICATED);
    // A code challenge is not an enrolment.
    expect((await failure(identity.beginLoginEnrollment({ challengeToken: ch2.challengeToken }, platform))).code).toBe(status.FAILED_PRECONDITION);
  });

  it('lets only one of two parallel submissions of the same code succeed', async () => {
    const tenant = await newTenant();
    const { user, secret } = await enrolled(tenant);
    const ch = await login(tenant, user);
    const code = codeOf(secret, 1);
    const results = await Promise.allSettled([verify(ch.challengeToken, { code }), verify(ch.challengeToken, { code }), verify(ch.challengeToken, { code })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const [n] = await sql<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE user_id = ?', [user.id]);
    expect(n.n).toBe(1);
  });
});

describe('the tenant policy', () => {
  it('makes an admin without TOTP enrol at login, and then refuses to turn it off', async () => {
    const tenant = await newTenant();
    const admin = await newUser(tenant, [Role.ROLE_ADMIN]);
    const seller = await newUser(tenant, [Role.ROLE_SELLER]);
    expect((await security.getSecurityPolicy({}, userFor(tenant, admin))).policy).toEqual({ requireSecondFactorForPrivileged: false });
    // Only admins: a seller is refused.
    expect((await failure(security.updateSecurityPolicy({ requireSecondFactorForPrivileged: true }, userFor(tenant, seller)))).code).toBe(status.PERMISSION_DENIED);
    const { policy } = await security.updateSecurityPolicy({ requireSecondFactorForPrivileged: true }, userFor(tenant, admin));
    expect(policy).toEqual({ requireSecondFactorForPrivileged: true });
    // The same change again is a no-op (audited once).
    await security.updateSecurityPolicy({ requireSecondFactorForPrivileged: true }, userFor(tenant, admin));
    expect(await audits(tenant, 'security.policy_updated')).toHaveLength(1);

    // A seller is not concerned: a session straight away.
    expect((await login(tenant, seller)).sessionToken).not.toBe('');

    const ch = await login(tenant, admin);
    expect(ch).toMatchObject({ sessionToken: '', secondFactor: SecondFactorStep.SECOND_FACTOR_STEP_ENROLL });
    // No secret yet: a code cannot succeed (and a recovery code is no way around enrolment).
    expect((await failure(verify(ch.challengeToken, { recoveryCode: 'abcd-efgh' }))).code).toBe(status.UNAUTHENTICATED);
    const { enrollment } = await identity.beginLoginEnrollment({ challengeToken: ch.challengeToken }, platform);
    const s = await verify(ch.challengeToken, { code: codeOf(enrollment!.secret) });
    expect(s.sessionToken).not.toBe('');
    expect(s.recoveryCodes).toHaveLength(10);
    const me = userFor(tenant, admin);
    expect((await security.getOwnTwoFactor({}, me)).state).toMatchObject({ enabled: true, required: true, recoveryCodesLeft: 10 });

    // The next login asks for a code; turning it off is refused while the policy requires it.
    expect((await login(tenant, admin)).secondFactor).toBe(SecondFactorStep.SECOND_FACTOR_STEP_CODE);
    const refused = await failure(security.disableOwnTotp({ proof: { $case: 'code', value: codeOf(enrollment!.secret, 1) } }, me));
    expect(refused.code).toBe(status.FAILED_PRECONDITION);
    expect((await security.getOwnTwoFactor({}, me)).state!.enabled).toBe(true);

    // Policy off: the admin may turn it off with a code (a used one is refused first).
    await security.updateSecurityPolicy({ requireSecondFactorForPrivileged: false }, me);
    expect((await failure(security.disableOwnTotp({ proof: { $case: 'code', value: codeOf(enrollment!.secret, 0) } }, me))).code).toBe(status.INVALID_ARGUMENT);
    const off = await security.disableOwnTotp({ proof: { $case: 'code', value: codeOf(enrollment!.secret, 1) } }, me);
    expect(off.state).toMatchObject({ enabled: false, recoveryCodesLeft: 0, required: false });
    expect((await login(tenant, admin)).sessionToken).not.toBe('');
    expect(await audits(tenant, 'two_factor.disabled')).toEqual([{ target: `user:${admin.id}`, actor_id: admin.id }]);
  });
});

describe('recovery codes and the admin reset', () => {
  it('regenerates recovery codes with a current code (the old ones stop working) and disables with a recovery code', async () => {
    const tenant = await newTenant();
    const { user, secret, codes } = await enrolled(tenant);
    const me = userFor(tenant, user);
    expect((await failure(security.regenerateOwnRecoveryCodes({ code: '' }, me))).code).toBe(status.INVALID_ARGUMENT);
    const { codes: fresh } = await security.regenerateOwnRecoveryCodes({ code: codeOf(secret, 1) }, me);
    expect(fresh).toHaveLength(10);
    expect(fresh.some((c) => codes.includes(c))).toBe(false);
    expect((await failure(security.disableOwnTotp({ proof: { $case: 'recoveryCode', value: codes[0] } }, me))).code).toBe(status.INVALID_ARGUMENT);
    expect((await security.disableOwnTotp({ proof: { $case: 'recoveryCode', value: fresh[0] } }, me)).state!.enabled).toBe(false);
    expect(await audits(tenant, 'two_factor.recovery_codes_regenerated')).toHaveLength(1);
    // Off already: FAILED_PRECONDITION.
    expect((await failure(security.disableOwnTotp({ proof: { $case: 'recoveryCode', value: fresh[1] } }, me))).code).toBe(status.FAILED_PRECONDITION);
  });

  it('refuses code checks in settings for a while after five wrong codes (a stolen session cannot guess its way to turning it off)', async () => {
    const tenant = await newTenant();
    const { user, secret } = await enrolled(tenant);
    const me = userFor(tenant, user);
    const wrong = String((Number(codeOf(secret, 1)) + 500_000) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < 5; i++) expect((await failure(security.disableOwnTotp({ proof: { $case: 'code', value: wrong } }, me))).code).toBe(status.INVALID_ARGUMENT);
    const refused = await failure(security.disableOwnTotp({ proof: { $case: 'code', value: codeOf(secret, 1) } }, me));
    expect(refused.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(refused.metadata.get('x-error-reason')).toEqual(['too_many_codes']);
    const details = JSON.parse(String(refused.metadata.get('x-error-details')[0] ?? '{}')) as { retry_at?: string };
    expect(Date.parse(details.retry_at!) - Date.now()).toBeGreaterThan(14 * 60_000);
    expect((await failure(security.regenerateOwnRecoveryCodes({ code: codeOf(secret, 1) }, me))).code).toBe(status.RESOURCE_EXHAUSTED);
    expect((await security.getOwnTwoFactor({}, me)).state!.enabled).toBe(true);
    expect(await audits(tenant, 'two_factor.code_refused')).toHaveLength(5);
    // Another user of the tenant is not affected.
    const other = await enrolled(tenant);
    expect((await security.regenerateOwnRecoveryCodes({ code: codeOf(other.secret, 1) }, userFor(tenant, other.user))).codes).toHaveLength(10);
  });

  it("lets an admin reset a user's TOTP (their sessions end), and answers 404 for another tenant's user", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const adminA = await newUser(a, [Role.ROLE_ADMIN]);
    const adminB = await newUser(b, [Role.ROLE_ADMIN]);
    const { user, secret } = await enrolled(a);
    const s = await verify((await login(a, user)).challengeToken, { code: codeOf(secret, 1) });
    const pending = await login(a, user);

    for (const userId of [user.id, MISSING, 'not-a-uuid', 'x'.repeat(5000)]) {
      expect((await failure(security.resetUserTwoFactor({ userId }, userFor(b, adminB)))).code).toBe(status.NOT_FOUND);
    }
    expect((await failure(security.resetUserTwoFactor({ userId: user.id }, userFor(a, user)))).code).toBe(status.PERMISSION_DENIED);
    expect((await security.getOwnTwoFactor({}, userFor(a, user))).state!.enabled).toBe(true);

    const { state } = await security.resetUserTwoFactor({ userId: user.id }, userFor(a, adminA));
    expect(state).toMatchObject({ enabled: false, recoveryCodesLeft: 0 });
    expect((await failure(identity.authenticate({ credential: { $case: 'sessionToken', value: s.sessionToken } }, platform))).code).toBe(status.UNAUTHENTICATED);
    // A challenge opened before the reset cannot complete after it.
    expect((await failure(verify(pending.challengeToken, { code: codeOf(secret, 1) }))).code).toBe(status.UNAUTHENTICATED);
    expect((await login(a, user)).sessionToken).not.toBe('');
    expect(await audits(a, 'two_factor.reset')).toEqual([{ target: `user:${user.id}`, actor_id: adminA.id }]);
    expect(await audits(b, 'two_factor.reset')).toEqual([]);
  });
});
