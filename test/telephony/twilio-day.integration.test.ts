/**
 * A day of 500 Twilio calls through the real gateway and telephony (identity, intake, contacts on their
 * own databases): every abstract step of test/telephony/day.ts becomes the requests Twilio makes for it
 * — the number's voice URL (`/voice`, answered with TwiML `<Dial>`), the dialed legs' status callbacks
 * (`/leg`), the `<Dial action>` (`/dial`), the call's status callback (`/status`), recording status
 * callbacks (`/recording`); our click-to-call calls' callbacks (`outbound-api`) — signed by the local
 * peer of Twilio (test/telephony/peers/twilio.ts) over the URL called, with the day's repeats and
 * out-of-order deliveries. The day must leave exactly the expected calls, requests, misses, transfers,
 * recoveries and recordings; wrong signatures are refused with 401 and store nothing. The adapter's
 * REST calls (originate, transfer) are what the peer accepts.
 */
import { ConnectionServiceService, NumberKind, NumberServiceService, Provider } from '@crm/contracts/crm/telephony/v1/telephony';
import { createClient, type TenantContext } from '@crm/grpc';
import { twilioAdapter } from '@crm/telephony/src/adapters/twilio';
import type { ConnectionRow } from '@crm/telephony/src/calls/model';
import { eventually } from '@crm/testing';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { startPlatform, type Platform } from '../support/platform';
import { generateDay, inParallel, type DayCall, type DayStep } from './day';
import { sendTwilioWebhook, startTwilioPeer, twilioRequestSignature, type TwilioPeer } from './peers/twilio';

const NUMBERS = ['+74950000201', '+74950000202', '+74950000203'];
const EXTENSIONS = ['alice', 'bob', 'carol', 'dave'];

let p: Platform;
let peer: TwilioPeer;
let pool: Pool;
let base: string;
let connection: ConnectionRow;
let A: TenantContext;

beforeAll(async () => {
  const t0 = Date.now();
  [p, peer] = await Promise.all([startPlatform(), startTwilioPeer()]);
  pool = new Pool({ connectionString: p.telephonyDbUrl, max: 2 });
  A = { tenantId: p.tenants.a.id, callerId: randomUUID(), callerKind: 'user', roles: ['admin'] };
  const connections = createClient(ConnectionServiceService, { address: p.telephonyAddr, defaultDeadlineMs: 15_000 });
  const numbers = createClient(NumberServiceService, { address: p.telephonyAddr, defaultDeadlineMs: 15_000 });
  try {
    const c = (await connections.createConnection({ connection: { provider: Provider.PROVIDER_TWILIO, name: 'Twilio', apiBaseUrl: peer.url, account: peer.accountSid, secret: peer.authToken, fallbackTarget: 'reception', isDefault: true, disabled: false } }, A)).connection!;
    base = `${p.base}/webhooks/telephony/${c.id}`;
    connection = { id: c.id, tenantId: A.tenantId, provider: 'twilio', name: c.name, apiBaseUrl: peer.url, account: peer.accountSid, secret: peer.authToken, signingSecrets: [], fallbackTarget: 'reception', isDefault: true, disabled: false };
    for (const [i, phone] of NUMBERS.entries()) {
      await numbers.createNumber({ number: { phone, kind: i === 0 ? NumberKind.NUMBER_KIND_ADVERTISING : NumberKind.NUMBER_KIND_SALES, label: `n${i}`, utmSource: '', utmMedium: '', utmCampaign: '', projectId: '', departmentId: '', connectionId: c.id }, defaultCountry: '' }, A);
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

const sid = (c: DayCall) => `CA${c.id.padStart(32, '0')}`;
const legSid = (c: DayCall, ext: string) => `CA${`${c.id}${ext}`.padStart(32, '0')}`;
const recSid = (c: DayCall) => `RE${c.id.padStart(32, '0')}`;
/** Twilio's `Timestamp` (RFC 2822). */
const stamp = (at: Date) => at.toUTCString().replace('GMT', '+0000');

/** The requests Twilio makes for one abstract step: [path + query, parameters]. */
function requests(step: DayStep): [string, Record<string, string>][] {
  const c = step.call;
  const account = { AccountSid: peer.accountSid, ApiVersion: '2010-04-01' };
  const recording: [string, Record<string, string>] = ['/recording', { ...account, CallSid: sid(c), RecordingSid: recSid(c), RecordingUrl: `${peer.url}/2010-04-01/Accounts/${peer.accountSid}/Recordings/${recSid(c)}`, RecordingStatus: 'completed', RecordingDuration: String(c.talkSeconds), RecordingChannels: '1', RecordingSource: 'DialVerb' }];
  if (c.direction === 'outbound') {
    const parent = { ...account, CallSid: sid(c), From: c.number, To: `client:${c.extension}`, Direction: 'outbound-api', Timestamp: stamp(step.at) };
    const status = `/status?to=${encodeURIComponent(c.customer)}`;
    const leg = `/leg?dir=outbound&ext=${encodeURIComponent(c.extension)}`;
    const child = { ...account, CallSid: legSid(c, 'c'), ParentCallSid: sid(c), From: c.number, To: c.customer, Direction: 'outbound-dial', Timestamp: stamp(step.at) };
    switch (step.kind) {
      case 'ringing':
        return [[status, { ...parent, CallStatus: 'ringing', SequenceNumber: '1' }]];
      case 'answered':
        return [[leg, { ...child, CallStatus: 'in-progress', SequenceNumber: '2' }]];
      case 'ended':
        return c.disposition === 'answered'
          ? [[status, { ...parent, CallStatus: 'completed', CallDuration: String(c.durationSeconds), SequenceNumber: '3' }]]
          : [
              [leg, { ...child, CallStatus: 'no-answer', CallDuration: '0', SequenceNumber: '2' }],
              [status, { ...parent, CallStatus: 'completed', CallDuration: String(c.durationSeconds), SequenceNumber: '3' }],
            ];
      case 'recording_ready':
        return [recording];
      default:
        return [];
    }
  }
  const call = { ...account, CallSid: sid(c), From: c.customer, To: c.number, Direction: 'inbound', Caller: c.customer, Called: c.number };
  // The leg callback URL our voice answer gave Twilio (the dialed number in it; a transfer's marked).
  const leg = (ext: string, status: string, seq: number, transfer = false): [string, Record<string, string>] => [
    `/leg?dir=inbound${transfer ? '&xfer=1' : ''}&dialed=${encodeURIComponent(c.number)}`,
    { ...account, CallSid: legSid(c, transfer ? `x${ext}` : ext), ParentCallSid: sid(c), From: c.customer, To: `client:${ext}`, Direction: 'outbound-dial', CallStatus: status, SequenceNumber: String(seq), Timestamp: stamp(step.at) },
  ];
  switch (step.kind) {
    case 'ringing':
      return [['/voice', { ...call, CallStatus: 'ringing' }], ...step.extensions.map((x) => leg(x, 'ringing', 1))];
    case 'answered':
      return [leg(step.extensions[0]!, 'in-progress', 2)];
    case 'transferred':
      return [leg(step.extensions[0]!, 'ringing', 1, true), leg(step.extensions[0]!, 'in-progress', 2, true)];
    case 'ended': {
      const completed: [string, Record<string, string>] = ['/status', { ...call, CallStatus: 'completed', CallDuration: String(c.durationSeconds), Timestamp: stamp(step.at), SequenceNumber: '9' }];
      if (c.scenario === 'offhours') return [['/status', { ...call, CallStatus: 'no-answer', CallDuration: '0', Timestamp: stamp(step.at), SequenceNumber: '9' }]];
      if (c.disposition === 'answered') return [['/dial', { ...call, CallStatus: 'in-progress', DialCallStatus: 'completed', DialCallSid: legSid(c, c.extension), DialCallDuration: String(c.talkSeconds) }], completed];
      return [['/dial', { ...call, CallStatus: 'in-progress', DialCallStatus: c.disposition === 'busy' ? 'busy' : 'no-answer' }], completed];
    }
    case 'recording_ready':
      return [recording];
  }
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  return Number((await pool.query(sql, params)).rows[0].n);
}

it('a day of 500 calls leaves exactly the expected calls, requests, misses, transfers, recoveries and recordings', async () => {
  const started = Date.now();
  const day = generateDay({ seed: 12, calls: Number(process.env.TWILIO_DAY_CALLS ?? 500), date: '2026-12-01', numbers: NUMBERS, extensions: EXTENSIONS });
  for (const c of day.calls) if (c.recording) peer.recordings.set(recSid(c), Buffer.from(`ID3 fake mp3 of ${c.id}`));
  const statuses = new Map<string, number>();
  let dialed = 0;
  const badVoice: string[] = [];
  let keptInKafka = 0;
  let shed = 0;
  // What is stored: one row per distinct request that has events (a `<Dial action>` that connected has none).
  const stored = (steps: DayStep[]) => new Set(steps.flatMap((s) => requests(s).filter(([path, q]) => !(path === '/dial' && q.DialCallStatus === 'completed')).map(([path, q]) => `${path} ${JSON.stringify(q)}`))).size;
  const deliver = async (steps: DayStep[]) => {
    const t0 = Date.now();
    // Calls in parallel; each call's requests one after another in the day's delivery order (with its
    // repeats and out-of-order steps).
    const chains = new Map<string, Promise<void>>();
    await inParallel(steps, 25, async (step) => {
      const previous = chains.get(step.call.id) ?? Promise.resolve();
      let done!: () => void;
      chains.set(step.call.id, new Promise<void>((r) => (done = r)));
      await previous;
      try {
        for (const [path, params] of requests(step)) {
          // A 503 (the gateway shedding load, Retry-After) is retried, as the provider does.
          let res = await sendTwilioWebhook(`${base}${path}`, peer.authToken, params);
          for (let retry = 0; res.status === 503 && retry < 20; retry++) {
            shed++;
            await new Promise((r) => setTimeout(r, 500));
            res = await sendTwilioWebhook(`${base}${path}`, peer.authToken, params);
          }
          const key = `${path.split('?')[0]} ${res.status}`;
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
          if (path === '/voice') {
            // Telephony slower than the gateway's 2 s: the request is kept in Kafka and answered
            // `{"accepted":true}` (gateway/src/routes/telephony-webhooks.ts); processed later all the same.
            if (res.body === '{"accepted":true}') keptInKafka++;
            else if (!/^text\/xml/.test(res.contentType) || !/^<\?xml version="1.0" encoding="UTF-8"\?><Response>(<Dial |<Enqueue |<Reject )/.test(res.body)) badVoice.push(`${res.status} ${res.contentType} ${res.body.slice(0, 200)}`);
            if (res.body.includes(`statusCallback="${base}/leg?dir=inbound&amp;dialed=${encodeURIComponent(params.To!)}"`)) dialed++;
          }
        }
      } finally {
        done();
      }
    });
    const sent = Date.now();
    const want = stored(day.steps.filter((s) => s.phase <= steps[0]!.phase));
    await eventually(
      async () => {
        expect(await count('SELECT count(*) AS n FROM webhook_events WHERE tenant_id = $1', [A.tenantId])).toBe(want);
        expect(await count('SELECT count(*) AS n FROM webhook_events WHERE processed_at IS NULL')).toBe(0);
      },
      { timeoutMs: 240_000, intervalMs: 250 },
    );
    console.log(`phase: ${steps.length} steps sent in ${sent - t0} ms, drained in ${Date.now() - sent} ms`);
  };
  await deliver(day.steps.filter((s) => s.phase === 1));
  await deliver(day.steps.filter((s) => s.phase === 2));
  // Status callbacks 204, the voice URL and the dial action TwiML 200; nothing else.
  for (const [key] of statuses) expect(key).toMatch(/^(\/voice 200|\/dial 200|\/status 204|\/leg 204|\/recording 204)$/);
  // Every voice request was answered with TwiML dialing (the decision's clients or the fallback).
  expect(badVoice).toEqual([]);
  expect(dialed).toBeGreaterThan(0);

  const e = day.expected;
  const t = A.tenantId;
  expect(await count('SELECT count(*) AS n FROM calls WHERE tenant_id = $1', [t])).toBe(e.calls);
  expect(await count("SELECT count(*) AS n FROM calls WHERE tenant_id = $1 AND direction = 'inbound'", [t])).toBe(e.inbound);
  expect(await count('SELECT count(*) AS n FROM calls WHERE tenant_id = $1 AND missed', [t])).toBe(e.missed);
  expect(await count("SELECT count(*) AS n FROM calls WHERE tenant_id = $1 AND direction = 'inbound' AND status = 'ended' AND disposition = 'answered'", [t])).toBe(e.answeredInbound);
  expect(await count("SELECT count(*) AS n FROM calls WHERE tenant_id = $1 AND status NOT IN ('ended', 'missed')", [t])).toBe(0);
  // Transfers: the transferred calls, each ending with the colleague it went to.
  const transferred = (await pool.query("SELECT provider_call_id AS id, answered_extension AS ext FROM calls WHERE tenant_id = $1 AND jsonb_array_length(transfers) > 0", [t])).rows as { id: string; ext: string }[];
  expect(transferred.map((r) => r.id).sort()).toEqual(day.calls.filter((c) => c.transferTo).map(sid).sort());
  for (const r of transferred) expect(r.ext).toBe(day.calls.find((c) => sid(c) === r.id)!.transferTo);
  // Recovered: exactly the misses whose callback connected, each by its callback.
  const recovered = (await pool.query('SELECT m.provider_call_id AS miss, c.provider_call_id AS cb FROM calls m JOIN calls c ON c.id::text = m.recovered_by_call_id WHERE m.tenant_id = $1 AND m.missed AND m.recovered_at IS NOT NULL', [t])).rows as { miss: string; cb: string }[];
  const byId = new Map(day.calls.map((c) => [c.id, c]));
  const want = day.calls.filter((c) => c.scenario === 'callback' && c.disposition === 'answered').map((c) => ({ miss: sid(byId.get(c.recovers!)!), cb: sid(c) }));
  const order = (xs: { miss: string }[]) => [...xs].sort((a, b) => a.miss.localeCompare(b.miss));
  expect(order(recovered)).toEqual(order(want));
  expect(recovered).toHaveLength(e.recovered);
  // Every inbound call has its phone request.
  expect(await count("SELECT count(*) AS n FROM calls WHERE tenant_id = $1 AND direction = 'inbound' AND request_id = ''", [t])).toBe(0);
  await eventually(async () => expect(await count('SELECT count(*) AS n FROM call_recordings WHERE tenant_id = $1', [t])).toBe(e.recordings), { timeoutMs: 30_000, intervalMs: 250 });
  expect(peer.requests.filter((r) => r.path.endsWith('.mp3')).every((r) => r.authorized)).toBe(true);
  console.log(`twilio day: ${e.calls} calls, ${e.deliveries} steps (${e.repeats} repeats, ${e.outOfOrder} out of order), ${stored(day.steps)} requests stored (${keptInKafka} via the gateway's Kafka fallback, ${shed} retried after a 503), ${e.missed} missed, ${e.transferred} transferred, ${e.recovered} recovered, ${e.recordings} recordings in ${Date.now() - started} ms`);
}, 600_000);

it('refuses wrong signatures with 401 and stores nothing', async () => {
  const before = await count('SELECT count(*) AS n FROM webhook_events');
  const params = { AccountSid: peer.accountSid, CallSid: 'CAforged', From: '+79160000001', To: NUMBERS[0]!, CallStatus: 'ringing', Direction: 'inbound' };
  for (const signature of ['', 'Zm9yZ2Vk', twilioRequestSignature('another-token', `${base}/voice`, params), twilioRequestSignature(peer.authToken, `${base}/status`, params)]) {
    const res = await sendTwilioWebhook(`${base}/voice`, peer.authToken, params, { signature });
    expect(res.status).toBe(401);
  }
  // Signed, then a parameter changed.
  const res = await sendTwilioWebhook(`${base}/voice`, peer.authToken, { ...params, From: '+79169999999' }, { signature: twilioRequestSignature(peer.authToken, `${base}/voice`, params) });
  expect(res.status).toBe(401);
  expect(await count('SELECT count(*) AS n FROM webhook_events')).toBe(before);
});

it('originates and transfers through the REST API the way the peer accepts', async () => {
  const { providerCallId } = await twilioAdapter.originate!(connection, { extension: 'alice', phone: '+79161234567', callerId: NUMBERS[0] });
  expect(providerCallId).toMatch(/^CA[0-9]{32}$/);
  const made = peer.requests.find((r) => r.path.endsWith('/Calls.json'))!;
  expect(made).toMatchObject({ method: 'POST', authorized: true });
  expect(made.form.To).toEqual(['client:alice']);
  expect(made.form.From).toEqual([NUMBERS[0]]);
  expect(made.form.Twiml![0]).toContain('<Number statusCallbackEvent="initiated ringing answered completed"');
  expect(made.form.Twiml![0]).toContain('>+79161234567</Number>');
  expect(made.form.StatusCallbackEvent).toEqual(['initiated', 'ringing', 'answered', 'completed']);
  await twilioAdapter.transfer!(connection, providerCallId, { extension: 'bob' });
  const moved = peer.requests.find((r) => r.path.endsWith(`/Calls/${providerCallId}.json`))!;
  expect(moved.authorized).toBe(true);
  expect(moved.form.Twiml![0]).toMatch(/<Dial action="[^"]+\/dial" timeout="30"><Client [^>]*statusCallback="[^"]+\/leg\?dir=inbound&amp;xfer=1"[^>]*>bob<\/Client><\/Dial>/);
  // A refused REST call (wrong token) is UNAVAILABLE provider_unavailable, never a crash.
  await expect(twilioAdapter.originate!({ ...connection, secret: 'wrong' }, { extension: 'alice', phone: '+79161234567' })).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'provider_unavailable' });
});
