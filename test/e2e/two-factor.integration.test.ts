/**
 * Two-factor sign-in over the gateway's REST API (issue 16 §3) on the real platform: enrolment under
 * /v1/me/two-factor (API keys refused with 403), the login's 202 challenge without a cookie, the second
 * step /v1/session/second-factor (malformed → 400, wrong code → 401, right code → 200 with the cookie),
 * enrolment at login under the tenant policy (GET/PATCH /v1/security/policy) with the recovery codes once,
 * and an admin's reset (another tenant's user → 404). Codes are computed with otpauth.
 */
import { Secret, TOTP } from 'otpauth';
import { startPlatform, type Platform } from '../support/platform';

let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform();
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
  cookie: string;
}

async function call(method: string, path: string, opts: { cookie?: string; key?: string; body?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.cookie && method !== 'GET') headers['x-crm-csrf'] = '1';
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${platform.base}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, cookie: setCookie.split(';')[0] };
}

const codeOf = (secret: string, steps = 0) =>
  new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: Date.now() + steps * 30_000 });

const loginOf = (t: 'a' | 'b') => call('POST', '/v1/session', { body: { tenant: platform.tenants[t].slug, email: platform.tenants[t].adminEmail, password: platform.tenants[t].adminPassword } });

describe('two-factor sign-in over REST', () => {
  it('enrols, then signs in with a 202 challenge and a code; policy and reset for admins only; another tenant gets 404', async () => {
    const { a, b } = platform.tenants;
    const first = await loginOf('a');
    expect(first.status).toBe(200);
    const cookie = first.cookie;
    const adminId = String(first.body.subject_id);

    // API keys have no second factor: 403 on /v1/me/two-factor… and on the policy without identity:admin.
    expect((await call('GET', '/v1/me/two-factor', { key: a.apiKey })).status).toBe(403);
    expect((await call('POST', '/v1/me/two-factor/totp', { key: a.apiKey })).status).toBe(403);
    expect((await call('GET', '/v1/security/policy', { key: a.apiKey })).status).toBe(403);
    expect((await call('GET', '/v1/me/two-factor', { cookie })).body).toEqual({ enabled: false, enabled_at: null, recovery_codes_left: 0, required: false, pending: false });

    const begun = await call('POST', '/v1/me/two-factor/totp', { cookie });
    expect(begun.status).toBe(200);
    const secret = String(begun.body.secret);
    expect(String(begun.body.otpauth_uri)).toMatch(/^otpauth:\/\/totp\//);
    for (const body of [{}, { code: '12' }, { code: '123456', extra: 1 }, { code: 'x'.repeat(100_000) }]) {
      const r = await call('POST', '/v1/me/two-factor/totp/confirm', { cookie, body });
      expect([400, 413]).toContain(r.status);
    }
    const confirmed = await call('POST', '/v1/me/two-factor/totp/confirm', { cookie, body: { code: codeOf(secret) } });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.recovery_codes).toHaveLength(10);

    // Password right: 202, no cookie, a challenge.
    const challenged = await loginOf('a');
    expect(challenged.status).toBe(202);
    expect(challenged.cookie).toBe('');
    expect(challenged.body).toEqual({ second_factor: 'code', challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expires_at: expect.any(String) });
    const challenge = String(challenged.body.challenge);
    for (const body of [{ challenge }, { challenge, code: '123456', recovery_code: 'abcd-efgh' }, { challenge: 'short', code: '123456' }, { code: '123456' }]) {
      expect((await call('POST', '/v1/session/second-factor', { body })).status).toBe(400);
    }
    const wrong = String((Number(codeOf(secret, 1)) + 500_000) % 1_000_000).padStart(6, '0');
    expect((await call('POST', '/v1/session/second-factor', { body: { challenge, code: wrong } })).status).toBe(401);
    expect((await call('POST', '/v1/session/enrollment', { body: { challenge } })).status).toBe(409);
    const signed = await call('POST', '/v1/session/second-factor', { body: { challenge, code: codeOf(secret, 1) } });
    expect(signed.status).toBe(200);
    expect(signed.body).toMatchObject({ subject_id: adminId, tenant_id: a.id, recovery_codes: [] });
    expect(signed.cookie).toMatch(/^crm_session=[A-Za-z0-9_-]{43}$/);
    expect((await call('GET', '/v1/me', { cookie: signed.cookie })).status).toBe(200);

    // The policy (admins): a closed body, then on.
    expect((await call('PATCH', '/v1/security/policy', { cookie: signed.cookie, body: { require_second_factor_for_privileged: 'yes' } })).status).toBe(400);
    expect((await call('PATCH', '/v1/security/policy', { cookie: signed.cookie, body: { other: true } })).status).toBe(400);
    const on = await call('PATCH', '/v1/security/policy', { cookie: signed.cookie, body: { require_second_factor_for_privileged: true } });
    expect(on.body).toEqual({ require_second_factor_for_privileged: true });
    expect((await call('GET', '/v1/me/two-factor', { cookie: signed.cookie })).body).toMatchObject({ enabled: true, required: true });
    expect((await call('POST', '/v1/me/two-factor/disable', { cookie: signed.cookie, body: { code: codeOf(secret, 1) } })).status).toBe(409);

    // Tenant B's admin cannot reset A's admin (404, like a missing user); A's admin can reset their own.
    const bSession = await loginOf('b');
    expect(bSession.status).toBe(200);
    expect((await call('POST', `/v1/team/users/${adminId}/two-factor/reset`, { cookie: bSession.cookie })).status).toBe(404);
    expect((await call('POST', `/v1/team/users/${adminId}/two-factor/reset`, { key: b.apiKey })).status).toBe(403);
    expect((await call('POST', '/v1/team/users/not-a-uuid/two-factor/reset', { cookie: bSession.cookie })).status).toBe(400);
    const reset = await call('POST', `/v1/team/users/${adminId}/two-factor/reset`, { cookie: signed.cookie });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ enabled: false, required: true });
    // Their sessions ended; the policy makes the next login an enrolment, finished with the recovery codes once.
    expect((await call('GET', '/v1/me', { cookie: signed.cookie })).status).toBe(401);
    const enrol = await loginOf('a');
    expect(enrol.body).toMatchObject({ second_factor: 'enroll' });
    const started = await call('POST', '/v1/session/enrollment', { body: { challenge: enrol.body.challenge } });
    expect(started.status).toBe(200);
    const done = await call('POST', '/v1/session/second-factor', { body: { challenge: enrol.body.challenge, code: codeOf(String(started.body.secret)) } });
    expect(done.status).toBe(200);
    expect(done.body.recovery_codes).toHaveLength(10);
    expect(done.cookie).toMatch(/^crm_session=/);
  });
});
