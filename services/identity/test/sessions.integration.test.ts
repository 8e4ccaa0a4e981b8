/**
 * Sessions people can manage (issue 16 §2) against real PostgreSQL over real gRPC (identity in-process
 * on a fresh database): a new session at every login, where it was opened from, the idle and absolute
 * timeouts, listing and ending one's own sessions (one, all others, all), an admin's list and end of a
 * user's sessions, deactivation, logout — each ending audited with SessionsEnded in the outbox —, and
 * malformed, foreign and cross-tenant ids.
 */
import { SessionsEnded } from '@crm/contracts/crm/identity/events/v1/session_events';
import { Role, type Tenant, type User } from '@crm/contracts/crm/identity/v1/identity';
import { status } from '@crm/grpc';
import { failure, MISSING, PASSWORD, platform, serviceFor, startIdentityHarness, userFor, type IdentityHarness } from './harness';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const IDLE_MINUTES = 30;

let h: IdentityHarness;
let identity: IdentityHarness['identity'];
let security: IdentityHarness['security'];
let team: IdentityHarness['team'];

beforeAll(async () => {
  h = await startIdentityHarness('sessions', {
    SESSION_IDLE_MINUTES: String(IDLE_MINUTES),
    SESSION_ABSOLUTE_HOURS: '12',
  });
  ({ identity, security, team } = h);
});

afterAll(() => h?.stop());

const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) => h.sql<T>(query, params);
const newTenant = () => h.newTenant({ locale: 'ru', timeZone: 'Europe/Moscow' });
const newUser = (tenant: Tenant, roles: Role[] = [Role.ROLE_SELLER]) => h.newUser(tenant, roles, { displayName: 'Anna' });

async function login(tenant: Tenant, user: User, address = '203.0.113.7', userAgent = FIREFOX) {
  const res = await identity.login({ tenantSlug: tenant.slug, email: user.email, password: PASSWORD, clientAddress: address, userAgent }, platform);
  return { token: res.sessionToken, id: res.principal!.sessionId };
}

const authenticate = (token: string) => identity.authenticate({ credential: { $case: 'sessionToken', value: token } }, platform);
const listOwn = async (tenant: Tenant, user: User, current = '') => (await security.listOwnSessions({ currentSessionId: current }, userFor(tenant, user))).sessions;

/** The SessionsEnded events of a user in identity's outbox, oldest first. */
async function endedEvents(userId: string): Promise<SessionsEnded[]> {
  const rows = await sql<{ payload: Buffer; topic: string; event_type: string }>("SELECT payload, topic, event_type FROM outbox WHERE subject = ? ORDER BY id", [userId]);
  for (const r of rows) expect({ topic: r.topic, type: r.event_type }).toEqual({ topic: 'crm.identity.session.v1', type: 'crm.identity.session.ended.v1' });
  return rows.map((r) => SessionsEnded.decode(r.payload));
}

describe('sessions', () => {
  it('opens a new session at every login with where it came from, lists open ones newest first, and marks the current one', async () => {
    const tenant = await newTenant();
    const user = await newUser(tenant);
    const first = await login(tenant, user, '198.51.100.1', FIREFOX);
    const second = await login(tenant, user, '198.51.100.2', 'curl/8.5.0');
    expect(first.id).not.toEqual(second.id);
    expect(first.token).not.toEqual(second.token);
    expect((await authenticate(second.token)).principal!.sessionId).toBe(second.id);

    const list = await listOwn(tenant, user, second.id);
    expect(list.map((s) => [s.id, s.current])).toEqual([
      [second.id, true],
      [first.id, false],
    ]);
    expect(list[1]).toMatchObject({ userId: user.id, address: '198.51.100.1', userAgent: FIREFOX, secondFactor: false });
    const s = list[0];
    expect(Date.parse(s.expiresAt) - Date.parse(s.createdAt)).toBe(12 * 3_600_000);
    expect(Date.parse(s.idleExpiresAt) - Date.parse(s.lastSeenAt)).toBe(IDLE_MINUTES * 60_000);
  });

  it('ends a session idle for SESSION_IDLE_MINUTES, refreshes last_seen_at at most once a minute, and ends one past its absolute end', async () => {
    const tenant = await newTenant();
    const user = await newUser(tenant);
    const a = await login(tenant, user);
    const b = await login(tenant, user);
    // Seen 40 s ago: within the minute, no write.
    await sql("UPDATE sessions SET last_seen_at = now() - interval '40 seconds' WHERE id = ?", [a.id]);
    const before = (await sql<{ t: string }>('SELECT last_seen_at::text AS t FROM sessions WHERE id = ?', [a.id]))[0].t;
    await authenticate(a.token);
    expect((await sql<{ t: string }>('SELECT last_seen_at::text AS t FROM sessions WHERE id = ?', [a.id]))[0].t).toBe(before);
    // Seen 29 minutes ago: still open, and seen now.
    await sql(`UPDATE sessions SET last_seen_at = now() - interval '${IDLE_MINUTES - 1} minutes' WHERE id = ?`, [a.id]);
    await authenticate(a.token);
    expect((await sql<{ fresh: boolean }>("SELECT last_seen_at > now() - interval '5 seconds' AS fresh FROM sessions WHERE id = ?", [a.id]))[0].fresh).toBe(true);
    // Seen 31 minutes ago: over (and no longer listed).
    await sql(`UPDATE sessions SET last_seen_at = now() - interval '${IDLE_MINUTES + 1} minutes' WHERE id = ?`, [a.id]);
    expect(await failure(authenticate(a.token))).toMatchObject({ code: status.UNAUTHENTICATED, details: 'invalid credentials' });
    expect((await listOwn(tenant, user)).map((s) => s.id)).toEqual([b.id]);
    // Past the absolute end, however recently seen.
    await sql("UPDATE sessions SET expires_at = now() - interval '1 second', last_seen_at = now() WHERE id = ?", [b.id]);
    expect((await failure(authenticate(b.token))).code).toBe(status.UNAUTHENTICATED);
    expect(await listOwn(tenant, user)).toEqual([]);
  });

  it('ends one session, then all others, then all — audited, with SessionsEnded for each', async () => {
    const tenant = await newTenant();
    const user = await newUser(tenant);
    const [s1, s2, s3, s4] = [await login(tenant, user), await login(tenant, user), await login(tenant, user), await login(tenant, user)];
    const me = userFor(tenant, user);

    expect(await security.endOwnSession({ id: s1.id }, me)).toEqual({ ended: 1 });
    expect((await failure(authenticate(s1.token))).code).toBe(status.UNAUTHENTICATED);
    expect(await security.endOwnSession({ id: s1.id }, me)).toEqual({ ended: 0 }); // idempotent

    expect(await security.endOwnSessions({ keepCurrent: true, currentSessionId: s4.id }, me)).toEqual({ ended: 2 });
    expect((await listOwn(tenant, user, s4.id)).map((s) => [s.id, s.current])).toEqual([[s4.id, true]]);
    for (const s of [s2, s3]) expect((await failure(authenticate(s.token))).code).toBe(status.UNAUTHENTICATED);
    await authenticate(s4.token);

    expect(await security.endOwnSessions({ keepCurrent: false, currentSessionId: s4.id }, me)).toEqual({ ended: 1 });
    expect((await failure(authenticate(s4.token))).code).toBe(status.UNAUTHENTICATED);
    expect(await listOwn(tenant, user)).toEqual([]);

    const events = await endedEvents(user.id);
    expect(events.map((e) => ({ ids: e.sessionIds, all: e.allOfUser, reason: e.reason, tenant: e.tenantId, user: e.userId }))).toEqual([
      { ids: [s1.id], all: false, reason: 'ended_by_user', tenant: tenant.id, user: user.id },
      { ids: [s2.id, s3.id].sort(), all: false, reason: 'ended_by_user', tenant: tenant.id, user: user.id },
      { ids: [], all: true, reason: 'ended_by_user', tenant: tenant.id, user: user.id },
    ]);
    const reasons = await sql<{ id: string; ended_reason: string }>('SELECT id, ended_reason FROM sessions WHERE user_id = ? ORDER BY id', [user.id]);
    expect(reasons.every((r) => r.ended_reason === 'ended_by_user')).toBe(true);
    const audit = await sql<{ action: string; details: { count: number } }>("SELECT action, details FROM audit_log WHERE target = ? AND action = 'sessions.ended' ORDER BY at", [`user:${user.id}`]);
    expect(audit.map((a) => a.details.count)).toEqual([1, 2, 1]);
  });

  it('logout ends the session through the same path (a replayed token is refused), idempotently', async () => {
    const tenant = await newTenant();
    const user = await newUser(tenant);
    const s = await login(tenant, user);
    await identity.logout({ sessionToken: s.token }, platform);
    await identity.logout({ sessionToken: s.token }, platform);
    expect((await failure(authenticate(s.token))).code).toBe(status.UNAUTHENTICATED);
    expect((await endedEvents(user.id)).map((e) => [e.sessionIds, e.reason])).toEqual([[[s.id], 'logout']]);
  });

  it("answers NOT_FOUND for another user's or another tenant's session, INVALID_ARGUMENT for a malformed id, and changes nothing", async () => {
    const tenantA = await newTenant();
    const tenantB = await newTenant();
    const anna = await newUser(tenantA);
    const boris = await newUser(tenantA);
    const bob = await newUser(tenantB);
    const annas = await login(tenantA, anna);
    const bobs = await login(tenantB, bob);
    const borisCtx = userFor(tenantA, boris);

    expect((await failure(security.endOwnSession({ id: annas.id }, borisCtx))).code).toBe(status.NOT_FOUND);
    expect((await failure(security.endOwnSession({ id: bobs.id }, borisCtx))).code).toBe(status.NOT_FOUND);
    expect((await failure(security.endOwnSession({ id: MISSING }, borisCtx))).code).toBe(status.NOT_FOUND);
    for (const id of ['', 'not-a-uuid', `${annas.id}x`, "'; DROP TABLE sessions; --", 'x'.repeat(100_000)]) {
      expect((await failure(security.endOwnSession({ id }, borisCtx))).code).toBe(status.INVALID_ARGUMENT);
    }
    expect((await failure(security.endOwnSessions({ keepCurrent: true, currentSessionId: 'nope' }, borisCtx))).code).toBe(status.INVALID_ARGUMENT);
    // An admin of tenant A does not see or end tenant B's user.
    const adminA = await newUser(tenantA, [Role.ROLE_ADMIN]);
    expect((await failure(security.listUserSessions({ userId: bob.id }, userFor(tenantA, adminA)))).code).toBe(status.NOT_FOUND);
    expect((await failure(security.endUserSessions({ userId: bob.id }, userFor(tenantA, adminA)))).code).toBe(status.NOT_FOUND);
    expect((await failure(security.endUserSessions({ userId: 'bob' }, userFor(tenantA, adminA)))).code).toBe(status.INVALID_ARGUMENT);
    // A seller is not an admin; an API-key-like or service caller has no "own" sessions.
    expect((await failure(security.listUserSessions({ userId: anna.id }, borisCtx))).code).toBe(status.PERMISSION_DENIED);
    expect((await failure(security.listOwnSessions({ currentSessionId: '' }, serviceFor(tenantA)))).code).toBe(status.PERMISSION_DENIED);

    await authenticate(annas.token);
    await authenticate(bobs.token);
    expect(await endedEvents(anna.id)).toEqual([]);
    expect(await endedEvents(bob.id)).toEqual([]);
  });

  it("lets an admin list and end a user's sessions, and deactivation ends them in its transaction", async () => {
    const tenant = await newTenant();
    const admin = await newUser(tenant, [Role.ROLE_ADMIN]);
    const anna = await newUser(tenant);
    const boris = await newUser(tenant);
    const adminCtx = userFor(tenant, admin);
    const a1 = await login(tenant, anna);
    const a2 = await login(tenant, anna);
    expect((await security.listUserSessions({ userId: anna.id }, adminCtx)).sessions.map((s) => [s.id, s.current])).toEqual([
      [a2.id, false],
      [a1.id, false],
    ]);
    expect(await security.endUserSessions({ userId: anna.id }, adminCtx)).toEqual({ ended: 2 });
    expect(await security.endUserSessions({ userId: anna.id }, adminCtx)).toEqual({ ended: 0 });
    for (const s of [a1, a2]) expect((await failure(authenticate(s.token))).code).toBe(status.UNAUTHENTICATED);

    const b1 = await login(tenant, boris);
    const res = await team.setUserActive({ id: boris.id, active: false }, adminCtx);
    expect(res.sessionsRevoked).toBe(1);
    expect((await failure(authenticate(b1.token))).code).toBe(status.UNAUTHENTICATED);
    expect((await sql<{ ended_reason: string }>('SELECT ended_reason FROM sessions WHERE id = ?', [b1.id]))[0].ended_reason).toBe('deactivated');

    expect((await endedEvents(anna.id)).map((e) => [e.allOfUser, e.reason])).toEqual([
      [true, 'ended_by_admin'],
      [true, 'ended_by_admin'],
    ]);
    expect((await endedEvents(boris.id)).map((e) => [e.allOfUser, e.reason, e.sessionIds])).toEqual([[true, 'deactivated', []]]);
    const actors = await sql<{ actor_id: string }>("SELECT actor_id FROM audit_log WHERE target = ? AND action = 'sessions.ended'", [`user:${anna.id}`]);
    expect(actors.map((a) => a.actor_id)).toEqual([admin.id]);
  });
});
