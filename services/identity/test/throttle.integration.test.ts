/**
 * The login throttle (issue 16 §1) against real PostgreSQL over real gRPC (identity in-process on a fresh
 * database, short locks and delays): 20 wrong passwords from one address and from 20 addresses lock the
 * account with a clear message, the right password is refused during the lock and works when it ends,
 * every attempt is audited; an unknown e-mail answers exactly like a wrong password; one address against
 * many accounts locks the address; 20 concurrent failures are all counted and start one lock; an admin
 * lists and unlocks (cross-tenant NOT_FOUND, non-admin PERMISSION_DENIED, malformed cursor/page size).
 */
import { Role, type Tenant } from '@crm/contracts/crm/identity/v1/identity';
import { status, type ServiceError } from '@crm/grpc';
import { uniqueName } from '@crm/testing';
import { failure, MISSING, PASSWORD, platform, startIdentityHarness, userFor, type IdentityHarness } from './harness';

const LOCK_SECONDS = 3;
const ACCOUNT_LOCK_AFTER = 10;
const ADDRESS_LOCK_AFTER = 30;
const DELAY_MAX_MS = 200;

let h: IdentityHarness;
let identity: IdentityHarness['identity'];
let security: IdentityHarness['security'];

beforeAll(async () => {
  h = await startIdentityHarness('throttle', {
    LOGIN_DELAY_AFTER: '3',
    LOGIN_DELAY_BASE_MS: '50',
    LOGIN_DELAY_MAX_MS: String(DELAY_MAX_MS),
    LOGIN_ACCOUNT_LOCK_AFTER: String(ACCOUNT_LOCK_AFTER),
    LOGIN_ADDRESS_LOCK_AFTER: String(ADDRESS_LOCK_AFTER),
    LOGIN_LOCK_SECONDS: String(LOCK_SECONDS),
  });
  ({ identity, security } = h);
});

afterAll(() => h?.stop());

const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) => h.sql<T>(query, params);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const newTenant = () => h.newTenant();
const newUser = (tenant: Tenant, roles: Role[] = [Role.ROLE_SELLER]) => h.newUser(tenant, roles);

/** What a login answered, reduced to what a client sees: code, message, reason and retry_at. */
interface Answer {
  ok: boolean;
  code?: number;
  message?: string;
  reason?: string;
  retryAt?: string;
}

async function login(tenant: Tenant | string, email: string, password: string, clientAddress: string): Promise<Answer> {
  const tenantSlug = typeof tenant === 'string' ? tenant : tenant.slug;
  try {
    await identity.login({ tenantSlug, email, password, clientAddress, userAgent: 'jest/throttle' }, platform);
    return { ok: true };
  } catch (err) {
    const e = err as ServiceError;
    const details = e.metadata?.get('x-error-details')[0]?.toString();
    return {
      ok: false,
      code: e.code,
      message: e.details,
      reason: e.metadata?.get('x-error-reason')[0]?.toString(),
      retryAt: details ? (JSON.parse(details) as { retry_at?: string }).retry_at : undefined,
    };
  }
}

async function auditCounts(tenant: Tenant): Promise<Record<string, number>> {
  const rows = await sql<{ action: string; n: number }>("SELECT action, count(*)::int AS n FROM audit_log WHERE tenant_id = ? AND action LIKE 'login.%' GROUP BY action", [tenant.id]);
  return Object.fromEntries(rows.map((r) => [r.action, r.n]));
}

async function throttleRow(key: string) {
  return (await sql<{ failures: number; locked: boolean }>('SELECT failures, COALESCE(locked_until > now(), false) AS locked FROM login_throttle WHERE key = ?', [key]))[0];
}

const LOCKED_MESSAGE = /^too many failed sign-in attempts; try again after \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

describe('an account under guessing', () => {
  it('20 wrong passwords from one address lock it; the right one is refused until the lock ends on time; every attempt is audited', async () => {
    const tenant = await newTenant();
    const user = await newUser(tenant);
    const addr = '10.1.0.1';
    const answers: Answer[] = [];
    for (let i = 0; i < 20; i++) answers.push(await login(tenant, user.email, 'wrong-password', addr));
    // The first three are plain wrong passwords; then delays and the lock answer RESOURCE_EXHAUSTED.
    expect(answers.slice(0, 3).map((a) => a.code)).toEqual([status.UNAUTHENTICATED, status.UNAUTHENTICATED, status.UNAUTHENTICATED]);
    expect(answers.every((a) => a.code === status.UNAUTHENTICATED || a.code === status.RESOURCE_EXHAUSTED)).toBe(true);
    const last = answers[19]!;
    expect(last).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'account_locked', message: expect.stringMatching(LOCKED_MESSAGE) });
    expect(last.message).toContain(last.retryAt);
    // Refused attempts count too: the tenth attempt (a wrong password, or one refused as too soon) locked
    // it, and every later one was refused as locked.
    const first = answers.findIndex((a) => a.reason === 'account_locked');
    expect([ACCOUNT_LOCK_AFTER - 1, ACCOUNT_LOCK_AFTER]).toContain(first);
    expect(answers.slice(first).every((a) => a.reason === 'account_locked' && a.retryAt === last.retryAt)).toBe(true);
    expect(answers.slice(0, first).every((a) => a.code === status.UNAUTHENTICATED || a.reason === 'too_soon')).toBe(true);

    // The right password during the lock: refused before any hash, with the same lock's time.
    const during = await login(tenant, user.email, PASSWORD, addr);
    expect(during).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'account_locked', retryAt: last.retryAt });

    // The lock lasts LOGIN_LOCK_SECONDS from the attempt that started it (retry_at rounds up to a second).
    const [locked] = await sql<{ at: number; details: { kind: string; failures: number } }>(
      "SELECT extract(epoch FROM at)::float8 AS at, details FROM audit_log WHERE tenant_id = ? AND action = 'login.locked'",
      [tenant.id],
    );
    expect(locked!.details).toMatchObject({ kind: 'account', failures: ACCOUNT_LOCK_AFTER });
    const retryAt = Date.parse(last.retryAt!);
    expect(retryAt / 1000 - locked!.at).toBeGreaterThanOrEqual(LOCK_SECONDS - 0.05);
    expect(retryAt / 1000 - locked!.at).toBeLessThanOrEqual(LOCK_SECONDS + 1.05);

    await sleep(Math.max(0, retryAt - Date.now()) + 50);
    // After the lock the count starts again from 0: one wrong password is failure 1, a plain 401.
    expect(await login(tenant, user.email, 'wrong-password', addr)).toMatchObject({ code: status.UNAUTHENTICATED, message: 'invalid credentials' });
    expect(await throttleRow(`account:${tenant.slug}:${user.email}`)).toMatchObject({ failures: 1, locked: false });
    expect(await login(tenant, user.email, PASSWORD, addr)).toEqual({ ok: true });
    // A session clears the account's row (the address keeps its count).
    expect(await throttleRow(`account:${tenant.slug}:${user.email}`)).toBeUndefined();
    expect((await throttleRow(`address:${addr}`))?.failures).toBe(22);

    // 20 + 1 refused + 1 wrong + 1 success attempts: each audited once, plus the one lock.
    const audit = await auditCounts(tenant);
    expect((audit['login.failed'] ?? 0) + (audit['login.refused'] ?? 0)).toBe(22);
    expect(audit).toMatchObject({ 'login.succeeded': 1, 'login.locked': 1 });
    const [ok] = await sql<{ actor_kind: string; actor_id: string; target: string; details: Record<string, unknown> }>(
      "SELECT actor_kind, actor_id, target, details FROM audit_log WHERE tenant_id = ? AND action = 'login.succeeded'",
      [tenant.id],
    );
    expect(ok).toMatchObject({ actor_kind: 'user', actor_id: user.id, target: `user:${user.id}`, details: { address: addr, user_agent: 'jest/throttle', second_factor: false } });
    const [refused] = await sql<{ target: string; details: Record<string, unknown> }>(
      "SELECT target, details FROM audit_log WHERE tenant_id = ? AND action = 'login.refused' AND details->>'reason' = 'account_locked' LIMIT 1",
      [tenant.id],
    );
    expect(refused).toMatchObject({ target: `user:${user.id}`, details: { email: user.email, address: addr, user_agent: 'jest/throttle', reason: 'account_locked', retry_at: last.retryAt } });
  });

  it('20 wrong passwords from 20 addresses lock it as well', async () => {
    const tenant = await newTenant();
    const user = await newUser(tenant);
    const answers: Answer[] = [];
    for (let i = 0; i < 20; i++) answers.push(await login(tenant, user.email, 'wrong-password', `10.2.0.${i + 1}`));
    expect(answers[19]).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'account_locked', message: expect.stringMatching(LOCKED_MESSAGE) });
    expect(await login(tenant, user.email, PASSWORD, '10.2.1.1')).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'account_locked' });
    // No address saw more than one or two attempts: none is locked.
    const addresses = await sql<{ failures: number; locked: boolean }>("SELECT failures, COALESCE(locked_until > now(), false) AS locked FROM login_throttle WHERE key LIKE 'address:10.2.%'");
    expect(addresses).toHaveLength(21);
    expect(addresses.every((r) => r.failures === 1 && !r.locked)).toBe(true);
    const audit = await auditCounts(tenant);
    expect((audit['login.failed'] ?? 0) + (audit['login.refused'] ?? 0)).toBe(21);
    expect(audit['login.locked']).toBe(1);
  });

  it('an unknown e-mail answers exactly like a wrong password, and locks the same way', async () => {
    const tenant = await newTenant();
    const user = await newUser(tenant);
    const ghost = `${uniqueName('ghost')}@example.com`;
    // Spaced beyond the longest delay, so the sequence does not depend on timing.
    const run = async (email: string, addr: string) => {
      const out: Answer[] = [];
      for (let i = 0; i < ACCOUNT_LOCK_AFTER + 2; i++) {
        out.push(await login(tenant, email, 'wrong-password', addr));
        await sleep(DELAY_MAX_MS + 20);
      }
      return out;
    };
    const [known, unknown] = await Promise.all([run(user.email, '10.3.0.1'), run(ghost, '10.3.0.2')]);
    const shape = (a: Answer) => ({ ...a, message: a.message?.replace(/\d{4}-\d{2}-\d{2}T[\d:]+Z/, '<time>'), retryAt: a.retryAt ? '<time>' : undefined });
    expect(unknown.map(shape)).toEqual(known.map(shape));
    expect(known.slice(0, ACCOUNT_LOCK_AFTER).every((a) => a.code === status.UNAUTHENTICATED && a.message === 'invalid credentials')).toBe(true);
    expect(known[ACCOUNT_LOCK_AFTER]).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'account_locked' });
    // Audited against the account as typed, with the reason only the audit log (an admin) sees.
    const reasons = await sql<{ target: string; reason: string; n: number }>(
      "SELECT target, details->>'reason' AS reason, count(*)::int AS n FROM audit_log WHERE tenant_id = ? AND action = 'login.failed' GROUP BY 1, 2 ORDER BY 1",
      [tenant.id],
    );
    expect(reasons).toEqual(
      expect.arrayContaining([
        { target: `account:${ghost}`, reason: 'unknown_account', n: ACCOUNT_LOCK_AFTER },
        { target: `user:${user.id}`, reason: 'password', n: ACCOUNT_LOCK_AFTER },
      ]),
    );
  });

  it('a wholly unknown tenant is throttled the same way (a log line, no audit row)', async () => {
    const slug = uniqueName('nope').replace(/_/g, '-');
    const answers = await Promise.all(Array.from({ length: ACCOUNT_LOCK_AFTER }, () => login(slug, 'who@example.com', 'x', '10.4.0.1')));
    expect(answers.every((a) => a.code === status.UNAUTHENTICATED || a.code === status.RESOURCE_EXHAUSTED)).toBe(true);
    expect(await login(slug, 'who@example.com', 'x', '10.4.0.1')).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'account_locked' });
    expect(await throttleRow(`account:${slug}:who@example.com`)).toMatchObject({ failures: ACCOUNT_LOCK_AFTER + 1, locked: true });
  });

  it('20 concurrent wrong passwords are all counted and start exactly one lock', async () => {
    const tenant = await newTenant();
    const user = await newUser(tenant);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => login(tenant, user.email, 'wrong-password', `10.5.0.${i + 1}`)));
    expect(answers.every((a) => a.code === status.UNAUTHENTICATED || a.code === status.RESOURCE_EXHAUSTED)).toBe(true);
    expect(await throttleRow(`account:${tenant.slug}:${user.email}`)).toMatchObject({ failures: 20, locked: true });
    const audit = await auditCounts(tenant);
    expect((audit['login.failed'] ?? 0) + (audit['login.refused'] ?? 0)).toBe(20);
    expect(audit['login.locked']).toBe(1);
  });

  it('oversized input is refused before the throttle and counts nothing', async () => {
    const tenant = await newTenant();
    const long = `${'a'.repeat(300)}@example.com`;
    expect(await login(tenant, long, 'x', '10.6.0.1')).toMatchObject({ code: status.UNAUTHENTICATED, message: 'invalid credentials' });
    expect(await login(tenant.slug, 'x@example.com', 'p'.repeat(5000), '10.6.0.1')).toMatchObject({ code: status.UNAUTHENTICATED });
    expect(await sql("SELECT 1 FROM login_throttle WHERE key = 'address:10.6.0.1'")).toHaveLength(0);
  });
});

describe('an address against many accounts', () => {
  it('locks the address: even the right password of another account is refused from it, not from elsewhere', async () => {
    const tenant = await newTenant();
    const user = await newUser(tenant);
    const addr = '10.7.0.1';
    const answers: Answer[] = [];
    // Unknown accounts count like real ones.
    for (let i = 0; i < ADDRESS_LOCK_AFTER; i++) answers.push(await login(tenant, `victim${i}@example.com`, 'Winter2026!', addr));
    expect(answers.every((a) => a.code === status.UNAUTHENTICATED)).toBe(true);
    const refused = await login(tenant, user.email, PASSWORD, addr);
    expect(refused).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'address_locked', message: expect.stringMatching(/^too many failed sign-in attempts from this address; try again after \S+Z$/) });
    expect(await login(tenant, user.email, PASSWORD, '10.7.0.2')).toEqual({ ok: true });
    const [lock] = await sql<{ target: string; details: Record<string, unknown> }>("SELECT target, details FROM audit_log WHERE tenant_id = ? AND action = 'login.locked'", [tenant.id]);
    expect(lock).toMatchObject({ target: `address:${addr}`, details: { kind: 'address', failures: ADDRESS_LOCK_AFTER } });
  });
});

describe('admins see and clear locks', () => {
  it('lists locked accounts first with cursor pages, unlocks (audited, idempotent) and the right password works at once', async () => {
    const tenant = await newTenant();
    const admin = await newUser(tenant, [Role.ROLE_ADMIN]);
    const seller = await newUser(tenant, [Role.ROLE_SELLER]);
    const other = await newUser(tenant, [Role.ROLE_SELLER]);
    const ghost = `${uniqueName('ghost')}@example.com`;
    await Promise.all(Array.from({ length: ACCOUNT_LOCK_AFTER }, (_, i) => login(tenant, seller.email, 'wrong', `10.8.0.${i + 1}`)));
    await login(tenant, other.email, 'wrong', '10.8.1.1');
    await login(tenant, ghost, 'wrong', '10.8.1.2');
    const asAdmin = userFor(tenant, admin);

    const all = await security.listLoginLocks({ lockedOnly: false, pageSize: 0, cursor: '' }, asAdmin);
    expect(all.locks.map((l) => l.email)).toEqual([seller.email, ghost, other.email]);
    expect(all.locks[0]).toMatchObject({ userId: seller.id, failures: ACCOUNT_LOCK_AFTER, lockedUntil: expect.stringMatching(/Z$/), lastAddress: expect.stringMatching(/^10\.8\.0\./) });
    expect(all.locks[1]!.userId).toBeUndefined();
    expect(all.locks[1]!.lockedUntil).toBeUndefined();
    expect(all.nextCursor).toBe('');

    // Cursor pages of one give the same order.
    const seen: string[] = [];
    let cursor = '';
    do {
      const page = await security.listLoginLocks({ lockedOnly: false, pageSize: 1, cursor }, asAdmin);
      seen.push(...page.locks.map((l) => l.email));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([seller.email, ghost, other.email]);
    expect((await security.listLoginLocks({ lockedOnly: true, pageSize: 50, cursor: '' }, asAdmin)).locks.map((l) => l.email)).toEqual([seller.email]);

    // The right password during the lock is refused (and counted: 11 failures when the admin unlocks).
    expect(await login(tenant, seller.email, PASSWORD, '10.8.2.1')).toMatchObject({ reason: 'account_locked' });
    const { lock } = await security.unlockLogin({ id: all.locks[0]!.id }, asAdmin);
    expect(lock).toMatchObject({ id: all.locks[0]!.id, email: seller.email, failures: 0 });
    expect(lock!.lockedUntil).toBeUndefined();
    // Idempotent: a second unlock answers the same and writes no second audit row.
    await security.unlockLogin({ id: all.locks[0]!.id }, asAdmin);
    const unlocked = await sql<{ actor_kind: string; actor_id: string; target: string; details: Record<string, unknown> }>(
      "SELECT actor_kind, actor_id, target, details FROM audit_log WHERE tenant_id = ? AND action = 'login.unlocked'",
      [tenant.id],
    );
    expect(unlocked).toEqual([{ actor_kind: 'user', actor_id: admin.id, target: `account:${seller.email}`, details: { email: seller.email, failures: ACCOUNT_LOCK_AFTER + 1, locked_until: all.locks[0]!.lockedUntil } }]);
    expect(await login(tenant, seller.email, PASSWORD, '10.8.2.1')).toEqual({ ok: true });
  });

  it('refuses other tenants, non-admins and malformed input', async () => {
    const a = await newTenant();
    const b = await newTenant();
    const adminA = await newUser(a, [Role.ROLE_ADMIN]);
    const adminB = await newUser(b, [Role.ROLE_ADMIN]);
    const seller = await newUser(a, [Role.ROLE_SELLER]);
    await login(a, seller.email, 'wrong', '10.9.0.1');
    const [mine] = (await security.listLoginLocks({ lockedOnly: false, pageSize: 10, cursor: '' }, userFor(a, adminA))).locks;
    expect(mine!.email).toBe(seller.email);

    // Tenant B sees nothing of A's and cannot unlock it: NOT_FOUND, like a missing or malformed id.
    expect((await security.listLoginLocks({ lockedOnly: false, pageSize: 10, cursor: '' }, userFor(b, adminB))).locks).toEqual([]);
    for (const id of [mine!.id, MISSING, 'not-a-uuid', '']) {
      expect((await failure(security.unlockLogin({ id }, userFor(b, adminB)))).code).toBe(status.NOT_FOUND);
    }
    expect((await throttleRow(`account:${a.slug}:${seller.email}`))?.failures).toBe(1);

    // A seller may not list or unlock.
    expect((await failure(security.listLoginLocks({ lockedOnly: false, pageSize: 10, cursor: '' }, userFor(a, seller)))).code).toBe(status.PERMISSION_DENIED);
    expect((await failure(security.unlockLogin({ id: mine!.id }, userFor(a, seller)))).code).toBe(status.PERMISSION_DENIED);

    // Malformed paging.
    for (const cursor of ['garbage', Buffer.from('[1,"x","y"]').toString('base64url'), 'a'.repeat(400)]) {
      const err = await failure(security.listLoginLocks({ lockedOnly: false, pageSize: 10, cursor }, userFor(a, adminA)));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
    }
    expect((await failure(security.listLoginLocks({ lockedOnly: false, pageSize: -1, cursor: '' }, userFor(a, adminA)))).code).toBe(status.INVALID_ARGUMENT);
    // An oversized page is clamped, not refused.
    expect((await security.listLoginLocks({ lockedOnly: false, pageSize: 100_000, cursor: '' }, userFor(a, adminA))).locks).toHaveLength(1);
  });
});
