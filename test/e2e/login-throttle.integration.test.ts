/**
 * The login throttle (issue 16 §1) through the gateway, over real HTTP, in front of real identity with its
 * default delays and locks: guessing one account's password ends in 429 problem+json with `retry_at`, a
 * clear message and `Retry-After`; the right password is refused during the lock; an admin lists the
 * locked account (e-mail, user, failures, the client address from X-Forwarded-For behind TRUST_PROXY) and
 * unlocks it through REST, after which the right password works; another tenant's admin gets 404, a
 * malformed id 400, a seller or a key without identity:admin 403, no credential 401; each attempt is in
 * the audit log.
 */
import { IdentityServiceService, Role } from '@crm/contracts/crm/identity/v1/identity';
import { createClient } from '@crm/grpc';
import { startPlatform, type Platform } from '../support/platform';

let platform: Platform;
let base: string;
const SELLER_PASSWORD = 'seller password 1';
const seller = { email: 'seller@a.test', id: '' };
const ZERO_ID = '01936f5e-1234-7abc-8def-0123456789ab';
const ATTACKER = '203.0.113.7';

interface Res {
  status: number;
  type: string;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON under test
  body: any;
}

async function call(path: string, init: RequestInit & { cookie?: string; key?: string; from?: string } = {}): Promise<Res> {
  const headers = new Headers(init.headers);
  if (init.cookie) {
    headers.set('cookie', init.cookie);
    headers.set('x-crm-csrf', '1');
  }
  if (init.key) headers.set('authorization', `Bearer ${init.key}`);
  if (init.from) headers.set('x-forwarded-for', init.from);
  if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const res = await fetch(`${base}${path}`, { ...init, headers });
  const text = await res.text();
  const json = (res.headers.get('content-type') ?? '').includes('json');
  return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, body: text && json ? JSON.parse(text) : text };
}

const login = (tenant: string, email: string, password: string, from: string) =>
  call('/v1/session', { method: 'POST', body: JSON.stringify({ tenant, email, password }), from, headers: { 'user-agent': 'e2e-throttle' } });

async function cookieOf(tenant: 'a' | 'b'): Promise<string> {
  const t = platform.tenants[tenant];
  const res = await login(t.slug, t.adminEmail, t.adminPassword, `198.51.100.${tenant === 'a' ? 1 : 2}`);
  expect(res.status).toBe(200);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

beforeAll(async () => {
  // X-Forwarded-For is believed only behind a proxy the operator trusts (TRUST_PROXY).
  platform = await startPlatform({ gatewayEnv: { TRUST_PROXY: 'true' } });
  base = platform.base;
  const identity = createClient(IdentityServiceService, { address: platform.identityAddr });
  const ctx = { tenantId: platform.tenants.a.id, callerId: 'e2e', callerKind: 'service' as const };
  seller.id = (await identity.createUser({ email: seller.email, displayName: 'Seller A', password: SELLER_PASSWORD, roles: [Role.ROLE_SELLER] }, ctx)).user!.id;
  identity.close();
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

describe('guessing a password through the gateway', () => {
  let lockId = '';
  let adminA = '';

  it('ends in 429 with Retry-After, retry_at and a clear message; the right password is refused during the lock', async () => {
    const a = platform.tenants.a;
    const answers: Res[] = [];
    for (let i = 0; i < 12; i++) answers.push(await login(a.slug, seller.email, `guess-${i}`, ATTACKER));
    expect(answers.slice(0, 3).map((r) => r.status)).toEqual([401, 401, 401]);
    expect(answers.every((r) => r.status === 401 || r.status === 429)).toBe(true);
    // A 401 says nothing of why; a 429 says when.
    expect(answers[0]!.body).toMatchObject({ status: 401, detail: 'invalid credentials' });
    for (const r of answers.filter((x) => x.status === 429)) {
      expect(r.type).toMatch(/^application\/problem\+json/);
      expect(r.body).toMatchObject({ status: 429, code: 'RESOURCE_EXHAUSTED', retry_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/), reason: expect.stringMatching(/^(too_soon|account_locked)$/) });
      expect(r.body.detail).toContain(`try again after ${r.body.retry_at}`);
      const after = Number(r.headers.get('retry-after'));
      expect(Number.isInteger(after)).toBe(true);
      expect(after).toBeGreaterThanOrEqual(1);
      expect(Math.abs(Date.now() + after * 1000 - Date.parse(r.body.retry_at))).toBeLessThan(2500);
    }
    const last = answers[11]!;
    expect(last.body).toMatchObject({ reason: 'account_locked', detail: `too many failed sign-in attempts; try again after ${last.body.retry_at}` });
    // The default lock: LOGIN_LOCK_SECONDS = 900.
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(880);
    expect(Number(last.headers.get('retry-after'))).toBeLessThanOrEqual(901);

    const right = await login(a.slug, seller.email, SELLER_PASSWORD, '192.0.2.55');
    expect(right.status).toBe(429);
    expect(right.body).toMatchObject({ reason: 'account_locked', retry_at: last.body.retry_at });
    expect(right.headers.get('set-cookie')).toBeNull();
  });

  it('an admin sees the locked account and unlocks it; the right password then works', async () => {
    adminA = await cookieOf('a');
    const list = await call('/v1/security/login-locks', { cookie: adminA });
    expect(list.status).toBe(200);
    expect(list.body.next_cursor).toBeNull();
    const [lock] = list.body.items;
    expect(lock).toMatchObject({ email: seller.email, user_id: seller.id, failures: 13, locked: true, last_address: '192.0.2.55', locked_until: expect.stringMatching(/Z$/) });
    lockId = lock.id;
    const locked = await call('/v1/security/login-locks?locked_only=true&limit=10', { cookie: adminA });
    expect(locked.body.items.map((l: { id: string }) => l.id)).toEqual([lockId]);

    // Cross-tenant: B's admin sees none of A's and cannot unlock it.
    const adminB = await cookieOf('b');
    expect((await call('/v1/security/login-locks', { cookie: adminB })).body).toEqual({ items: [], next_cursor: null });
    expect((await call(`/v1/security/login-locks/${lockId}`, { method: 'DELETE', cookie: adminB })).status).toBe(404);
    expect((await call(`/v1/security/login-locks/${ZERO_ID}`, { method: 'DELETE', cookie: adminA })).status).toBe(404);

    const unlocked = await call(`/v1/security/login-locks/${lockId}`, { method: 'DELETE', cookie: adminA });
    expect(unlocked.status).toBe(200);
    expect(unlocked.body).toMatchObject({ id: lockId, email: seller.email, failures: 0, locked: false, locked_until: null });
    // Idempotent.
    expect((await call(`/v1/security/login-locks/${lockId}`, { method: 'DELETE', cookie: adminA })).status).toBe(200);
    const ok = await login(platform.tenants.a.slug, seller.email, SELLER_PASSWORD, '192.0.2.55');
    expect(ok.status).toBe(200);
    // A session cleared the account's row: it is no longer listed.
    expect((await call('/v1/security/login-locks', { cookie: adminA })).body.items).toEqual([]);
  });

  it('refuses malformed input, non-admins and no credential', async () => {
    const bad = ['?limit=0', '?limit=201', '?limit=x', '?cursor=%21%21', '?locked_only=maybe', '?what=1'];
    for (const q of bad) {
      const res = await call(`/v1/security/login-locks${q}`, { cookie: adminA });
      expect({ q, status: res.status, code: res.body.code }).toEqual({ q, status: 400, code: 'INVALID_ARGUMENT' });
    }
    const garbage = await call(`/v1/security/login-locks?cursor=${'Z'.repeat(40)}`, { cookie: adminA });
    expect(garbage.status).toBe(400);
    for (const id of ['not-a-uuid', '1', `${ZERO_ID}x`]) {
      expect((await call(`/v1/security/login-locks/${id}`, { method: 'DELETE', cookie: adminA })).status).toBe(400);
    }
    // A key without identity:admin, and a seller's session: 403.
    expect((await call('/v1/security/login-locks', { key: platform.tenants.a.apiKey })).status).toBe(403);
    expect((await call(`/v1/security/login-locks/${lockId}`, { method: 'DELETE', key: platform.tenants.a.apiKey })).status).toBe(403);
    const sellerLogin = await login(platform.tenants.a.slug, seller.email, SELLER_PASSWORD, '192.0.2.56');
    const sellerCookie = sellerLogin.headers.get('set-cookie')!.split(';')[0]!;
    expect((await call('/v1/security/login-locks', { cookie: sellerCookie })).status).toBe(403);
    expect((await call(`/v1/security/login-locks/${lockId}`, { method: 'DELETE', cookie: sellerCookie })).status).toBe(403);
    expect((await call('/v1/security/login-locks')).status).toBe(401);
  });

  it('every attempt is in the audit log, with its address and user agent', async () => {
    const res = await call('/v1/audit?limit=200', { cookie: adminA });
    expect(res.status).toBe(200);
    const mine = res.body.items.filter((e: { target_id: string; details: { email?: string } }) => e.target_id === seller.id || e.details?.email === seller.email);
    const count = (action: string) => mine.filter((e: { action: string }) => e.action === action).length;
    // 12 guesses + the right password during the lock; then two sessions; the lock; the unlock.
    expect(count('login.failed') + count('login.refused')).toBe(13);
    expect(count('login.succeeded')).toBe(2);
    expect(count('login.locked')).toBe(1);
    expect(count('login.unlocked')).toBe(1);
    const guess = mine.find((e: { action: string }) => e.action === 'login.failed');
    expect(guess.details).toMatchObject({ email: seller.email, address: ATTACKER, user_agent: 'e2e-throttle', reason: 'password' });
  });
});
