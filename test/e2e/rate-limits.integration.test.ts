/**
 * Rate limits that hold across gateway replicas (issue 16 §5): two gateways in front of one platform, the
 * test round-robins across them. The per-credential API limit, the public form limits (per address, per
 * form) and the login limit per address each admit at most their limit in total, and at least the limit
 * less the documented error ((replicas − 1) × chunk, chunk = max(1, floor(limit / RATE_LEASE_DIVISOR))).
 * Refusals are 429 problems with Retry-After and the RateLimit / RateLimit-Policy fields
 * (draft-ietf-httpapi-ratelimit-headers-11). Prints the admitted counts.
 */
import { IdentityServiceService } from '@crm/contracts/crm/identity/v1/identity';
import type { RunningGateway } from '@crm/gateway/src/server';
import { createClient } from '@crm/grpc';
import { startPlatform, startReplica, type Platform } from '../support/platform';

const REPLICAS = 2;
const DIVISOR = 10;
const LIMITS = { api: 100, formIp: 20, form: 30, loginIp: 12 };
const chunk = (limit: number) => Math.max(1, Math.floor(limit / DIVISOR));
/** The documented error: units other replicas leased and did not spend are refused early. */
const lowest = (limit: number) => limit - (REPLICAS - 1) * chunk(limit);

const LIMIT_ENV = {
  API_RATE_PER_CREDENTIAL: String(LIMITS.api),
  FORM_RATE_PER_IP: String(LIMITS.formIp),
  FORM_RATE_PER_FORM: String(LIMITS.form),
  LOGIN_RATE_PER_IP: String(LIMITS.loginIp),
  RATE_LEASE_DIVISOR: String(DIVISOR),
  // The shared path is what is measured here (the fail-open path has its unit test): a slow moment of
  // this loaded machine must not fail open.
  RATE_STORE_TIMEOUT_MS: '3000',
  // Client addresses from X-Forwarded-For, so each scenario has its own.
  TRUST_PROXY: 'true',
  AUTH_CACHE_TTL_MS: '60000',
};

let platform: Platform;
let second: RunningGateway;
let bases: string[];

beforeAll(async () => {
  const t0 = performance.now();
  platform = await startPlatform({ gatewayEnv: LIMIT_ENV });
  second = await startReplica(platform, { GATEWAY_MAX_INFLIGHT: '1000', GATEWAY_MAX_EVENT_LOOP_DELAY_MS: '60000', ...LIMIT_ENV }, 'second-gateway');
  bases = [platform.base, second.address];
  console.log(`platform and a second gateway started in ${Math.round(performance.now() - t0)} ms`);
}, 60_000);

afterAll(async () => {
  const t0 = performance.now();
  await second?.stop();
  const t1 = performance.now();
  await platform?.stop();
  console.log(`stopped in ${Math.round(t1 - t0)} + ${Math.round(performance.now() - t1)} ms`);
});

interface Answer {
  /** Which replica answered (0 or 1). */
  replica: number;
  status: number;
  headers: Headers;
  body: { detail?: string; type?: string };
}

let turn = 0;
/** The next replica, round-robin. */
async function call(path: string, init: RequestInit): Promise<Answer> {
  const replica = turn++ % bases.length;
  const res = await fetch(`${bases[replica]}${path}`, { redirect: 'manual', ...init });
  const text = await res.text();
  return { replica, status: res.status, headers: res.headers, body: text.startsWith('{') ? JSON.parse(text) : {} };
}

/** `n` calls, `parallel` at a time. */
async function flood(n: number, parallel: number, make: (i: number) => Promise<Answer>): Promise<Answer[]> {
  const out: Answer[] = [];
  for (let i = 0; i < n; i += parallel) out.push(...(await Promise.all(Array.from({ length: Math.min(parallel, n - i) }, (_, j) => make(i + j)))));
  return out;
}

const windowOf = (t: number) => Math.floor(t / 60_000);

/** Waits, if need be, for a fresh minute: the limits' windows are aligned to the epoch. */
async function roomInWindow(seconds: number): Promise<number> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left >= seconds * 1000) return 0;
  await new Promise((r) => setTimeout(r, left + 200));
  return left + 200;
}

/** A refusal by the edge limit `policy`: 429 problem+json, Retry-After and both RateLimit fields. */
function expectRefusal(a: Answer, policy: string, limit: number): void {
  expect(a.status).toBe(429);
  expect(a.headers.get('content-type')).toContain('application/problem+json');
  const retry = Number(a.headers.get('retry-after'));
  expect(retry).toBeGreaterThanOrEqual(1);
  expect(retry).toBeLessThanOrEqual(60);
  expect(a.headers.get('ratelimit-policy')).toContain(`"${policy}";q=${limit};w=60`);
  expect(a.headers.get('ratelimit')).toMatch(new RegExp(`"${policy}";r=0;t=${retry}(,|$)`));
}

const refusedByEdge = (a: Answer, text: string) => a.status === 429 && (a.body.detail ?? '').includes(text);

describe('rate limits across two gateway replicas (round-robin)', () => {
  it('the per-credential API limit, the form limits and the login limit per address hold in total', async () => {
    const admin = createClient(IdentityServiceService, { address: platform.identityAddr });
    const key = await admin.createApiKey({ name: 'limits', scopes: ['requests:read'] }, { tenantId: platform.tenants.a.id, callerId: 'e2e', callerKind: 'service' });
    admin.close();
    // Both replicas are up (their first lease connects the channel to identity: RATE_STORE_TIMEOUT_MS allows for it).
    for (const base of bases) expect((await fetch(`${base}/healthz`)).status).toBe(200);

    const waited = await roomInWindow(12);
    const startWindow = windowOf(Date.now());
    const t0 = performance.now();
    const [apiAnswers, formIp, formAll, logins] = await Promise.all([
      // 1. One API key, 160 calls (limit 100).
      flood(160, 8, () => call('/v1/me', { headers: { authorization: `Bearer ${key.secret}`, 'x-forwarded-for': '198.51.100.1' } })),
      // 2. One address posts 40 times to form A (limit 20 per address). Tilda's connection test: counted, creates nothing.
      flood(40, 4, () =>
        call(`/v1/forms/${platform.tenants.a.formId}/submissions`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '198.51.100.2' },
          body: 'test=test',
        }),
      ),
      // 3. 15 addresses post 4 times each to form B (limit 30 per form; each address within its own 20).
      flood(60, 4, (i) =>
        call(`/v1/forms/${platform.tenants.b.formId}/submissions`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `198.51.100.${10 + (i % 15)}` },
          body: 'test=test',
        }),
      ),
      // 4. One address logs in 20 times (limit 12 per address), with the right password (each admitted one costs identity a scrypt).
      flood(20, 2, () =>
        call('/v1/session', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.3' },
          body: JSON.stringify({ tenant: platform.tenants.b.slug, email: platform.tenants.b.adminEmail, password: platform.tenants.b.adminPassword }),
        }),
      ),
    ]);
    const ms = Math.round(performance.now() - t0);
    // Every call landed in one window (else the counts below mean two windows).
    expect(windowOf(Date.now())).toBe(startWindow);

    const count = (as: Answer[], ok: number[]) => as.filter((a) => ok.includes(a.status)).length;
    const measured = {
      api: count(apiAnswers, [200]),
      formPerIp: count(formIp, [200]),
      formPerForm: count(formAll, [200]),
      loginPerIp: logins.filter((a) => !refusedByEdge(a, 'from this address')).length,
    };
    console.log(
      `rate limits across ${REPLICAS} replicas (lease divisor ${DIVISOR}), admitted: ` +
        `API per credential ${measured.api}/${LIMITS.api} of 160 (floor ${lowest(LIMITS.api)}), ` +
        `form per address ${measured.formPerIp}/${LIMITS.formIp} of 40 (floor ${lowest(LIMITS.formIp)}), ` +
        `form per form ${measured.formPerForm}/${LIMITS.form} of 60 (floor ${lowest(LIMITS.form)}), ` +
        `login per address ${measured.loginPerIp}/${LIMITS.loginIp} of 20 (floor ${lowest(LIMITS.loginIp)}); ${ms} ms (after waiting ${waited} ms for a fresh window)`,
    );

    // Nothing but admitted answers and the limit's own 429s.
    expect(apiAnswers.every((a) => a.status === 200 || a.status === 429)).toBe(true);
    expect([...formIp, ...formAll].every((a) => a.status === 200 || a.status === 429)).toBe(true);
    expect(logins.filter((a) => !refusedByEdge(a, 'from this address')).every((a) => a.status === 200)).toBe(true);

    expect(measured.api).toBeLessThanOrEqual(LIMITS.api);
    expect(measured.api).toBeGreaterThanOrEqual(lowest(LIMITS.api));
    expect(measured.formPerIp).toBeLessThanOrEqual(LIMITS.formIp);
    expect(measured.formPerIp).toBeGreaterThanOrEqual(lowest(LIMITS.formIp));
    expect(measured.formPerForm).toBeLessThanOrEqual(LIMITS.form);
    expect(measured.formPerForm).toBeGreaterThanOrEqual(lowest(LIMITS.form));
    expect(measured.loginPerIp).toBeLessThanOrEqual(LIMITS.loginIp);
    expect(measured.loginPerIp).toBeGreaterThanOrEqual(lowest(LIMITS.loginIp));

    // Both replicas admitted and both refused: one count for both (per-replica counters would admit up to twice the limit).
    const perReplica = [0, 1].map((r) => apiAnswers.filter((a) => a.replica === r));
    console.log(`API per credential by replica: admitted ${perReplica.map((as) => count(as, [200])).join(' + ')}, refused ${perReplica.map((as) => count(as, [429])).join(' + ')}`);
    for (const as of perReplica) {
      expect(count(as, [200])).toBeGreaterThan(0);
      expect(count(as, [429])).toBeGreaterThan(0);
    }

    // The refusals carry Retry-After and the RateLimit fields; so do the admitted answers (without Retry-After).
    expectRefusal(apiAnswers.find((a) => a.status === 429)!, 'api', LIMITS.api);
    expectRefusal(formIp.find((a) => a.status === 429)!, 'form-ip', LIMITS.formIp);
    const formRefused = formAll.find((a) => a.status === 429)!;
    expectRefusal(formRefused, 'form', LIMITS.form);
    // The form refusal names both policies: the address's (admitted) and the form's (refused).
    expect(formRefused.headers.get('ratelimit-policy')).toBe(`"form-ip";q=${LIMITS.formIp};w=60, "form";q=${LIMITS.form};w=60`);
    expectRefusal(logins.find((a) => refusedByEdge(a, 'from this address'))!, 'login-ip', LIMITS.loginIp);
    const ok = apiAnswers.find((a) => a.status === 200)!;
    expect(ok.headers.get('ratelimit-policy')).toBe(`"api";q=${LIMITS.api};w=60`);
    expect(ok.headers.get('ratelimit')).toMatch(/^"api";r=\d+;t=\d+$/);
    expect(ok.headers.get('retry-after')).toBeNull();

    // Another address, another credential: not refused by the spent ones.
    expect((await call('/v1/me', { headers: { authorization: `Bearer ${platform.tenants.a.apiKey}`, 'x-forwarded-for': '198.51.100.99' } })).status).toBe(200);
    const other = await call(`/v1/forms/${platform.tenants.a.formId}/submissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '198.51.100.98' },
      body: 'test=test',
    });
    expect(other.status).toBe(200);
  }, 90_000);
});
