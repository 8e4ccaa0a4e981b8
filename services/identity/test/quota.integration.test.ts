/**
 * SecurityService.ConsumeQuota against real PostgreSQL over real gRPC (startIdentity in-process on a fresh
 * database): the shared fixed-window counters behind the gateway's rate limits. Exact under concurrency,
 * partial grants at the edge, windows aligned to the epoch, validation, who may call, and the sweep.
 */
import { status, type TenantContext } from '@crm/grpc';
import { uniqueName } from '@crm/testing';
import { failure, startIdentityHarness, violationFields, type IdentityHarness } from './harness';
import { Quotas } from '../src/security/quota';

const gateway: TenantContext = { tenantId: 'platform', callerId: 'gateway', callerKind: 'service' };
const TENANT = '0193a4b2-0000-7000-8000-000000000009';
const USER = '0193a4b2-0000-7000-8000-00000000000a';

let h: IdentityHarness;
let security: IdentityHarness['security'];

beforeAll(async () => {
  h = await startIdentityHarness('quota', {}, { maxInFlight: 10_000 });
  ({ security } = h);
});

afterAll(() => h?.stop());

const sql = <T>(query: string, params: unknown[] = []) => h.sql<T>(query, params);
const consume = (key: string, windowSeconds: number, limit: number, want: number, ctx = gateway) => security.consumeQuota({ key, windowSeconds, limit, want }, ctx);

describe('ConsumeQuota', () => {
  it('grants exactly the limit to 200 parallel consumers of 1 (limit 50)', async () => {
    const key = uniqueName('k');
    const answers = await Promise.all(Array.from({ length: 200 }, () => consume(key, 3600, 50, 1)));
    const granted = answers.reduce((n, a) => n + a.granted, 0);
    console.log(`ConsumeQuota: 200 parallel consumes of 1 with limit 50 granted ${granted}`);
    expect(granted).toBe(50);
    expect(answers.filter((a) => a.granted === 1)).toHaveLength(50);
    // Every caller saw a distinct running total: the row lock serialized them.
    expect(new Set(answers.map((a) => a.used)).size).toBe(200);
    expect(Math.max(...answers.map((a) => a.used))).toBe(200);
    const rows = await sql<{ used: string }>('SELECT used FROM rate_quotas WHERE key = ?', [key]);
    expect(rows.map((r) => Number(r.used))).toEqual([200]);
  });

  it('grants a partial lease at the edge and nothing after', async () => {
    const key = uniqueName('k');
    expect(await consume(key, 3600, 25, 10)).toMatchObject({ granted: 10, used: 10 });
    expect(await consume(key, 3600, 25, 10)).toMatchObject({ granted: 10, used: 20 });
    expect(await consume(key, 3600, 25, 10)).toMatchObject({ granted: 5, used: 30 });
    expect(await consume(key, 3600, 25, 10)).toMatchObject({ granted: 0, used: 40 });
    expect(await consume(key, 3600, 25, 1)).toMatchObject({ granted: 0, used: 41 });
    // Parallel leases of 7 against a limit of 100: exactly 100 in total.
    const other = uniqueName('k');
    const leases = await Promise.all(Array.from({ length: 30 }, () => consume(other, 3600, 100, 7)));
    expect(leases.reduce((n, a) => n + a.granted, 0)).toBe(100);
  });

  it('aligns windows to the epoch and ends them on time', async () => {
    const key = uniqueName('k');
    const before = Date.now();
    const a = await consume(key, 3600, 5, 1);
    const ends = new Date(a.windowEndsAt).getTime();
    expect(ends % 3_600_000).toBe(0);
    expect(ends).toBeGreaterThan(before - 1000);
    expect(ends).toBeLessThanOrEqual(before + 3_600_000 + 1000);
    // A one-second window: another window within two seconds counts afresh.
    const short = uniqueName('k');
    const first = await consume(short, 1, 1, 1);
    expect(first.granted).toBe(1);
    expect(new Date(first.windowEndsAt).getTime() % 1000).toBe(0);
    await new Promise((r) => setTimeout(r, Math.max(0, new Date(first.windowEndsAt).getTime() - Date.now()) + 50));
    const next = await consume(short, 1, 1, 1);
    expect(next).toMatchObject({ granted: 1, used: 1 });
    expect(new Date(next.windowEndsAt).getTime()).toBeGreaterThan(new Date(first.windowEndsAt).getTime());
    // Different keys and different window lengths are different counters.
    expect((await consume(key, 60, 5, 5)).granted).toBe(5);
    expect((await consume(`${key}:other`, 3600, 5, 5)).granted).toBe(5);
  });

  it('refuses malformed and oversized arguments with INVALID_ARGUMENT naming the field', async () => {
    const cases: [string, number, number, number, string][] = [
      ['', 60, 10, 1, 'key'],
      ['k'.repeat(201), 60, 10, 1, 'key'],
      ['nul\u0000key', 60, 10, 1, 'key'],
      ['k', 0, 10, 1, 'window_seconds'],
      ['k', 3601, 10, 1, 'window_seconds'],
      ['k', -5, 10, 1, 'window_seconds'],
      ['k', 60, 0, 1, 'limit'],
      ['k', 60, 1_000_000_001, 1, 'limit'],
      ['k', 60, -1, 1, 'limit'],
      ['k', 60, 10, 0, 'want'],
      ['k', 60, 10, 11, 'want'],
      ['k', 60, 10, -3, 'want'],
    ];
    for (const [key, w, limit, want, field] of cases) {
      const err = await failure(consume(key, w, limit, want));
      expect({ field, code: err.code, fields: violationFields(err) }).toEqual({ field, code: status.INVALID_ARGUMENT, fields: [field] });
    }
    // At the bounds it is accepted.
    expect((await consume('k'.repeat(200), 3600, 1_000_000_000, 1_000_000_000)).granted).toBe(1_000_000_000);
    expect((await consume(uniqueName('k'), 1, 1, 1)).granted).toBe(1);
    const rows = await sql<{ n: number }>("SELECT count(*)::int AS n FROM rate_quotas WHERE key = '' OR key = 'k' OR length(key) > 200");
    expect(rows[0].n).toBe(0);
  });

  it('is for services only: users and API keys of any tenant are refused', async () => {
    const key = uniqueName('k');
    for (const ctx of [
      { tenantId: TENANT, callerId: USER, callerKind: 'user' as const },
      { tenantId: TENANT, callerId: USER, callerKind: 'api_key' as const },
    ]) {
      expect((await failure(consume(key, 60, 10, 1, ctx))).code).toBe(status.PERMISSION_DENIED);
    }
    expect(await sql('SELECT 1 FROM rate_quotas WHERE key = ?', [key])).toEqual([]);
    // A service of a tenant (not only the platform) may.
    expect((await consume(key, 60, 10, 1, { tenantId: TENANT, callerId: 'gateway', callerKind: 'service' })).granted).toBe(1);
  });

  it('sweeps windows that ended more than an hour ago, keeps the current ones', async () => {
    const old = uniqueName('old');
    const live = uniqueName('live');
    await sql("INSERT INTO rate_quotas (key, window_start, used) VALUES (?, now() - interval '61 minutes', 5), (?, now() - interval '59 minutes', 5)", [old, live]);
    const quotas = new Quotas({ orm: h.svc.orm!, logger: { warn: () => undefined } as never, env: {} as never });
    try {
      expect(await quotas.sweep()).toBeGreaterThanOrEqual(1);
    } finally {
      quotas.close();
    }
    const left = await sql<{ key: string }>('SELECT key FROM rate_quotas WHERE key IN (?, ?)', [old, live]);
    expect(left.map((r) => r.key)).toEqual([live]);
  });
});
