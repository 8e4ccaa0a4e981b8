/**
 * A day of 500 Zadarma calls through the real gateway and telephony (identity, intake, contacts on their
 * own databases): every abstract step of test/telephony/day.ts becomes the notifications Zadarma sends
 * for it (NOTIFY_START + NOTIFY_INTERNAL per extension rung, NOTIFY_ANSWER, NOTIFY_END, NOTIFY_OUT_START /
 * NOTIFY_OUT_END, NOTIFY_RECORD), signed by the local peer of Zadarma (test/telephony/peers/zadarma.ts),
 * with the day's repeats and out-of-order deliveries, `call_start` in Moscow time (the URL's `tz`).
 * The day must leave exactly the expected calls, requests, misses, recoveries and recordings; wrong
 * signatures are refused with 401 and store nothing; the URL check (`zd_echo`) is echoed.
 */
import { ConnectionServiceService, NumberKind, NumberServiceService, Provider } from '@crm/contracts/crm/telephony/v1/telephony';
import { createClient, type TenantContext } from '@crm/grpc';
import { zadarmaAdapter } from '@crm/telephony/src/adapters/zadarma';
import type { ConnectionRow } from '@crm/telephony/src/calls/model';
import { eventually } from '@crm/testing';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { startPlatform, type Platform } from '../support/platform';
import { generateDay, inParallel, type DayStep } from './day';
import { sendZadarmaNotification, startZadarmaPeer, zadarmaTime, type ZadarmaPeer } from './peers/zadarma';

const ZONE = 'Europe/Moscow';
const NUMBERS = ['+74950000101', '+74950000102', '+74950000103'];
const EXTENSIONS = ['101', '102', '103', '104'];
const digits = (e164: string) => e164.replace(/^\+/, '');

let p: Platform;
let peer: ZadarmaPeer;
let pool: Pool;
let hookUrl: string;
let connection: ConnectionRow;
/** Inbound calls without a request whose first delivered notification (a NOTIFY_ANSWER) had no called_did. */
let noDialedFirst: string[] | undefined;
let A: TenantContext;

beforeAll(async () => {
  const t0 = Date.now();
  [p, peer] = await Promise.all([startPlatform(), startZadarmaPeer()]);
  pool = new Pool({ connectionString: p.telephonyDbUrl, max: 2 });
  A = { tenantId: p.tenants.a.id, callerId: randomUUID(), callerKind: 'user', roles: ['admin'] };
  const connections = createClient(ConnectionServiceService, { address: p.telephonyAddr, defaultDeadlineMs: 15_000 });
  const numbers = createClient(NumberServiceService, { address: p.telephonyAddr, defaultDeadlineMs: 15_000 });
  try {
    const made = await connections.createConnection(
      { connection: { provider: Provider.PROVIDER_ZADARMA, name: 'Zadarma', apiBaseUrl: peer.url, account: peer.key, secret: peer.secret, fallbackTarget: '100', isDefault: true, disabled: false } },
      A,
    );
    const c = made.connection!;
    connection = { id: c.id, tenantId: A.tenantId, provider: 'zadarma', name: c.name, apiBaseUrl: peer.url, account: peer.key, secret: peer.secret, signingSecrets: [], fallbackTarget: '100', isDefault: true, disabled: false };
    // The notification URL an admin gives Zadarma, on this gateway, with the account's time zone.
    hookUrl = `${p.base}/webhooks/telephony/${c.id}?tz=${encodeURIComponent(ZONE)}`;
    for (const [i, phone] of NUMBERS.entries()) {
      await numbers.createNumber({ number: { phone, kind: i === 0 ? NumberKind.NUMBER_KIND_ADVERTISING : NumberKind.NUMBER_KIND_SALES, label: `n${i}`, utmSource: i === 0 ? 'yandex' : '', utmMedium: '', utmCampaign: '', projectId: '', departmentId: '', connectionId: c.id }, defaultCountry: '' }, A);
    }
  } finally {
    connections.close();
    numbers.close();
  }
  console.log(`platform up in ${Date.now() - t0} ms`);
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await peer?.close();
  await p?.stop();
});

/** The notifications Zadarma sends for one abstract step. */
function notifications(step: DayStep): Record<string, string>[] {
  const c = step.call;
  const callStart = zadarmaTime(c.startedAt, ZONE);
  if (c.direction === 'outbound') {
    const out = { pbx_call_id: `out_${c.id}`, call_start: callStart, internal: c.extension, destination: digits(c.customer) };
    if (step.kind === 'ringing') return [{ event: 'NOTIFY_OUT_START', ...out }];
    if (step.kind === 'ended') {
      return [{ event: 'NOTIFY_OUT_END', ...out, caller_id: digits(c.number), duration: String(c.talkSeconds), disposition: c.disposition === 'answered' ? 'answered' : 'no answer', status_code: c.disposition === 'answered' ? '16' : '19', is_recorded: c.recording ? '1' : '0', call_id_with_rec: c.recording ? `rec_${c.id}` : '' }];
    }
    if (step.kind === 'recording_ready') return [{ event: 'NOTIFY_RECORD', pbx_call_id: `out_${c.id}`, call_id_with_rec: `rec_${c.id}` }];
    return []; // Zadarma has no notification of an outbound answer: NOTIFY_OUT_END says it.
  }
  const inb = { pbx_call_id: `in_${c.id}`, call_start: callStart, caller_id: digits(c.customer) };
  switch (step.kind) {
    case 'ringing':
      return [{ event: 'NOTIFY_START', ...inb, called_did: digits(c.number) }, ...step.extensions.map((x) => ({ event: 'NOTIFY_INTERNAL', ...inb, called_did: digits(c.number), internal: x }))];
    case 'answered':
      return [{ event: 'NOTIFY_ANSWER', ...inb, destination: step.extensions[0]!, internal: step.extensions[0]! }];
    case 'transferred':
      // No transfer notification: the PBX rings the colleague and they answer.
      return [
        { event: 'NOTIFY_INTERNAL', ...inb, called_did: digits(c.number), internal: step.extensions[0]! },
        { event: 'NOTIFY_ANSWER', ...inb, destination: step.extensions[0]!, internal: step.extensions[0]! },
      ];
    case 'ended':
      return [
        {
          event: 'NOTIFY_END',
          ...inb,
          called_did: digits(c.number),
          internal: step.extensions[0] ?? '',
          duration: String(c.talkSeconds),
          disposition: c.disposition === 'answered' ? 'answered' : c.disposition === 'busy' ? 'busy' : 'no answer',
          status_code: c.disposition === 'busy' ? '17' : c.disposition === 'answered' ? '16' : '19',
          is_recorded: c.recording ? '1' : '0',
          call_id_with_rec: c.recording ? `rec_${c.id}` : '',
        },
      ];
    case 'recording_ready':
      return [{ event: 'NOTIFY_RECORD', pbx_call_id: `in_${c.id}`, call_id_with_rec: `rec_${c.id}` }];
  }
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  return Number((await pool.query(sql, params)).rows[0].n);
}

/** One row per distinct notification (a repeat is stored once). */
const distinctNotifications = (steps: DayStep[]) => new Set(steps.flatMap((s) => notifications(s).map((n) => JSON.stringify(n)))).size;

/** Every notification of these steps stored (some may come through the gateway's Kafka fallback) and processed. */
async function drained(steps: DayStep[]): Promise<void> {
  const want = distinctNotifications(steps);
  await eventually(async () => {
    expect(await count('SELECT count(*) AS n FROM webhook_events WHERE tenant_id = $1', [A.tenantId])).toBe(want);
    expect(await count('SELECT count(*) AS n FROM webhook_events WHERE processed_at IS NULL')).toBe(0);
  }, { timeoutMs: 240_000, intervalMs: 250 });
}

it('a day of 500 calls leaves exactly the expected calls, requests, misses, recoveries and recordings', async () => {
  const started = Date.now();
  const day = generateDay({ seed: 11, calls: Number(process.env.ZADARMA_DAY_CALLS ?? 500), date: '2026-12-01', numbers: NUMBERS, extensions: EXTENSIONS });
  for (const c of day.calls) if (c.recording) peer.recordings.set(`rec_${c.id}`, Buffer.from(`ID3 fake mp3 of ${c.id}`));
  const statuses = new Map<number, number>();
  const redirects: string[] = [];
  const lat = new Map<string, number[]>();
  const badStart: string[] = [];
  let keptInKafka = 0;
  let shed = 0;
  const deliver = async (steps: DayStep[]) => {
    const t0 = Date.now();
    // Calls in parallel, each call's deliveries one after another in the day's delivery order (which has
    // its own repeats and out-of-order steps): a provider sends the next notification of a call after
    // the previous one was answered.
    const chains = new Map<string, Promise<void>>();
    await inParallel(steps, 25, async (step) => {
      const previous = chains.get(step.call.id) ?? Promise.resolve();
      let done!: () => void;
      chains.set(step.call.id, new Promise<void>((r) => (done = r)));
      await previous;
      try {
        await sendStep(step);
      } finally {
        done();
      }
    });
    async function sendStep(step: DayStep) {
      for (const n of notifications(step)) {
        const s0 = Date.now();
        // A 503 (the gateway shedding load, Retry-After) is retried, as the provider does.
          let res = await sendZadarmaNotification(hookUrl, peer.secret, n);
          for (let retry = 0; res.status === 503 && retry < 20; retry++) {
            shed++;
            await new Promise((r) => setTimeout(r, 500));
            res = await sendZadarmaNotification(hookUrl, peer.secret, n);
          }
        lat.set(n.event!, [...(lat.get(n.event!) ?? []), Date.now() - s0]);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (n.event === 'NOTIFY_START') {
          // The synchronous answer: a redirect to the decided extension (or the fallback), or `{}`.
          // (`{"accepted":true}`: telephony was slower than the gateway's 2 s, the gateway kept it in Kafka)
          const body = JSON.parse(res.body) as { redirect?: string; accepted?: boolean };
          if (body.accepted) keptInKafka++;
          else if (Object.keys(body).some((k) => k !== 'redirect')) badStart.push(res.body);
          if (body.redirect) redirects.push(body.redirect);
        }
      }
    }
    const sent = Date.now();
    await drained(day.steps.filter((s) => s.phase <= steps[0]!.phase));
    console.log(`phase: ${steps.length} steps sent in ${sent - t0} ms, drained in ${Date.now() - sent} ms`);
  };
  await deliver(day.steps.filter((s) => s.phase === 1));
  await deliver(day.steps.filter((s) => s.phase === 2));
  console.log([...lat].map(([k, v]) => `${k}: n=${v.length} avg=${Math.round(v.reduce((a, b) => a + b, 0) / v.length)} max=${Math.max(...v)}`).join('\n'));
  expect([...statuses.keys()]).toEqual([200]);
  // Every NOTIFY_START was answered at once; without routing rules the decision is the fallback '100'.
  expect(badStart).toEqual([]);
  expect(redirects.length).toBeGreaterThan(0);

  const e = day.expected;
  const t = A.tenantId;
  expect(await count('SELECT count(*) AS n FROM calls WHERE tenant_id = $1', [t])).toBe(e.calls);
  expect(await count("SELECT count(*) AS n FROM calls WHERE tenant_id = $1 AND direction = 'inbound'", [t])).toBe(e.inbound);
  expect(await count('SELECT count(*) AS n FROM calls WHERE tenant_id = $1 AND missed', [t])).toBe(e.missed);
  expect(await count("SELECT count(*) AS n FROM calls WHERE tenant_id = $1 AND direction = 'inbound' AND status = 'ended' AND disposition = 'answered'", [t])).toBe(e.answeredInbound);
  expect(await count("SELECT count(*) AS n FROM calls WHERE tenant_id = $1 AND status NOT IN ('ended', 'missed')", [t])).toBe(0);
  // Recovered: exactly the misses whose callback connected, each by its callback.
  const recovered = (await pool.query("SELECT m.provider_call_id AS miss, c.provider_call_id AS cb FROM calls m JOIN calls c ON c.id::text = m.recovered_by_call_id WHERE m.tenant_id = $1 AND m.missed AND m.recovered_at IS NOT NULL", [t])).rows as { miss: string; cb: string }[];
  const want = day.calls.filter((c) => c.scenario === 'callback' && c.disposition === 'answered').map((c) => ({ miss: `in_${c.recovers}`, cb: `out_${c.id}` }));
  expect(recovered.sort((a, b) => a.miss.localeCompare(b.miss))).toEqual(want.sort((a, b) => a.miss.localeCompare(b.miss)));
  expect(recovered).toHaveLength(e.recovered);
  // Every inbound call has its phone request — here those whose first notification named the dialed number
  // (NOTIFY_START / INTERNAL / END carry called_did); the others: the `it.failing` below.
  const first = new Map<string, Record<string, string>>();
  for (const s of day.steps) for (const n of notifications(s)) if (!first.has(n.pbx_call_id!)) first.set(n.pbx_call_id!, n);
  const withoutRequest = (await pool.query("SELECT provider_call_id AS id FROM calls WHERE tenant_id = $1 AND direction = 'inbound' AND request_id = ''", [t])).rows.map((r: { id: string }) => r.id);
  noDialedFirst = withoutRequest.filter((id) => !first.get(id)?.called_did);
  expect(withoutRequest.filter((id) => first.get(id)?.called_did)).toEqual([]);
  // The times are the day's (call_start read in Moscow time).
  const sample = day.calls.find((c) => c.scenario === 'answered')!;
  const row = (await pool.query('SELECT started_at, answered_extension, talk_seconds FROM calls WHERE provider_call_id = $1', [`in_${sample.id}`])).rows[0];
  // (call_start has whole seconds)
  expect(new Date(row.started_at).getTime()).toBe(Math.floor(sample.startedAt.getTime() / 1000) * 1000);
  expect(row).toMatchObject({ answered_extension: sample.extension, talk_seconds: sample.talkSeconds });
  // Recordings: asked for with the API's signature, downloaded from the link, kept once per call.
  await eventually(async () => {
    expect(await count('SELECT count(*) AS n FROM call_recordings WHERE tenant_id = $1', [t])).toBe(e.recordings);
  }, { timeoutMs: 30_000, intervalMs: 250 });
  const recordRequests = peer.requests.filter((r) => r.path === '/v1/pbx/record/request/');
  expect(recordRequests.length).toBeGreaterThanOrEqual(e.recordings);
  expect(recordRequests.every((r) => r.authorized && r.params.format === 'json')).toBe(true);
  // Repeats were stored once: one row per distinct notification.
  expect(await count('SELECT count(*) AS n FROM webhook_events WHERE tenant_id = $1', [t])).toBe(distinctNotifications(day.steps));
  console.log(`zadarma day: ${e.calls} calls, ${e.deliveries} steps (${e.repeats} repeats, ${e.outOfOrder} out of order), ${distinctNotifications(day.steps)} notifications stored (${keptInKafka} via the gateway's Kafka fallback, ${shed} retried after a 503), ${e.missed} missed, ${e.recovered} recovered, ${e.recordings} recordings in ${Date.now() - started} ms`);
}, 600_000);

// Known gap (calls/ingest.ts, not the adapter): a call first seen through an event without the dialed number
// (NOTIFY_ANSWER has none; here a START delivered after it) is recorded as `unknown_number` and never gets
// its number — nor its request — when the START brings it. This passes while the gap exists (it fails, as
// `it.failing` should); once ingest resolves the number from a later event, drop `.failing`.
it.failing('every inbound call has its request even when its NOTIFY_ANSWER came before its NOTIFY_START', () => {
  expect(noDialedFirst).toEqual([]);
});

it('refuses wrong signatures with 401 and stores nothing; echoes zd_echo', async () => {
  const before = await count('SELECT count(*) AS n FROM webhook_events');
  const fields = { event: 'NOTIFY_START', pbx_call_id: 'in_forged', call_start: '2026-12-01 12:00:00', caller_id: '79160000001', called_did: digits(NUMBERS[0]!) };
  for (const signature of ['', 'Zm9yZ2Vk', Buffer.from('deadbeef').toString('base64')]) {
    const res = await sendZadarmaNotification(hookUrl, peer.secret, fields, { signature });
    expect(res.status).toBe(401);
  }
  // Signed with another secret, and a signed START whose caller was changed afterwards.
  expect((await sendZadarmaNotification(hookUrl, 'not-the-secret', fields)).status).toBe(401);
  const { notificationSignature } = await import('./peers/zadarma');
  expect((await sendZadarmaNotification(hookUrl, peer.secret, { ...fields, caller_id: '79169999999' }, { signature: notificationSignature(peer.secret, fields) })).status).toBe(401);
  expect(await count('SELECT count(*) AS n FROM webhook_events')).toBe(before);
  const echo = await fetch(`${hookUrl}&zd_echo=check-42`);
  expect(echo.status).toBe(200);
  expect(await echo.text()).toBe('check-42');
});

it('originates and fetches recordings through the API the way the peer accepts', async () => {
  const { providerCallId } = await zadarmaAdapter.originate!(connection, { extension: '101', phone: '+79161234567' });
  expect(providerCallId).toMatch(/^callback:101:79161234567:\d+$/);
  const asked = peer.requests.filter((r) => r.path === '/v1/request/callback/');
  expect(asked.at(-1)).toEqual({ path: '/v1/request/callback/', params: { from: '101', to: '79161234567', format: 'json' }, authorized: true });
  peer.recordings.set('1700000000.42', Buffer.from('ID3 one recording'));
  const got = await zadarmaAdapter.downloadRecording!(connection, 'zadarma:record?call_id=1700000000.42&pbx_call_id=in_x');
  expect(got).toEqual({ contentType: 'audio/mpeg', data: Buffer.from('ID3 one recording') });
  // The API refusing (another secret: its signature is wrong) is UNAVAILABLE provider_unavailable.
  await expect(zadarmaAdapter.originate!({ ...connection, secret: 'wrong' }, { extension: '101', phone: '+79161234567' })).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'provider_unavailable' });
  expect(peer.requests.at(-1)!.authorized).toBe(false);
});
