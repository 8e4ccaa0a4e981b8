/**
 * Sessions across gateway replicas (issue 16 §2): two gateways in front of the same identity, each
 * trusting what it checked for a whole minute (AUTH_CACHE_TTL_MS=60000). A session ended through
 * replica A, a logout on A and a user deactivated through A are refused by replica B within about a
 * second (SessionsEnded over Kafka), not after the minute; the propagation time is measured and printed.
 * Also: the /v1/me/sessions routes (list with the current one marked, end one, end the others, end all),
 * an admin's /v1/team/users/{id}/sessions, API keys refused with 403, another tenant's ids 404, malformed
 * input 400, and the live stream of an ended session closed by the other replica.
 */
import { IdentityServiceService, Role } from '@crm/contracts/crm/identity/v1/identity';
import type { RunningGateway } from '@crm/gateway/src/server';
import { createClient } from '@crm/grpc';
import { startPlatform, startReplica, type Platform } from '../support/platform';

const TTL = '60000';
const PASSWORD = 'seller password 1';
let platform: Platform;
let replicaB: RunningGateway;
let A: string;
let B: string;
let identity: ReturnType<typeof createClient<typeof IdentityServiceService>>;
const measured: Record<string, number> = {};

beforeAll(async () => {
  platform = await startPlatform({ gatewayEnv: { AUTH_CACHE_TTL_MS: TTL, API_RATE_PER_CREDENTIAL: '100000' } });
  A = platform.base;
  replicaB = await startReplica(platform, { AUTH_CACHE_TTL_MS: TTL, API_RATE_PER_CREDENTIAL: '100000', LOG_LEVEL: 'silent' }, 'sessions-replica-b');
  B = replicaB.address;
  identity = createClient(IdentityServiceService, { address: platform.identityAddr });
});

afterAll(async () => {
  identity?.close();
  await replicaB?.stop();
  await platform?.stop();
  if (Object.keys(measured).length) {
    process.stdout.write(`sessions across replicas (AUTH_CACHE_TTL_MS=${TTL}): replica B refused within ${Object.entries(measured).map(([k, v]) => `${k} ${v} ms`).join(', ')}\n`);
  }
});

const uniq = () => Math.random().toString(36).slice(2, 8);

async function newSeller(tenant: 'a' | 'b' = 'a'): Promise<{ id: string; email: string }> {
  const t = platform.tenants[tenant];
  const email = `seller-${uniq()}@${tenant}.test`;
  const user = (await identity.createUser({ email, displayName: 'Seller', password: PASSWORD, roles: [Role.ROLE_SELLER] }, { tenantId: t.id, callerId: 'test', callerKind: 'service' })).user!;
  return { id: user.id, email };
}

async function login(base: string, tenant: 'a' | 'b', email: string, password = PASSWORD, userAgent = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36'): Promise<string> {
  const res = await fetch(`${base}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': userAgent }, body: JSON.stringify({ tenant: platform.tenants[tenant].slug, email, password }) });
  expect(res.status).toBe(200);
  return res.headers.get('set-cookie')!.split(';')[0];
}

const me = (base: string, cookie: string) => fetch(`${base}/v1/me`, { headers: { cookie } }).then((r) => r.status);
const call = (base: string, method: string, path: string, cookie: string) => fetch(`${base}${path}`, { method, headers: { cookie, 'x-crm-csrf': '1' } });

async function sessions(base: string, cookie: string): Promise<{ id: string; current: boolean; user_agent: string; address: string }[]> {
  const res = await fetch(`${base}/v1/me/sessions`, { headers: { cookie } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: { id: string; current: boolean; user_agent: string; address: string }[] }).items;
}

/** Polls until `cookie` is refused by `base`; answers how long that took. */
async function refusedWithin(base: string, cookie: string, since: number, limitMs = 5000): Promise<number> {
  for (;;) {
    if ((await me(base, cookie)) === 401) return Date.now() - since;
    if (Date.now() - since > limitMs) throw new Error(`still accepted after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('sessions across gateway replicas', () => {
  it('a session ended through replica A is refused by replica B within ~1 s (its live stream closed), the others stay', async () => {
    const seller = await newSeller();
    const laptop = await login(A, 'a', seller.email);
    const phone = await login(B, 'a', seller.email, PASSWORD, 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1');
    // Both replicas now trust both cookies for a minute.
    for (const base of [A, B]) for (const c of [laptop, phone]) expect(await me(base, c)).toBe(200);

    const list = await sessions(A, laptop);
    expect(list).toHaveLength(2);
    const current = list.find((s) => s.current)!;
    const other = list.find((s) => !s.current)!;
    expect(other.user_agent).toContain('iPhone');
    expect(current.address).not.toBe('');
    expect((await sessions(B, phone)).find((s) => s.current)!.id).toBe(other.id);

    // The phone listens to the live stream on B.
    const stream = await fetch(`${B}/v1/requests/stream`, { headers: { cookie: phone } });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    await reader.read(); // the "connected" comment
    const closed = (async () => {
      for (;;) if ((await reader.read()).done) return Date.now();
    })();

    try {
      const t0 = Date.now();
      expect((await call(A, 'DELETE', `/v1/me/sessions/${other.id}`, laptop)).status).toBe(204);
      expect(await me(A, phone)).toBe(401); // this replica: at once
      measured.endedSession = await refusedWithin(B, phone, t0);
      measured.streamClosed = (await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(Number.POSITIVE_INFINITY), 5000))])) - t0;
    } finally {
      await reader.cancel().catch(() => undefined);
    }
    expect(measured.endedSession).toBeLessThan(2500);
    expect(measured.streamClosed).toBeLessThan(2500);
    // Again: idempotent; the laptop is untouched on both.
    expect((await call(A, 'DELETE', `/v1/me/sessions/${other.id}`, laptop)).status).toBe(204);
    for (const base of [A, B]) expect(await me(base, laptop)).toBe(200);
  });

  it('deactivating a user through replica A makes replica B refuse their session within ~1 s', async () => {
    const seller = await newSeller();
    const admin = await login(A, 'a', platform.tenants.a.adminEmail, platform.tenants.a.adminPassword);
    const cookie = await login(B, 'a', seller.email);
    for (const base of [A, B]) expect(await me(base, cookie)).toBe(200);

    const t0 = Date.now();
    const res = await fetch(`${A}/v1/team/users/${seller.id}/activation`, { method: 'POST', headers: { cookie: admin, 'x-crm-csrf': '1', 'content-type': 'application/json' }, body: JSON.stringify({ active: false }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { sessions_revoked: number }).sessions_revoked).toBe(1);
    measured.deactivated = await refusedWithin(B, cookie, t0);
    expect(measured.deactivated).toBeLessThan(2500);
    expect(await me(A, cookie)).toBe(401);
  });

  it('a session cookie replayed after logout is refused on both replicas', async () => {
    const seller = await newSeller();
    const cookie = await login(A, 'a', seller.email);
    for (const base of [A, B]) expect(await me(base, cookie)).toBe(200);
    const t0 = Date.now();
    const out = await call(A, 'DELETE', '/v1/session', cookie);
    expect(out.status).toBe(204);
    expect(await me(A, cookie)).toBe(401);
    measured.logout = await refusedWithin(B, cookie, t0);
    expect(measured.logout).toBeLessThan(2500);
    // Still refused a while later, on both (identity has it ended; no cache brings it back).
    await new Promise((r) => setTimeout(r, 300));
    for (const base of [A, B]) expect(await me(base, cookie)).toBe(401);
  });

  it('signs out everywhere else, then everywhere (the cookie cleared); an admin ends a user’s sessions on every replica', async () => {
    const seller = await newSeller();
    const [c1, c2, c3] = [await login(A, 'a', seller.email), await login(B, 'a', seller.email), await login(A, 'a', seller.email)];
    for (const base of [A, B]) for (const c of [c1, c2, c3]) expect(await me(base, c)).toBe(200);

    const others = await call(B, 'DELETE', '/v1/me/sessions?keep_current=true', c3);
    expect(others.status).toBe(200);
    expect(await others.json()).toEqual({ ended: 2 });
    const t0 = Date.now();
    await refusedWithin(A, c1, t0);
    await refusedWithin(B, c2, t0);
    await refusedWithin(A, c2, t0);
    for (const base of [A, B]) expect(await me(base, c3)).toBe(200);
    expect((await sessions(A, c3)).map((s) => s.current)).toEqual([true]);

    const all = await call(A, 'DELETE', '/v1/me/sessions?keep_current=false', c3);
    expect(all.status).toBe(200);
    expect(await all.json()).toEqual({ ended: 1 });
    expect(all.headers.get('set-cookie')).toMatch(/^crm_session=;/);
    await refusedWithin(B, c3, Date.now());

    // The admin of tenant A lists and ends a user's sessions; B forgets them too.
    const admin = await login(A, 'a', platform.tenants.a.adminEmail, platform.tenants.a.adminPassword);
    const s1 = await login(B, 'a', seller.email);
    expect(await me(B, s1)).toBe(200);
    const listed = await fetch(`${A}/v1/team/users/${seller.id}/sessions`, { headers: { cookie: admin } });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { items: unknown[] }).items).toHaveLength(1);
    const ended = await call(A, 'DELETE', `/v1/team/users/${seller.id}/sessions`, admin);
    expect(ended.status).toBe(200);
    expect(await ended.json()).toEqual({ ended: 1 });
    measured.endedByAdmin = await refusedWithin(B, s1, Date.now());
  });

  it('refuses API keys, another tenant’s ids and malformed input cleanly', async () => {
    const seller = await newSeller();
    const cookie = await login(A, 'a', seller.email);
    const foreignSeller = await newSeller('b');
    const foreign = await login(A, 'b', foreignSeller.email);
    const foreignId = (await sessions(A, foreign))[0].id;
    const adminB = await login(A, 'b', platform.tenants.b.adminEmail, platform.tenants.b.adminPassword);
    const key = { authorization: `Bearer ${platform.tenants.a.apiKey}` };

    const byKey = await fetch(`${A}/v1/me/sessions`, { headers: key });
    expect(byKey.status).toBe(403);
    expect(byKey.headers.get('content-type')).toContain('application/problem+json');
    expect(((await byKey.json()) as { detail: string }).detail).toMatch(/API key has no sessions/);
    expect((await fetch(`${A}/v1/me/sessions?keep_current=true`, { method: 'DELETE', headers: key })).status).toBe(403);
    // The demo key lacks identity:admin.
    expect((await fetch(`${A}/v1/team/users/${seller.id}/sessions`, { headers: key })).status).toBe(403);

    // Another tenant's session or user: 404, and the session still works.
    expect((await call(A, 'DELETE', `/v1/me/sessions/${foreignId}`, cookie)).status).toBe(404);
    expect((await fetch(`${A}/v1/team/users/${seller.id}/sessions`, { headers: { cookie: adminB } })).status).toBe(404);
    expect((await call(A, 'DELETE', `/v1/team/users/${seller.id}/sessions`, adminB)).status).toBe(404);
    expect(await me(B, foreign)).toBe(200);
    expect(await me(B, cookie)).toBe(200);
    // A seller is no admin.
    expect((await fetch(`${A}/v1/team/users/${foreignSeller.id}/sessions`, { headers: { cookie } })).status).toBe(403);

    // Malformed: 400 problems, never 5xx.
    for (const path of ['/v1/me/sessions/not-a-uuid', `/v1/me/sessions/${'9'.repeat(36)}`, '/v1/me/sessions', '/v1/me/sessions?keep_current=maybe', '/v1/me/sessions?keep_current=true&x=1']) {
      const res = await call(A, 'DELETE', path, cookie);
      expect({ path, status: res.status, type: res.headers.get('content-type') }).toEqual({ path, status: 400, type: expect.stringContaining('application/problem+json') });
    }
    // An id longer than any path parameter may be: 414 (Fastify's maxParamLength), still a problem.
    expect((await call(A, 'DELETE', `/v1/me/sessions/${'9'.repeat(300)}`, cookie)).status).toBe(414);
    expect((await fetch(`${A}/v1/team/users/nope/sessions`, { headers: { cookie: adminB } })).status).toBe(400);
    // A cookie-authenticated DELETE without the CSRF header is refused.
    expect((await fetch(`${A}/v1/me/sessions?keep_current=true`, { method: 'DELETE', headers: { cookie } })).status).toBe(403);
    expect(await me(A, cookie)).toBe(200);
  });
});
