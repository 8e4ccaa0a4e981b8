import type { ConnectionRow } from '../../calls/model';
import type { AdapterContext, WebhookInput } from '../types';
import { genericAdapter, genericProblems, signGeneric } from '.';

const SECRET = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
const PREVIOUS = `whsec_${Buffer.from('previous-secret-previous-secret!').toString('base64')}`;
const connection: ConnectionRow = { id: 'c', tenantId: 't', provider: 'generic', name: 'PBX', apiBaseUrl: '', account: '', secret: '', signingSecrets: [SECRET, PREVIOUS], fallbackTarget: '', isDefault: false, disabled: false };
const now = new Date('2026-12-01T10:00:00Z');
const ctx: AdapterContext = { connection, decide: async () => { throw new Error('not used'); }, toleranceSeconds: 300, now };
const ts = Math.floor(now.getTime() / 1000);

function input(body: string, headers: Record<string, string> = {}, over: Partial<WebhookInput> = {}): WebhookInput {
  return { path: '', method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: Buffer.from(body), query: '', url: '', remoteIp: '', receivedAt: now, ...over };
}
function signedInput(body: string, opts: { id?: string; t?: number; secret?: string } = {}) {
  const id = opts.id ?? 'msg_1';
  const t = opts.t ?? ts;
  return input(body, { 'webhook-id': id, 'webhook-timestamp': String(t), 'webhook-signature': signGeneric(opts.secret ?? SECRET, id, t, body) });
}
const ringing = JSON.stringify({ type: 'call.ringing', call_id: 'call-1', at: '2026-12-01T10:00:00+03:00', seq: 1, caller: '8 (916) 123-45-67', dialed: '74950000001', extensions: ['101'] });

describe('generic adapter', () => {
  it('accepts a signed event and normalises it (E.164, UTC, the delivery id as event id)', async () => {
    const r = await genericAdapter.handle(signedInput(ringing), ctx);
    expect(r.outcome).toBe('accepted');
    expect(r.answer.status).toBe(200);
    expect(r.deliveryId).toBe('msg_1');
    expect(r.events).toEqual([{ kind: 'ringing', providerCallId: 'call-1', providerEventId: 'msg_1', at: '2026-12-01T07:00:00.000Z', seq: 1, direction: 'inbound', caller: '+79161234567', callee: undefined, dialed: '+74950000001', extensions: ['101'] }]);
  });

  it('accepts the previous secret and one of several signatures', async () => {
    expect((await genericAdapter.handle(signedInput(ringing, { secret: PREVIOUS }), ctx)).outcome).toBe('accepted');
    const good = signGeneric(SECRET, 'msg_2', ts, ringing);
    const r = await genericAdapter.handle(input(ringing, { 'webhook-id': 'msg_2', 'webhook-timestamp': String(ts), 'webhook-signature': `v1,AAAA ${good}` }), ctx);
    expect(r.outcome).toBe('accepted');
  });

  it('refuses a wrong signature (401), a stale timestamp (409), another provider (400), malformed bodies (400)', async () => {
    expect((await genericAdapter.handle(signedInput(ringing, { secret: 'whsec_AAAA' }), ctx)).answer.status).toBe(401);
    const other = signedInput(ringing);
    other.body = Buffer.from(ringing.replace('call-1', 'call-2'));
    expect((await genericAdapter.handle(other, ctx)).outcome).toBe('bad_signature');
    const stale = await genericAdapter.handle(signedInput(ringing, { t: ts - 301 }), ctx);
    expect(stale).toMatchObject({ outcome: 'stale_timestamp', answer: { status: 409 } });
    expect((await genericAdapter.handle(signedInput(ringing, { t: ts + 299 }), ctx)).outcome).toBe('accepted');
    expect((await genericAdapter.handle(input('vpbx_api_key=a&sign=b&json=%7B%7D', { 'content-type': 'application/x-www-form-urlencoded' }), ctx)).outcome).toBe('wrong_provider');
    expect((await genericAdapter.handle(input(ringing, { 'x-twilio-signature': 'abc' }), ctx)).outcome).toBe('wrong_provider');
    expect((await genericAdapter.handle(input(ringing), ctx)).outcome).toBe('bad_signature');
    expect((await genericAdapter.handle(signedInput('{'), ctx)).outcome).toBe('malformed');
    expect((await genericAdapter.handle(signedInput('[]'), ctx)).outcome).toBe('malformed');
  });

  it('an unknown type is ignored; a missed call defaults to no_answer', async () => {
    expect((await genericAdapter.handle(signedInput(JSON.stringify({ type: 'call.hold', call_id: 'x', at: '2026-12-01T10:00:00Z' })), ctx)).outcome).toBe('ignored');
    const missed = await genericAdapter.handle(signedInput(JSON.stringify({ type: 'call.missed', call_id: 'x', at: '2026-12-01T10:00:00Z', event_id: 'e1' })), ctx);
    expect(missed.events[0]).toMatchObject({ kind: 'missed', disposition: 'no_answer', providerEventId: 'e1' });
  });

  it('names every problem of a body', () => {
    expect(genericProblems({ type: 'call.ended', call_id: '', at: 'x', seq: -1, direction: 'sideways', disposition: 'maybe', extensions: [1], transfer_to: 'x' })).toEqual([
      'call_id must be a string of 1..200 characters',
      'at must be an RFC 3339 date-time',
      'seq must be a non-negative integer',
      'direction must be inbound or outbound',
      'disposition must be one of answered, no_answer, busy, failed, canceled',
      'extensions must be at most 50 strings',
      'transfer_to must be {extension?, phone?}',
    ]);
    expect(genericProblems({ type: 'call.recording_ready', call_id: 'a', at: '2026-12-01T10:00:00Z' })).toEqual(['recording_url is required for call.recording_ready']);
  });

  it('parse gives the same events without verifying', () => {
    expect(genericAdapter.parse(signedInput(ringing), connection)).toHaveLength(1);
    expect(genericAdapter.parse(input('{'), connection)).toEqual([]);
  });
});
