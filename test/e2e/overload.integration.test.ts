/**
 * Overload and outages at the edge, through a real gateway over real gRPC: the excess beyond the
 * gateway's in-flight limit is refused at once with 503 + Retry-After (and nothing of it is written),
 * and a service that is down or hung is a 503 problem within about a second, never a hang.
 */
import type { RunningGateway } from '@crm/gateway/src/server';
import { createServer, type Server, type Socket } from 'node:net';
import { startPlatform, startReplica, type Platform } from '../support/platform';

let platform: Platform;
let tarpit: Server;
let tarpitAddr: string;
const held: Socket[] = [];

beforeAll(async () => {
  platform = await startPlatform();
  // A peer that takes TCP connections and never answers: a hung service.
  tarpit = createServer((s) => void held.push(s));
  await new Promise<void>((r) => tarpit.listen(0, '127.0.0.1', r));
  tarpitAddr = `127.0.0.1:${(tarpit.address() as { port: number }).port}`;
});

afterAll(async () => {
  for (const s of held) s.destroy();
  await new Promise((r) => tarpit?.close(r));
  await platform?.stop();
});

/** A second gateway in front of the same services, with its own settings. */
function gateway(env: Record<string, string>): Promise<RunningGateway> {
  return startReplica(platform, { CONTACTS_GRPC_ADDR: '127.0.0.1:1', AUTH_CACHE_TTL_MS: '0', API_RATE_PER_CREDENTIAL: '100000', LOG_LEVEL: 'silent', ...env }, 'overload-gateway');
}

const post = (base: string, key: string, name: string) =>
  fetch(`${base}/v1/requests`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ channel: 'web_form', name, phone: `+7999${String(Math.floor(Math.random() * 9_000_000) + 1_000_000)}` }),
  });

describe('overload at the edge', () => {
  it('refuses the excess beyond the in-flight limit at once with 503 + Retry-After, and writes nothing of it', async () => {
    const g = await gateway({ GATEWAY_MAX_INFLIGHT: '2' }); // one write at a time (85 % of 2)
    const key = platform.tenants.a.apiKey;
    try {
      const tag = `burst-${Date.now()}`;
      const answers = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const t0 = performance.now();
          const res = await post(g.address, key, `${tag}-${i}`);
          return { res, ms: performance.now() - t0, body: await res.json() };
        }),
      );
      const created = answers.filter((a) => a.res.status === 201);
      const shed = answers.filter((a) => a.res.status === 503);
      expect(created.length + shed.length).toBe(40);
      expect(created.length).toBeGreaterThan(0);
      expect(shed.length).toBeGreaterThan(0);
      for (const a of shed) {
        expect(a.res.headers.get('retry-after')).toBe('1');
        expect(a.res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(a.body).toMatchObject({ status: 503, code: 'OVERLOADED' });
      }
      // Exactly the admitted ones exist.
      const listed = await fetch(`${platform.base}/v1/requests?q=${tag}&limit=100`, { headers: { authorization: `Bearer ${key}` } });
      const items = ((await listed.json()) as { items: { name: string }[] }).items.filter((r) => r.name.startsWith(tag));
      expect(items.map((r) => r.name).sort()).toEqual(created.map((a) => (a.body as { name: string }).name).sort());
      // Once the burst is over, the slots are free again.
      expect((await post(g.address, key, `${tag}-after`)).status).toBe(201);
    } finally {
      await g.stop();
    }
  });

  it('answers 503 within about a second when intake is hung or down, and when identity is', async () => {
    const key = platform.tenants.a.apiKey;
    const outages: Record<string, string>[] = [{ INTAKE_GRPC_ADDR: tarpitAddr }, { INTAKE_GRPC_ADDR: '127.0.0.1:1' }, { IDENTITY_GRPC_ADDR: tarpitAddr }];
    for (const env of outages) {
      const g = await gateway(env);
      try {
        for (const call of [() => post(g.address, key, 'down'), () => fetch(`${g.address}/v1/requests`, { headers: { authorization: `Bearer ${key}` } })]) {
          const t0 = performance.now();
          const res = await call();
          const ms = performance.now() - t0;
          expect({ env, status: res.status }).toEqual({ env, status: 503 });
          expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
          expect(ms).toBeLessThan(1_800);
        }
      } finally {
        await g.stop();
      }
    }
    // Three gateways start here (about a second each since problem serializers are not compiled per route).
  }, 120_000);
});
