/**
 * The call lifecycle against the real platform (identity, intake, contacts, telephony on their own
 * databases): stored webhook events (webhook_events rows with their processing job, as
 * WebhookService.Receive stores them) applied by telephony's graphile runner. The same calls whatever
 * the order or repetition; an inbound call makes one phone request with the number's attribution; a
 * miss marks the request missed and a callback recovers it with the time; a call to another tenant's
 * number is ignored; with intake down the call is recorded, the job retried later, nothing lost.
 */
import { parseConfig } from '@crm/config';
import { IntakeServiceService } from '@crm/contracts/crm/intake/v1/intake';
import { Channel } from '@crm/contracts/crm/intake/v1/request';
import { CallRecovered } from '@crm/contracts/crm/telephony/events/v1/call_events';
import { CallDirection, CallServiceService, CallStatus } from '@crm/contracts/crm/telephony/v1/telephony';
import { createClient, status, type ServiceError, type TenantContext } from '@crm/grpc';
import type { RunningService } from '@crm/service';
import type { NormalizedCallEvent } from '@crm/telephony/src/calls/model';
import { startTelephony, telephonyEnv } from '@crm/telephony/src/app';
import { createTestDatabase, stackUrls, type TestDatabase } from '@crm/testing';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { startPlatform, type Platform } from '../support/platform';

let p: Platform;
let pool: Pool;
let intake: ReturnType<typeof createClient<typeof IntakeServiceService>>;
let calls: ReturnType<typeof createClient<typeof CallServiceService>>;
let A: TenantContext;
let connA: string;
const svc = (tenantId: string): TenantContext => ({ tenantId, callerId: 'test', callerKind: 'service' });
const DIALED = '+74950001001';
const FOREIGN = '+74950001002';

async function addConnection(db: Pool, tenantId: string): Promise<string> {
  const id = randomUUID();
  await db.query(`INSERT INTO connections (id, tenant_id, provider, name, created_at, updated_at) VALUES ($1, $2, 'generic', 'PBX', now(), now())`, [id, tenantId]);
  return id;
}

async function addNumber(db: Pool, tenantId: string, phone: string): Promise<void> {
  await db.query(
    `INSERT INTO numbers (id, tenant_id, phone, kind, utm_source, utm_medium, utm_campaign, created_at, updated_at) VALUES ($1, $2, $3, 'advertising', 'yandex', 'cpc', 'winter', now(), now())`,
    [randomUUID(), tenantId, phone],
  );
}

/** What WebhookService.Receive stores for one delivery: the row and its processing job, in one transaction. */
async function deliver(db: Pool, tenantId: string, connectionId: string, events: NormalizedCallEvent[]): Promise<string> {
  const id = randomUUID();
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO webhook_events (id, tenant_id, connection_id, provider, delivery_id, path, method, headers, body, received_at, events)
       VALUES ($1, $2, $3, 'generic', $4, '/events/call', 'POST', '{}', ''::bytea, now(), $5::jsonb)`,
      [id, tenantId, connectionId, `d-${id}`, JSON.stringify(events)],
    );
    await client.query(`SELECT graphile_worker.add_job('telephony_process_webhook', $1::json, queue_name => $2, job_key => $3, max_attempts => 25)`, [
      JSON.stringify({ tenantId, webhookEventId: id }),
      `call:${connectionId}:${events[0]!.providerCallId}`,
      `webhook:${id}`,
    ]);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  return id;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function processed(db: Pool, ids: string[]): Promise<void> {
  await until(`webhooks ${ids.join(',')} processed`, async () => {
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM webhook_events WHERE id = ANY($1) AND processed_at IS NOT NULL', [ids]);
    return Number(rows[0]!.n) === ids.length ? true : undefined;
  });
}

interface CallDb {
  id: string;
  status: string;
  direction: string;
  caller: string;
  started_at: Date;
  answered_at: Date | null;
  ended_at: Date | null;
  duration_seconds: number;
  talk_seconds: number;
  disposition: string;
  missed: boolean;
  request_id: string;
  contact_id: string;
  number_id: string;
  number_issue: string;
  utm_source: string;
  recovered_at: Date | null;
  recovered_by_call_id: string;
  recovered_call_ids: string[];
  published: string[];
}

async function callOf(db: Pool, connectionId: string, providerCallId: string): Promise<CallDb | undefined> {
  const { rows } = await db.query<CallDb>('SELECT * FROM calls WHERE connection_id = $1 AND provider_call_id = $2', [connectionId, providerCallId]);
  return rows[0];
}

const t0 = Date.now() - 3_600_000;
const at = (s: number) => new Date(t0 + s * 1000).toISOString();
function answeredCall(pc: string, caller: string): NormalizedCallEvent[] {
  const b = { providerCallId: pc, direction: 'inbound' as const, caller, dialed: DIALED };
  return [
    { ...b, kind: 'ringing', providerEventId: `${pc}-1`, at: at(0), seq: 1, extensions: ['101'] },
    { ...b, kind: 'answered', providerEventId: `${pc}-2`, at: at(5), seq: 2, extension: '101' },
    { ...b, kind: 'ended', providerEventId: `${pc}-3`, at: at(65), seq: 3, disposition: 'answered', durationSeconds: 65 },
  ];
}

beforeAll(async () => {
  p = await startPlatform();
  pool = new Pool({ connectionString: p.telephonyDbUrl, max: 3 });
  intake = createClient(IntakeServiceService, { address: p.intakeAddr, defaultDeadlineMs: 15_000 });
  calls = createClient(CallServiceService, { address: p.telephonyAddr, defaultDeadlineMs: 15_000 });
  A = svc(p.tenants.a.id);
  connA = await addConnection(pool, p.tenants.a.id);
  await addNumber(pool, p.tenants.a.id, DIALED);
  await addNumber(pool, p.tenants.b.id, FOREIGN);
}, 120_000);

afterAll(async () => {
  intake?.close();
  calls?.close();
  await pool?.end();
  await p?.stop();
});

describe('call ingest', () => {
  it('in order, shuffled and duplicated deliveries converge to the same call; one phone request with the number attribution', async () => {
    const inOrder = answeredCall('conv-1', '+79160000001');
    const ids1: string[] = [];
    for (const e of inOrder) {
      ids1.push(await deliver(pool, A.tenantId, connA, [e]));
      await processed(pool, ids1);
    }
    // The same call's events backwards, each twice, the repeat in one delivery with the next one.
    const other = answeredCall('conv-2', '+79160000002');
    const ids2: string[] = [];
    ids2.push(await deliver(pool, A.tenantId, connA, [other[2]!]));
    await processed(pool, ids2);
    ids2.push(await deliver(pool, A.tenantId, connA, [other[2]!, other[1]!]));
    await processed(pool, ids2);
    ids2.push(await deliver(pool, A.tenantId, connA, [other[0]!, other[1]!, other[0]!]));
    await processed(pool, ids2);

    const c1 = (await callOf(pool, connA, 'conv-1'))!;
    const c2 = (await callOf(pool, connA, 'conv-2'))!;
    const shape = (c: CallDb) => ({
      status: c.status,
      direction: c.direction,
      startedAt: c.started_at.toISOString(),
      answeredAt: c.answered_at?.toISOString(),
      endedAt: c.ended_at?.toISOString(),
      duration: c.duration_seconds,
      talk: c.talk_seconds,
      disposition: c.disposition,
      missed: c.missed,
      utm: c.utm_source,
    });
    expect(shape(c1)).toEqual({ status: 'ended', direction: 'inbound', startedAt: at(0), answeredAt: at(5), endedAt: at(65), duration: 65, talk: 60, disposition: 'answered', missed: false, utm: 'yandex' });
    expect(shape(c2)).toEqual(shape(c1));
    const events = await pool.query<{ n: string }>('SELECT count(*) AS n FROM call_events WHERE call_id = $1', [c2.id]);
    expect(Number(events.rows[0]!.n)).toBe(3);
    // Published once each, in-order or not (a call first seen ended never pops as ringing); a call that
    // rang before its request was made pops again once it has one (`ringing:request`).
    expect([...c1.published].sort()).toEqual(['answered', 'ended', 'ringing', 'ringing:request']);
    expect([...c2.published].sort()).toEqual(['answered', 'ended']);
    const outbox = await pool.query<{ event_type: string; n: string }>('SELECT event_type, count(*) AS n FROM outbox WHERE subject = $1 GROUP BY 1', [c2.id]);
    expect(outbox.rows.every((r) => r.n === '1')).toBe(true);

    for (const c of [c1, c2]) {
      expect(c.request_id).not.toBe('');
      const req = (await intake.getRequest({ id: c.request_id }, A)).request!;
      expect(req).toMatchObject({ phone: c.caller, dialedNumberKind: 'advertising', missed: false });
      expect(req.axes?.channel).toBe(Channel.CHANNEL_PHONE);
      expect(req.attribution).toMatchObject({ utmSource: 'yandex', utmMedium: 'cpc', utmCampaign: 'winter' });
      // Answered: a first response (the answer's time, or the request's own when that is later).
      expect(req.firstResponseAt).not.toBe('');
      expect(c.contact_id).toBe(req.contactId);
    }
    // One request per caller, however often its events came and its jobs ran.
    const ipool = new Pool({ connectionString: p.intakeDbUrl, max: 1 });
    try {
      const { rows } = await ipool.query<{ phone: string; n: string }>('SELECT phone, count(*) AS n FROM requests WHERE phone = ANY($1) GROUP BY 1 ORDER BY 1', [[c1.caller, c2.caller]]);
      expect(rows).toEqual([
        { phone: c1.caller, n: '1' },
        { phone: c2.caller, n: '1' },
      ]);
    } finally {
      await ipool.end();
    }
  });

  it('a miss marks the request missed; a callback within the window recovers it with the time', async () => {
    const caller = '+79160000003';
    const b = { providerCallId: 'miss-1', direction: 'inbound' as const, caller, dialed: DIALED };
    const missIds = [
      await deliver(pool, A.tenantId, connA, [
        { ...b, kind: 'ringing', providerEventId: 'miss-1-1', at: at(100) },
        { ...b, kind: 'ended', providerEventId: 'miss-1-2', at: at(130), disposition: 'no_answer' },
      ]),
    ];
    await processed(pool, missIds);
    const miss = (await callOf(pool, connA, 'miss-1'))!;
    expect(miss).toMatchObject({ status: 'missed', missed: true, disposition: 'no_answer' });
    const before = (await intake.getRequest({ id: miss.request_id }, A)).request!;
    expect(before.missed).toBe(true);
    expect(before.missedRecoveredAt).toBe('');

    const o = { providerCallId: 'back-1', direction: 'outbound' as const, caller: DIALED, callee: caller };
    const backIds = [
      await deliver(pool, A.tenantId, connA, [
        { ...o, kind: 'ringing', providerEventId: 'back-1-1', at: at(400), extension: '101' },
        { ...o, kind: 'answered', providerEventId: 'back-1-2', at: at(410) },
        { ...o, kind: 'ended', providerEventId: 'back-1-3', at: at(500), disposition: 'answered' },
      ]),
    ];
    await processed(pool, backIds);
    const back = (await callOf(pool, connA, 'back-1'))!;
    const recovered = (await callOf(pool, connA, 'miss-1'))!;
    expect(back.recovered_call_ids).toEqual([miss.id]);
    expect(recovered.recovered_at?.toISOString()).toBe(at(410));
    expect(recovered.recovered_by_call_id).toBe(back.id);
    const after = (await intake.getRequest({ id: miss.request_id }, A)).request!;
    expect(after.missed).toBe(true);
    expect(after.missedRecoveredAt).toBe(at(410));
    // The callback is the request's first response.
    expect(before.firstResponseAt).toBe('');
    expect(after.firstResponseAt).not.toBe('');
    const ev = await pool.query<{ payload: Buffer }>("SELECT payload FROM outbox WHERE subject = $1 AND event_type = 'crm.telephony.call.recovered.v1'", [miss.id]);
    expect(ev.rows).toHaveLength(1);
    expect(CallRecovered.decode(ev.rows[0]!.payload).callbackSeconds).toBe(280);
    const missedEv = await pool.query("SELECT 1 FROM outbox WHERE subject = $1 AND event_type = 'crm.telephony.call.missed.v1'", [miss.id]);
    expect(missedEv.rows).toHaveLength(1);
  });

  it('a call to another tenant’s number is ignored (foreign_number); to an unknown number it is recorded without a request', async () => {
    const b = { direction: 'inbound' as const, caller: '+79160000004' };
    const ids = [
      await deliver(pool, A.tenantId, connA, [{ ...b, providerCallId: 'foreign-1', dialed: FOREIGN, kind: 'ringing', providerEventId: 'f-1', at: at(10) }]),
      await deliver(pool, A.tenantId, connA, [{ ...b, providerCallId: 'unknown-1', dialed: '+74950009999', kind: 'ringing', providerEventId: 'u-1', at: at(10) }]),
    ];
    await processed(pool, ids);
    expect(await callOf(pool, connA, 'foreign-1')).toBeUndefined();
    const { rows } = await pool.query<{ last_error: string }>('SELECT last_error FROM webhook_events WHERE id = $1', [ids[0]]);
    expect(rows[0]!.last_error).toBe('foreign_number');
    expect(await callOf(pool, connA, 'unknown-1')).toMatchObject({ number_issue: 'unknown_number', number_id: '', request_id: '', status: 'ringing' });
  });

  it('intake down: the call is recorded at once, the job fails and is retried later; nothing is lost', async () => {
    const db: TestDatabase = await createTestDatabase('tel_down');
    const env = (intakeAddr: string) =>
      parseConfig(telephonyEnv, {
        KAFKA_BROKERS: stackUrls().kafkaBrokers.join(','),
        GRPC_PORT: '0',
        GRPC_HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        TOPIC_SUFFIX: p.topicSuffix,
        DATABASE_URL: db.url,
        INTAKE_GRPC_ADDR: intakeAddr,
        CONTACTS_GRPC_ADDR: '127.0.0.1:1',
        IDENTITY_GRPC_ADDR: '127.0.0.1:1',
        TELEPHONY_JOB_POLL_MS: '200',
      });
    let down: RunningService | undefined = await startTelephony(env('127.0.0.1:1'));
    const dpool = new Pool({ connectionString: db.url, max: 2 });
    try {
      const conn = await addConnection(dpool, A.tenantId);
      await addNumber(dpool, A.tenantId, '+74950001003');
      const hook = await deliver(dpool, A.tenantId, conn, [
        { providerCallId: 'down-1', direction: 'inbound', caller: '+79160000005', dialed: '+74950001003', kind: 'ringing', providerEventId: 'down-1-1', at: at(20) },
      ]);
      const first = await until('the failed attempt', async () => {
        const { rows } = await dpool.query<{ attempts: number; last_error: string; processed_at: Date | null }>('SELECT attempts, last_error, processed_at FROM webhook_events WHERE id = $1', [hook]);
        return rows[0]!.last_error ? rows[0]! : undefined;
      });
      expect(first.processed_at).toBeNull();
      // Recorded (and the screen pop published) although intake could not be asked.
      expect(await callOf(dpool, conn, 'down-1')).toMatchObject({ status: 'ringing', request_id: '', published: ['ringing'] });
      await down.stop();
      down = undefined;
      // intake back: graphile retries the job (its backoff), the request is made once.
      down = await startTelephony(env(p.intakeAddr));
      await processed(dpool, [hook]);
      const call = (await callOf(dpool, conn, 'down-1'))!;
      expect(call.request_id).not.toBe('');
      expect((await intake.getRequest({ id: call.request_id }, A)).request!.phone).toBe('+79160000005');
    } finally {
      await down?.stop();
      await dpool.end();
      await db.drop().catch(() => undefined);
    }
  }, 60_000);

  it('CallService: get, list newest first with a keyset, events, missed stats, the recording, who sees what, originate refusals', async () => {
    const c1 = (await callOf(pool, connA, 'conv-1'))!;
    const got = (await calls.getCall({ id: c1.id }, A)).call!;
    expect(got).toMatchObject({ id: c1.id, direction: CallDirection.CALL_DIRECTION_INBOUND, status: CallStatus.CALL_STATUS_ENDED, requestId: c1.request_id, utmSource: 'yandex' });
    const all: string[] = [];
    let token = '';
    do {
      const page = await calls.listCalls({ pageSize: 2, pageToken: token, contactId: '', requestId: '', userId: '', direction: 0, numberId: '', since: '', until: '', live: false }, A);
      all.push(...page.calls.map((c) => c.id));
      token = page.nextPageToken;
    } while (token);
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM calls WHERE tenant_id = $1 ORDER BY started_at DESC, id DESC', [A.tenantId]);
    expect(all).toEqual(rows.map((r) => r.id));
    const missedOnly = await calls.listCalls({ pageSize: 50, pageToken: '', contactId: '', requestId: '', userId: '', direction: 0, missed: true, numberId: '', since: '', until: '', live: false }, A);
    expect(missedOnly.calls.map((c) => c.missed)).toEqual(missedOnly.calls.map(() => true));
    expect(missedOnly.calls.length).toBeGreaterThan(0);
    const bad = await calls.listCalls({ pageSize: 2, pageToken: 'nope', contactId: 'x', requestId: '', userId: '', direction: 0, numberId: '', since: '', until: '', live: false }, A).catch((e: ServiceError) => e);
    expect((bad as ServiceError).code).toBe(status.INVALID_ARGUMENT);

    const evs = (await calls.listCallEvents({ callId: c1.id }, A)).events;
    expect(evs.map((e) => e.kind)).toEqual(['ringing', 'answered', 'ended']);

    const stats = await calls.missedCallStats({ since: at(-10), until: new Date().toISOString(), timeZone: 'Europe/Moscow', kind: 0 }, A);
    expect(stats).toMatchObject({ timeZone: 'Europe/Moscow', totalMissed: 1, totalRecovered: 1 });
    expect(stats.rows[0]).toMatchObject({ phone: DIALED, missed: 1, recovered: 1, medianCallbackSeconds: 280 });

    await pool.query(`INSERT INTO call_recordings (call_id, tenant_id, content_type, size_bytes, data, created_at) VALUES ($1, $2, 'audio/mpeg', 10, $3, now())`, [c1.id, A.tenantId, Buffer.from('0123456789')]);
    const chunk = await calls.fetchRecording({ callId: c1.id, offset: 4, limit: 3 }, A);
    expect({ type: chunk.contentType, size: chunk.size, data: Buffer.from(chunk.data).toString() }).toEqual({ type: 'audio/mpeg', size: 10, data: '456' });
    expect(((await calls.fetchRecording({ callId: c1.id, offset: 10, limit: 3 }, A).catch((e: ServiceError) => e)) as ServiceError).code).toBe(status.INVALID_ARGUMENT);

    // A seller sees only their own and their departments' calls; another tenant sees nothing.
    const sellerId = randomUUID();
    const seller: TenantContext = { tenantId: A.tenantId, callerId: sellerId, callerKind: 'user', roles: ['seller'], departmentIds: [] };
    expect(((await calls.getCall({ id: c1.id }, seller).catch((e: ServiceError) => e)) as ServiceError).code).toBe(status.NOT_FOUND);
    expect(((await calls.getCall({ id: c1.id }, svc(p.tenants.b.id)).catch((e: ServiceError) => e)) as ServiceError).code).toBe(status.NOT_FOUND);
    await pool.query('UPDATE calls SET user_id = $1 WHERE id = $2', [sellerId, c1.id]);
    expect((await calls.getCall({ id: c1.id }, seller)).call!.id).toBe(c1.id);

    // Click-to-call: no extension, then a provider that cannot place calls.
    const originate = { phone: '+7 916 000-00-09', requestId: '', contactId: '', connectionId: connA, idempotencyKey: '' };
    const noExt = (await calls.originate(originate, seller).catch((e: ServiceError) => e)) as ServiceError;
    expect(noExt.code).toBe(status.FAILED_PRECONDITION);
    expect(noExt.details).toMatch(/extension/);
    await pool.query(`INSERT INTO extensions (id, tenant_id, connection_id, user_id, extension, created_at) VALUES ($1, $2, $3, $4, '109', now())`, [randomUUID(), A.tenantId, connA, sellerId]);
    const unsupported = (await calls.originate(originate, seller).catch((e: ServiceError) => e)) as ServiceError;
    expect(unsupported.code).toBe(status.FAILED_PRECONDITION);
    expect(unsupported.details).toMatch(/cannot place calls/);
    expect(((await calls.originate({ ...originate, phone: 'abc' }, seller).catch((e: ServiceError) => e)) as ServiceError).code).toBe(status.INVALID_ARGUMENT);
  });

  it('recording_ready: the recording is downloaded once, kept, served in pieces, and announced once', async () => {
    // A local peer standing in for the provider's recording storage.
    const audio = Buffer.alloc(300_000, 7);
    let hits = 0;
    const peer = createServer((req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': String(audio.length) });
      res.end(audio);
    });
    await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(peer.address() as AddressInfo).port}/rec/1.mp3`;
      const calls0 = answeredCall('rec-1', '+79160000006');
      const rec: NormalizedCallEvent = { ...calls0[0]!, kind: 'recording_ready', providerEventId: 'rec-1-4', at: at(70), seq: 4, recording: { url, contentType: 'audio/mpeg' } };
      const ids = [await deliver(pool, A.tenantId, connA, [...calls0, rec]), await deliver(pool, A.tenantId, connA, [rec])];
      await processed(pool, ids);
      const call = (await callOf(pool, connA, 'rec-1'))!;
      const kept = await until('the recording', async () => {
        const { rows } = await pool.query<{ size_bytes: number; content_type: string }>('SELECT size_bytes, content_type FROM call_recordings WHERE call_id = $1', [call.id]);
        return rows[0];
      });
      expect(kept).toEqual({ size_bytes: audio.length, content_type: 'audio/mpeg' });
      expect(hits).toBe(1);
      const chunk = await calls.fetchRecording({ callId: call.id, offset: 299_990, limit: 100 }, A);
      expect({ size: chunk.size, n: chunk.data.length }).toEqual({ size: audio.length, n: 10 });
      expect((await calls.getCall({ id: call.id }, A)).call!.hasRecording).toBe(true);
      const ev = await pool.query("SELECT 1 FROM outbox WHERE subject = $1 AND event_type = 'crm.telephony.call.recording_ready.v1'", [call.id]);
      expect(ev.rows).toHaveLength(1);
    } finally {
      await new Promise((r) => peer.close(r));
    }
  });
});
