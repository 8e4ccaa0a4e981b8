import { createHmac } from 'node:crypto';
import type { DecideResponse } from '@crm/contracts/crm/telephony/v1/telephony';
import type { ConnectionRow } from '../../calls/model';
import type { AdapterContext, WebhookInput } from '../types';
import { twilioAdapter } from './index';
import { twilioSignature, verifyTwilio } from './signature';

const TOKEN = 'tw-auth-token-0123';
const BASE = 'https://crm.example/webhooks/telephony/c2';
const connection: ConnectionRow = { id: 'c2', tenantId: 't1', provider: 'twilio', name: 't', apiBaseUrl: 'http://127.0.0.1:1', account: 'AC123', secret: TOKEN, signingSecrets: [], fallbackTarget: '+74950000099', isDefault: true, disabled: false };
const decision = (over: Partial<DecideResponse> = {}): DecideResponse => ({ extensions: ['alice'], userIds: ['u1'], queue: '', departmentId: '', decidedBy: 'owner', fallback: false, fallbackTarget: '', requestId: '', ...over });
const ctx = (decide: AdapterContext['decide'] = async () => decision()): AdapterContext => ({ connection, decide, toleranceSeconds: 300, now: new Date() });

/** Written from the documented formula, independently of signature.ts. */
function docSign(url: string, params: Record<string, string>, token = TOKEN): string {
  let s = url;
  for (const k of Object.keys(params).sort()) s += k + params[k];
  return createHmac('sha1', token).update(s).digest('base64');
}

function req(path: string, params: Record<string, string>, opts: { query?: string; signature?: string | null } = {}): WebhookInput {
  const url = `${BASE}${path}${opts.query ? `?${opts.query}` : ''}`;
  const signature = opts.signature === undefined ? docSign(url, params) : opts.signature;
  return {
    path,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature !== null ? { 'x-twilio-signature': signature } : {}) },
    body: Buffer.from(new URLSearchParams(params).toString()),
    query: opts.query ?? '',
    url,
    remoteIp: '54.172.60.1',
    receivedAt: new Date('2026-12-01T10:00:00Z'),
  };
}

const inbound = { AccountSid: 'AC123', CallSid: 'CA100', From: '+79161234567', To: '+74950000001', CallStatus: 'ringing', Direction: 'inbound', ApiVersion: '2010-04-01' };

describe('X-Twilio-Signature', () => {
  it('matches the documented example and the formula', () => {
    // twilio.com's example: token 12345, this URL and these parameters
    const p = { CallSid: 'CA1234567890ABCDE', Caller: '+12349013030', Digits: '1234', From: '+12349013030', To: '+18005551212' };
    expect(twilioSignature('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', Object.entries(p))).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    expect(twilioSignature(TOKEN, `${BASE}/status`, Object.entries(inbound))).toBe(docSign(`${BASE}/status`, inbound));
  });

  it('accepts the URL with or without the default port, refuses another URL, token or parameter', () => {
    const sig = docSign('https://crm.example:443/webhooks/telephony/c2/status', inbound);
    expect(verifyTwilio(TOKEN, sig, `${BASE}/status`, Object.entries(inbound))).toBe(true);
    expect(verifyTwilio(TOKEN, sig, `${BASE}/voice`, Object.entries(inbound))).toBe(false);
    expect(verifyTwilio('other', sig, `${BASE}/status`, Object.entries(inbound))).toBe(false);
    expect(verifyTwilio(TOKEN, sig, `${BASE}/status`, Object.entries({ ...inbound, From: '+70000000000' }))).toBe(false);
    expect(verifyTwilio(TOKEN, '', `${BASE}/status`, Object.entries(inbound))).toBe(false);
  });
});

describe('twilioAdapter.handle', () => {
  it('refuses a wrong or missing signature (401), another provider (400)', async () => {
    expect(await twilioAdapter.handle(req('/status', inbound, { signature: 'AAAA' }), ctx())).toMatchObject({ outcome: 'bad_signature', answer: { status: 401 }, events: [] });
    expect(await twilioAdapter.handle(req('/status', inbound, { signature: null }), ctx())).toMatchObject({ outcome: 'bad_signature', answer: { status: 401 } });
    const tampered = req('/status', inbound);
    tampered.body = Buffer.from(new URLSearchParams({ ...inbound, CallStatus: 'completed' }).toString());
    expect((await twilioAdapter.handle(tampered, ctx())).outcome).toBe('bad_signature');
    expect(await twilioAdapter.handle(req('/status', { event: 'NOTIFY_START', pbx_call_id: 'x' }, { signature: null }), ctx())).toMatchObject({ outcome: 'wrong_provider', answer: { status: 400 } });
    expect((await twilioAdapter.handle(req('/status', { ...inbound, AccountSid: 'AC999' }), ctx())).outcome).toBe('wrong_provider');
  });

  it('answers the voice URL with TwiML dialing the decided clients, and pops them', async () => {
    const seen: unknown[] = [];
    const r = await twilioAdapter.handle(req('/voice', inbound), ctx(async (q) => (seen.push(q), decision({ extensions: ['alice', 'bob'] }))));
    expect(seen).toEqual([{ caller: '+79161234567', dialed: '+74950000001', providerCallId: 'CA100' }]);
    expect(r.outcome).toBe('accepted');
    expect(r.answer.contentType).toMatch(/^text\/xml/);
    const xml = String(r.answer.body);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><Response><Dial action="https:\/\/crm.example\/webhooks\/telephony\/c2\/dial"/);
    expect(xml.match(/<Client [^>]*>([^<]+)<\/Client>/g)).toHaveLength(2);
    expect(xml).toContain(`statusCallback="${BASE}/leg?dir=inbound&amp;dialed=%2B74950000001"`);
    expect(xml).toContain('>alice</Client>');
    expect(r.events).toEqual([{ kind: 'ringing', providerCallId: 'CA100', providerEventId: 'twilio:voice:CA100', at: '2026-12-01T10:00:00.000Z', direction: 'inbound', caller: '+79161234567', dialed: '+74950000001', extensions: ['alice', 'bob'] }]);
  });

  it('dials the fallback when the decision fails, a queue with <Enqueue>, escapes names', async () => {
    const failed = await twilioAdapter.handle(req('/voice', inbound), ctx(async () => Promise.reject(new Error('down'))));
    expect(String(failed.answer.body)).toContain('>+74950000099</Number></Dial>');
    const queue = await twilioAdapter.handle(req('/voice', inbound), ctx(async () => decision({ extensions: [], queue: 'sales' })));
    expect(String(queue.answer.body)).toContain('<Enqueue action="https://crm.example/webhooks/telephony/c2/dial">sales</Enqueue>');
    const odd = await twilioAdapter.handle(req('/voice', inbound), ctx(async () => decision({ extensions: ['a<b>&"'] })));
    expect(String(odd.answer.body)).toContain('>a&lt;b&gt;&amp;&quot;</Client>');
  });

  it('maps status callbacks: ringing, the legs, completed, unanswered, dial results, recordings', async () => {
    const ev = async (path: string, p: Record<string, string>, query?: string) => {
      const r = await twilioAdapter.handle(req(path, p, { query }), ctx());
      expect(r.answer.status).toBe(path === '/dial' ? 200 : 204);
      return r;
    };
    const ts = { Timestamp: 'Tue, 01 Dec 2026 10:00:05 +0000', SequenceNumber: '0' };
    const leg = { AccountSid: 'AC123', CallSid: 'CA200', ParentCallSid: 'CA100', From: '+79161234567', To: 'client:alice', Direction: 'outbound-dial', ...ts };
    expect((await ev('/leg', { ...leg, CallStatus: 'ringing' }, 'dir=inbound')).events).toMatchObject([{ kind: 'ringing', providerCallId: 'CA100', extensions: ['alice'], at: '2026-12-01T10:00:05.000Z' }]);
    expect((await ev('/leg', { ...leg, CallStatus: 'in-progress', SequenceNumber: '1' }, 'dir=inbound')).events).toMatchObject([{ kind: 'answered', providerCallId: 'CA100', extension: 'alice' }]);
    expect((await ev('/leg', { ...leg, CallStatus: 'ringing', To: 'client:bob' }, 'dir=inbound&xfer=1')).events).toMatchObject([{ kind: 'transferred', providerCallId: 'CA100', transferTo: { extension: 'bob' } }]);
    const noAnswerLeg = await ev('/leg', { ...leg, CallStatus: 'no-answer', SequenceNumber: '2' }, 'dir=inbound');
    expect(noAnswerLeg).toMatchObject({ outcome: 'ignored', events: [] });
    expect((await ev('/status', { ...inbound, CallStatus: 'completed', CallDuration: '93', ...ts })).events).toMatchObject([{ kind: 'ended', providerCallId: 'CA100', durationSeconds: 93, direction: 'inbound' }]);
    expect((await ev('/status', { ...inbound, CallStatus: 'busy', ...ts })).events).toMatchObject([{ kind: 'missed', disposition: 'busy' }]);
    expect((await ev('/dial', { ...inbound, CallStatus: 'in-progress', DialCallStatus: 'no-answer', DialCallSid: 'CA200' })).events).toMatchObject([{ kind: 'missed', providerCallId: 'CA100', disposition: 'no_answer' }]);
    expect((await ev('/dial', { ...inbound, CallStatus: 'in-progress', DialCallStatus: 'completed' })).events).toEqual([]);
    expect((await ev('/recording', { AccountSid: 'AC123', CallSid: 'CA100', RecordingSid: 'RE1', RecordingUrl: 'https://api.twilio.com/2010-04-01/Accounts/AC123/Recordings/RE1', RecordingStatus: 'completed', RecordingDuration: '60' })).events).toMatchObject([
      { kind: 'recording_ready', providerCallId: 'CA100', recording: { url: 'https://api.twilio.com/2010-04-01/Accounts/AC123/Recordings/RE1' } },
    ]);
    // our click-to-call: the employee's leg (outbound-api) and the customer's leg
    const api = { AccountSid: 'AC123', CallSid: 'CA300', From: '+74950000001', To: 'client:alice', Direction: 'outbound-api', ...ts };
    expect((await ev('/status', { ...api, CallStatus: 'ringing' }, 'to=%2B79161234567')).events).toMatchObject([{ kind: 'ringing', direction: 'outbound', extension: 'alice', callee: '+79161234567' }]);
    expect((await ev('/leg', { ...api, CallSid: 'CA301', ParentCallSid: 'CA300', To: '+79161234567', Direction: 'outbound-dial', CallStatus: 'in-progress' }, 'dir=outbound&ext=alice')).events).toMatchObject([
      { kind: 'answered', providerCallId: 'CA300', direction: 'outbound', callee: '+79161234567', extension: 'alice' },
    ]);
    expect((await ev('/status', { ...api, CallStatus: 'completed', CallDuration: '40' }, 'to=%2B79161234567')).events).toMatchObject([{ kind: 'ended', direction: 'outbound', durationSeconds: 40 }]);
  });

  it('gives a repeated callback the same delivery id and parse() the same events', async () => {
    const p = { ...inbound, CallStatus: 'completed', CallDuration: '5', SequenceNumber: '3', Timestamp: 'Tue, 01 Dec 2026 10:01:00 +0000' };
    const a = await twilioAdapter.handle(req('/status', p), ctx());
    const b = await twilioAdapter.handle(req('/status', p), ctx());
    expect(a.deliveryId).toBe('twilio:status:CA100:completed:3');
    expect(b.deliveryId).toBe(a.deliveryId);
    expect(twilioAdapter.parse(req('/status', p), connection)).toEqual(a.events);
  });
});
