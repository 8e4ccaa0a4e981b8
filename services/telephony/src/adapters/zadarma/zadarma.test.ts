import { createHash, createHmac } from 'node:crypto';
import type { DecideResponse } from '@crm/contracts/crm/telephony/v1/telephony';
import type { ConnectionRow } from '../../calls/model';
import type { AdapterContext, WebhookInput } from '../types';
import { callStartInstant, zadarmaAdapter, zadarmaParty } from './index';
import { apiAuthorization, notificationSignature } from './signature';

const SECRET = 'zd-secret-0123456789';
const connection: ConnectionRow = { id: 'c1', tenantId: 't1', provider: 'zadarma', name: 'z', apiBaseUrl: 'http://127.0.0.1:1', account: 'key1', secret: SECRET, signingSecrets: [], fallbackTarget: '200', isDefault: true, disabled: false };
const decision = (over: Partial<DecideResponse> = {}): DecideResponse => ({ extensions: ['101'], userIds: ['u1'], queue: '', departmentId: '', decidedBy: 'owner', fallback: false, fallbackTarget: '', requestId: '', ...over });
const ctx = (decide: AdapterContext['decide'] = async () => decision()): AdapterContext => ({ connection, decide, toleranceSeconds: 300, now: new Date('2026-12-01T10:00:00Z') });

/** The documented formula, written out independently of signature.ts: base64 of the hex HMAC-SHA1. */
const sign = (text: string, secret = SECRET) => Buffer.from(createHmac('sha1', secret).update(text).digest('hex')).toString('base64');

function post(fields: Record<string, string>, signature?: string, query = ''): WebhookInput {
  return {
    path: '',
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature !== undefined ? { signature } : {}) },
    body: Buffer.from(new URLSearchParams(fields).toString()),
    query,
    url: 'https://crm.example/webhooks/telephony/c1',
    remoteIp: '185.45.152.42',
    receivedAt: new Date('2026-12-01T10:00:02Z'),
  };
}

const start = { event: 'NOTIFY_START', call_start: '2026-12-01 13:00:00', pbx_call_id: 'in_abc', caller_id: '79161234567', called_did: '74950000001' };

describe('zadarma signatures', () => {
  it('signs each event over its own fields, as base64 of the hex digest', () => {
    expect(notificationSignature(SECRET, start)).toBe(sign('79161234567' + '74950000001' + '2026-12-01 13:00:00'));
    expect(notificationSignature(SECRET, { event: 'NOTIFY_ANSWER', caller_id: 'a', destination: 'b', call_start: 'c', called_did: 'x' })).toBe(sign('abc'));
    expect(notificationSignature(SECRET, { event: 'NOTIFY_OUT_START', internal: '101', destination: '79160000000', call_start: 's' })).toBe(sign('10179160000000s'));
    expect(notificationSignature(SECRET, { event: 'NOTIFY_RECORD', pbx_call_id: 'in_abc', call_id_with_rec: '1700.1' })).toBe(sign('in_abc1700.1'));
    expect(notificationSignature(SECRET, { event: 'SMS' })).toBeUndefined();
  });

  it('signs API requests as key:base64(hex hmac(method + sorted query + md5(query)))', () => {
    const query = 'format=json&from=101&to=79161234567';
    const md5 = createHash('md5').update(query).digest('hex');
    expect(apiAuthorization('key1', SECRET, '/v1/request/callback/', { to: '79161234567', from: '101', format: 'json' })).toBe(`key1:${sign('/v1/request/callback/' + query + md5)}`);
    // PHP's RFC 1738 encoding: spaces are `+`, `~` is escaped
    const q2 = 'a=x+y%7E';
    expect(apiAuthorization('k', SECRET, '/v1/x/', { a: 'x y~' })).toBe(`k:${sign('/v1/x/' + q2 + createHash('md5').update(q2).digest('hex'))}`);
  });
});

describe('zadarmaAdapter.handle', () => {
  it('echoes zd_echo before any signature', async () => {
    const r = await zadarmaAdapter.handle({ ...post({}), method: 'GET', query: 'zd_echo=abc123' }, ctx());
    expect(r).toMatchObject({ outcome: 'ignored', answer: { status: 200, body: 'abc123' }, events: [] });
  });

  it('refuses a wrong signature, a missing one, a signature over other fields and another secret (401)', async () => {
    const good = notificationSignature(SECRET, start)!;
    for (const [fields, sig] of [
      [start, 'bm9wZQ=='],
      [start, undefined],
      [{ ...start, caller_id: '79990000000' }, good],
      [start, sign('79161234567' + '74950000001' + '2026-12-01 13:00:00', 'other')],
      [start, Buffer.from(createHmac('sha1', SECRET).update('7916123456774950000012026-12-01 13:00:00').digest()).toString('base64')],
    ] as const) {
      const r = await zadarmaAdapter.handle(post(fields, sig), ctx());
      expect(r).toMatchObject({ outcome: 'bad_signature', answer: { status: 401 }, events: [] });
    }
  });

  it('refuses another provider\'s payload (400 wrong_provider) and an unsigned unknown form (400 malformed)', async () => {
    expect((await zadarmaAdapter.handle(post({ CallSid: 'CA1', CallStatus: 'ringing' }), ctx())).outcome).toBe('wrong_provider');
    expect((await zadarmaAdapter.handle(post({ foo: 'bar' }), ctx())).outcome).toBe('malformed');
    expect((await zadarmaAdapter.handle({ ...post({}), method: 'GET' }, ctx())).answer.status).toBe(400);
  });

  it('answers NOTIFY_START with the decided extension and pops it to the decided users', async () => {
    const seen: unknown[] = [];
    const r = await zadarmaAdapter.handle(post(start, notificationSignature(SECRET, start)), ctx(async (q) => (seen.push(q), decision({ extensions: ['102', '103'] }))));
    expect(seen).toEqual([{ caller: '+79161234567', dialed: '+74950000001', providerCallId: 'in_abc' }]);
    expect(r.outcome).toBe('accepted');
    expect(r.answer.contentType).toBe('application/json');
    expect(JSON.parse(String(r.answer.body))).toEqual({ redirect: '102' });
    expect(r.events).toEqual([
      { kind: 'ringing', direction: 'inbound', providerCallId: 'in_abc', providerEventId: r.deliveryId, seq: 1, at: '2026-12-01T13:00:00.000Z', caller: '+79161234567', dialed: '+74950000001', extensions: ['102', '103'] },
    ]);
  });

  it('reads call_start in the zone of the URL\'s tz parameter', async () => {
    const r = await zadarmaAdapter.handle(post(start, notificationSignature(SECRET, start), 'tz=Europe/Moscow'), ctx());
    expect(r.events[0]!.at).toBe('2026-12-01T10:00:00.000Z');
    expect(callStartInstant('2026-07-01 12:00:00', 'Europe/Berlin')!.toISOString()).toBe('2026-07-01T10:00:00.000Z');
    expect(callStartInstant('2026-01-01 12:00:00', 'Europe/Berlin')!.toISOString()).toBe('2026-01-01T11:00:00.000Z');
    expect(callStartInstant('yesterday', undefined)).toBeUndefined();
  });

  it('answers without a redirect when the decision fails, and redirects to a queue scenario or the fallback', async () => {
    const failed = await zadarmaAdapter.handle(post(start, notificationSignature(SECRET, start)), ctx(async () => Promise.reject(new Error('intake down'))));
    expect(failed.outcome).toBe('accepted');
    expect(JSON.parse(String(failed.answer.body))).toEqual({});
    expect(failed.events).toHaveLength(1);
    const queue = await zadarmaAdapter.handle(post(start, notificationSignature(SECRET, start)), ctx(async () => decision({ extensions: [], queue: '0-2' })));
    expect(JSON.parse(String(queue.answer.body))).toEqual({ redirect: '0-2' });
    const fallback = await zadarmaAdapter.handle(post(start, notificationSignature(SECRET, start)), ctx(async () => decision({ extensions: [], fallback: true, fallbackTarget: '' })));
    expect(JSON.parse(String(fallback.answer.body))).toEqual({ redirect: '200' });
  });

  it('maps every event kind, with a stable delivery id per notification', async () => {
    const send = async (fields: Record<string, string>) => {
      const r = await zadarmaAdapter.handle(post(fields, notificationSignature(SECRET, fields)), ctx());
      expect(r.outcome).toBe('accepted');
      const last = r.events[r.events.length - 1]!;
      expect(last.providerEventId).toBe(r.deliveryId);
      // an answered END also carries the answer (Zadarma sends none for outbound calls)
      expect(r.events.map((e) => e.kind)).toEqual(fields.disposition === 'answered' ? ['answered', last.kind] : [last.kind]);
      return last;
    };
    const base = { call_start: '2026-12-01 13:00:00', pbx_call_id: 'in_abc', caller_id: '79161234567' };
    expect(await send({ ...base, event: 'NOTIFY_INTERNAL', called_did: '74950000001', internal: '101' })).toMatchObject({ kind: 'ringing', extensions: ['101'], seq: 3 });
    expect(await send({ ...base, event: 'NOTIFY_ANSWER', destination: '101', internal: '101' })).toMatchObject({ kind: 'answered', extension: '101', seq: 4 });
    const answered = await send({ ...base, event: 'NOTIFY_END', called_did: '74950000001', internal: '101', duration: '65', disposition: 'answered', status_code: '16', is_recorded: '1', call_id_with_rec: '1700.1' });
    expect(answered).toMatchObject({ kind: 'ended', disposition: 'answered', durationSeconds: 65, talkSeconds: 65, extension: '101', at: '2026-12-01T13:01:05.000Z', seq: 5 });
    for (const [raw, d] of [['no answer', 'no_answer'], ['busy', 'busy'], ['cancel', 'canceled'], ['no money', 'failed']] as const) {
      expect(await send({ ...base, event: 'NOTIFY_END', called_did: '74950000001', duration: '0', disposition: raw })).toMatchObject({ kind: 'missed', direction: 'inbound', disposition: d });
    }
    expect(await send({ event: 'NOTIFY_OUT_START', call_start: '2026-12-01 14:00:00', pbx_call_id: 'out_1', internal: '101', destination: '79161234567' })).toMatchObject({ kind: 'ringing', direction: 'outbound', extension: '101', callee: '+79161234567' });
    expect(await send({ event: 'NOTIFY_OUT_END', call_start: '2026-12-01 14:00:00', pbx_call_id: 'out_1', internal: '101', destination: '79161234567', caller_id: '74950000001', duration: '0', disposition: 'no answer' })).toMatchObject({ kind: 'ended', direction: 'outbound', disposition: 'no_answer' });
    expect(await send({ event: 'NOTIFY_OUT_END', call_start: '2026-12-01 14:00:00', pbx_call_id: 'out_2', internal: '101', destination: '79161234567', caller_id: '74950000001', duration: '30', disposition: 'answered' })).toMatchObject({ kind: 'ended', direction: 'outbound', disposition: 'answered', talkSeconds: 30 });
    const rec = await send({ event: 'NOTIFY_RECORD', pbx_call_id: 'in_abc', call_id_with_rec: '1700.1' });
    expect(rec).toMatchObject({ kind: 'recording_ready', recording: { url: 'zadarma:record?call_id=1700.1&pbx_call_id=in_abc' } });
    // the same notification again has the same id; parse() (the replay) gives the same events
    const fields = { ...base, event: 'NOTIFY_ANSWER', destination: '101', internal: '101' };
    const one = await zadarmaAdapter.handle(post(fields, notificationSignature(SECRET, fields)), ctx());
    const two = await zadarmaAdapter.handle(post(fields, notificationSignature(SECRET, fields)), ctx());
    expect(two.deliveryId).toBe(one.deliveryId);
    expect(zadarmaAdapter.parse(post(fields), connection)).toEqual(one.events);
  });

  it('acknowledges an event it does not know without storing events', async () => {
    const r = await zadarmaAdapter.handle(post({ event: 'SPEECH_RECOGNITION', pbx_call_id: 'x' }, 'whatever'), ctx());
    expect(r).toMatchObject({ outcome: 'ignored', answer: { status: 200 }, events: [] });
  });

  it('normalises Zadarma numbers to E.164 and leaves extensions alone', () => {
    expect(zadarmaParty('79161234567')).toBe('+79161234567');
    expect(zadarmaParty('+7 916 123-45-67')).toBe('+79161234567');
    expect(zadarmaParty('101')).toBe('101');
    expect(zadarmaParty('')).toBeUndefined();
  });
});
