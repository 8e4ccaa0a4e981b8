/**
 * The provider webhook pipeline through the real gateway and telephony (its own database, Kafka):
 * POST /webhooks/telephony/{connection_id}[/…] → WebhookService.Receive → the adapter verifies and
 * parses → webhook_events row + processing job in one transaction. Every bad input gets its outcome
 * and a 4xx (never a 5xx): a wrong signature, an old timestamp, a replayed delivery (2xx, one row), a
 * payload of another provider, an unknown or disabled connection, an unknown dialed number (kept), another
 * tenant's number, oversized and malformed bodies. With telephony unreachable the gateway answers 200
 * through Kafka and telephony's consumer stores the delivery.
 */
import { WebhookServiceService, type ReceiveRequest } from '@crm/contracts/crm/telephony/v1/telephony';
import { createClient } from '@crm/grpc';
import { WebhookFallback } from '@crm/gateway/src/webhook-fallback';
import { signGeneric } from '@crm/telephony/src/adapters/generic';
import { configureProviderClient, providerClientSettings, providerRequest } from '@crm/telephony/src/http/provider-client';
import { mangoForm } from '@crm/telephony/src/adapters/mango';
import { eventually, testLogger } from '@crm/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { startPlatform, startReplica, type Platform } from '../support/platform';

let p: Platform;
let pool: Pool;
let receiver: ReturnType<typeof createClient<typeof WebhookServiceService>>;
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const OLD_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const NUMBER_A = '+74950002001';
const NUMBER_B = '+74950002002';
let generic: string;
let disabled: string;
let mango: string;
const PLATFORM = { tenantId: 'platform', callerId: 'test', callerKind: 'service' as const };

async function addConnection(tenantId: string, fields: Record<string, unknown>): Promise<string> {
  const id = randomUUID();
  const cols = { provider: 'generic', name: 'PBX', signing_secret: '', previous_signing_secret: '', previous_valid_until: null, account: '', secret: '', disabled: false, ...fields };
  await pool.query(
    `INSERT INTO connections (id, tenant_id, provider, name, signing_secret, previous_signing_secret, previous_valid_until, account, secret, disabled, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now(), now())`,
    [id, tenantId, cols.provider, cols.name, cols.signing_secret, cols.previous_signing_secret, cols.previous_valid_until, cols.account, cols.secret, cols.disabled],
  );
  return id;
}

async function addNumber(tenantId: string, phone: string): Promise<void> {
  await pool.query(`INSERT INTO numbers (id, tenant_id, phone, kind, created_at, updated_at) VALUES ($1, $2, $3, 'advertising', now(), now())`, [randomUUID(), tenantId, phone]);
}

const rows = async (connectionId: string, deliveryId?: string) =>
  Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM webhook_events WHERE connection_id = $1 AND ($2::text IS NULL OR delivery_id = $2)', [connectionId, deliveryId ?? null])).rows[0]!.n);

function event(over: Record<string, unknown> = {}) {
  return { type: 'call.ringing', call_id: `c-${randomUUID()}`, at: new Date().toISOString(), seq: 1, direction: 'inbound', caller: '+79161234567', dialed: NUMBER_A, extensions: ['101'], ...over };
}

function signed(body: string, opts: { id?: string; ts?: number; secret?: string } = {}) {
  const id = opts.id ?? `msg_${randomUUID()}`;
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  return { id, headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signGeneric(opts.secret ?? SECRET, id, ts, body) } };
}

async function post(connectionId: string, body: string | Buffer, headers: Record<string, string>, path = '', base = p.base) {
  const res = await fetch(`${base}/webhooks/telephony/${connectionId}${path}`, { method: 'POST', headers, body });
  const text = await res.text();
  expect(res.status).toBeLessThan(500);
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, json: text.startsWith('{') ? JSON.parse(text) : undefined };
}

/** Straight at telephony, to read the outcome the gateway does not pass on. */
function receive(connectionId: string, body: string, headers: Record<string, string>, path = ''): Promise<{ status: number; outcome: string }> {
  const req: ReceiveRequest = { connectionId, path, method: 'POST', headers, body: Buffer.from(body), query: '', url: '', remoteIp: '127.0.0.1', receivedAt: new Date().toISOString() };
  return receiver.receive(req, PLATFORM);
}

beforeAll(async () => {
  p = await startPlatform();
  pool = new Pool({ connectionString: p.telephonyDbUrl, max: 3 });
  receiver = createClient(WebhookServiceService, { address: p.telephonyAddr, defaultDeadlineMs: 10_000 });
  generic = await addConnection(p.tenants.a.id, { signing_secret: SECRET, previous_signing_secret: OLD_SECRET, previous_valid_until: new Date(Date.now() + 3_600_000) });
  disabled = await addConnection(p.tenants.a.id, { signing_secret: SECRET, disabled: true });
  mango = await addConnection(p.tenants.a.id, { provider: 'mango', account: 'vpbx-key-a', secret: 'salt-a' });
  await addNumber(p.tenants.a.id, NUMBER_A);
  await addNumber(p.tenants.b.id, NUMBER_B);
}, 120_000);

afterAll(async () => {
  receiver?.close();
  await pool?.end();
  await p?.stop();
});

describe('generic webhook', () => {
  it('a signed event is stored once with its job; the same delivery again is a 2xx duplicate and still one row', async () => {
    const body = JSON.stringify(event());
    const s = signed(body);
    const first = await post(generic, body, s.headers);
    expect(first).toMatchObject({ status: 200, json: { accepted: true } });
    expect(await rows(generic, s.id)).toBe(1);
    const again = await post(generic, body, s.headers);
    expect(again.status).toBe(200);
    expect(await rows(generic, s.id)).toBe(1);
    expect(await receive(generic, body, s.headers)).toMatchObject({ status: 200, outcome: 'duplicate' });
  });

  it('a wrong signature is a 401 bad_signature; a missing one too; nothing stored', async () => {
    const body = JSON.stringify(event());
    const s = signed(body, { secret: `whsec_${randomBytes(24).toString('base64')}` });
    const bad = await post(generic, body, s.headers);
    expect(bad).toMatchObject({ status: 401, json: { code: 'bad_signature' } });
    expect(bad.type).toContain('application/problem+json');
    // a signature over another body
    const other = signed(JSON.stringify(event()));
    expect((await post(generic, body, other.headers)).json.code).toBe('bad_signature');
    expect((await post(generic, body, { 'content-type': 'application/json' })).status).toBe(401);
    expect(await rows(generic, s.id)).toBe(0);
  });

  it('the previous secret works during its 24 h; an old timestamp is a 409 stale_timestamp', async () => {
    const body = JSON.stringify(event());
    const s = signed(body, { secret: OLD_SECRET });
    expect((await post(generic, body, s.headers)).status).toBe(200);
    const old = signed(body, { ts: Math.floor(Date.now() / 1000) - 3600 });
    expect(await post(generic, body, old.headers)).toMatchObject({ status: 409, json: { code: 'stale_timestamp' } });
    const future = signed(body, { ts: Math.floor(Date.now() / 1000) + 3600 });
    expect((await post(generic, body, future.headers)).json.code).toBe('stale_timestamp');
    expect(await rows(generic, old.id)).toBe(0);
  });

  it("another provider's payload is a 400 wrong_provider, on both sides", async () => {
    const form = mangoForm('vpbx-key-a', 'salt-a', { entry_id: 'e1', call_id: 'l1', timestamp: 1, seq: 1, call_state: 'Appeared' });
    expect(await post(generic, form, { 'content-type': 'application/x-www-form-urlencoded' }, '/events/call')).toMatchObject({ status: 400, json: { code: 'wrong_provider' } });
    const body = JSON.stringify(event());
    expect(await post(mango, body, signed(body).headers, '/events/call')).toMatchObject({ status: 400, json: { code: 'wrong_provider' } });
  });

  it('an unknown or disabled connection: 404 unknown_connection, 403 disabled', async () => {
    const body = JSON.stringify(event());
    expect(await post(randomUUID(), body, signed(body).headers)).toMatchObject({ status: 404, json: { code: 'unknown_connection' } });
    expect((await post('not-a-uuid', body, signed(body).headers)).status).toBe(404);
    expect(await post(disabled, body, signed(body).headers)).toMatchObject({ status: 403, json: { code: 'disabled' } });
  });

  it("an unknown dialed number is kept (200 unknown_number); another tenant's number is a 403 foreign_number", async () => {
    const unknown = JSON.stringify(event({ dialed: '+74950009999' }));
    const u = signed(unknown);
    expect((await post(generic, unknown, u.headers)).status).toBe(200);
    expect(await rows(generic, u.id)).toBe(1);
    const unknown2 = JSON.stringify(event({ dialed: '+74950009998' }));
    expect(await receive(generic, unknown2, signed(unknown2).headers)).toMatchObject({ status: 200, outcome: 'unknown_number' });
    const foreign = JSON.stringify(event({ dialed: NUMBER_B }));
    const f = signed(foreign);
    expect(await post(generic, foreign, f.headers)).toMatchObject({ status: 403, json: { code: 'foreign_number' } });
    expect(await rows(generic, f.id)).toBe(0);
  });

  it('oversized, malformed and wrongly shaped bodies: 413, 400 malformed; an unknown type is 200 ignored', async () => {
    const big = JSON.stringify(event({ pad: 'x'.repeat(300 * 1024) }));
    const tooBig = await post(generic, big, signed(big).headers);
    expect(tooBig.status).toBe(413);
    expect(tooBig.type).toContain('application/problem+json');
    const junk = '{"type":';
    expect(await post(generic, junk, signed(junk).headers)).toMatchObject({ status: 400, json: { code: 'malformed' } });
    const shape = JSON.stringify(event({ at: 'yesterday', duration_seconds: -1 }));
    const r = await post(generic, shape, signed(shape).headers);
    expect(r).toMatchObject({ status: 400, json: { code: 'malformed' } });
    expect(r.json.detail).toContain('at must be');
    const binary = randomBytes(64);
    expect((await post(generic, binary, { ...signed(binary.toString('latin1')).headers, 'content-type': 'application/octet-stream' })).status).toBeLessThan(500);
    const other = JSON.stringify(event({ type: 'call.hold' }));
    const o = signed(other);
    expect((await post(generic, other, o.headers)).status).toBe(200);
    expect(await rows(generic, o.id)).toBe(0);
    const get = await fetch(`${p.base}/webhooks/telephony/${generic}`);
    expect(get.status).toBe(400);
    const del = await fetch(`${p.base}/webhooks/telephony/${generic}/events/call`, { method: 'DELETE' });
    expect([del.status, del.headers.get('allow')]).toEqual([405, 'GET, HEAD, POST']);
  });
});

describe('telephony unavailable', () => {
  it('the gateway answers 200 through Kafka and telephony stores the delivery from the topic', async () => {
    const replica = await startReplica(p, { TELEPHONY_GRPC_ADDR: '127.0.0.1:1' }, 'no-telephony');
    try {
      const body = JSON.stringify(event());
      const s = signed(body);
      const res = await post(generic, body, s.headers, '', replica.address);
      expect(res).toMatchObject({ status: 200, json: { accepted: true } });
      await eventually(() => rows(generic, s.id), { until: (n) => n === 1, timeoutMs: 40_000, message: 'the fallback delivery stored (the consumer may still be joining its group)' });
      // a refusal through the fallback is still refused by telephony (verified when processed): no row
      const bad = signed(body, { secret: `whsec_${randomBytes(24).toString('base64')}` });
      expect((await post(generic, body, bad.headers, '', replica.address)).status).toBe(200);
      const markerBody = JSON.stringify(event());
      const m = signed(markerBody);
      await post(generic, markerBody, m.headers, '', replica.address);
      await eventually(() => rows(generic, m.id), { until: (n) => n === 1, timeoutMs: 30_000, message: 'the delivery after the refused one stored' });
      expect(await rows(generic, bad.id)).toBe(0);
    } finally {
      await replica.stop();
    }
  }, 90_000);

  it('Kafka unreachable too: the fallback fails within its deadline (the route answers 503)', async () => {
    const fb = new WebhookFallback({ brokers: ['127.0.0.1:1'], topicSuffix: p.topicSuffix, logger: testLogger('fallback'), timeoutMs: 1500 });
    const started = Date.now();
    await expect(fb.publish({ connectionId: generic, path: '', method: 'POST', headers: {}, body: Buffer.alloc(0), query: '', url: '', remoteIp: '', receivedAt: new Date().toISOString() })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
    await fb.close();
  });
});

describe('provider HTTP client', () => {
  it('a deadline per attempt, retries only for idempotent calls, a size cap, private addresses refused unless allowed', async () => {
    const hits = new Map<string, number>();
    const server = createServer((req, res) => {
      const n = (hits.get(`${req.method} ${req.url}`) ?? 0) + 1;
      hits.set(`${req.method} ${req.url}`, n);
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 1500);
      if (req.url === '/flaky') return void (n < 3 ? res.writeHead(503).end() : res.end('ok'));
      if (req.url === '/big') return void res.end(Buffer.alloc(2 * 1024 * 1024));
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const saved = { ...providerClientSettings() };
    try {
      configureProviderClient({ timeoutMs: 300, retries: 2, backoffMs: 10 });
      const started = Date.now();
      await expect(providerRequest({ method: 'POST', baseUrl, path: '/slow' })).rejects.toMatchObject({ code: 'timeout' });
      expect(Date.now() - started).toBeLessThan(1200);
      expect((await providerRequest({ method: 'GET', baseUrl, path: '/flaky' })).body.toString()).toBe('ok');
      expect(hits.get('GET /flaky')).toBe(3);
      await expect(providerRequest({ method: 'POST', baseUrl, path: '/flaky' })).rejects.toMatchObject({ code: 'http_status', status: 503 });
      expect(hits.get('POST /flaky')).toBe(1);
      await expect(providerRequest({ method: 'GET', baseUrl, path: '/big', maxBytes: 1024 * 1024 })).rejects.toMatchObject({ code: 'too_large' });
      configureProviderClient({ allowPrivate: false });
      await expect(providerRequest({ method: 'GET', baseUrl, path: '/ok' })).rejects.toMatchObject({ code: 'blocked_address' });
      await expect(providerRequest({ method: 'GET', baseUrl: baseUrl.replace('127.0.0.1', 'localhost'), path: '/ok' })).rejects.toMatchObject({ code: 'blocked_address' });
      expect(hits.get('GET /ok')).toBeUndefined();
    } finally {
      configureProviderClient(saved);
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
