import type { DecideResponse } from '@crm/contracts/crm/telephony/v1/telephony';
import type { ConnectionRow } from '../../calls/model';
import type { AdapterContext, WebhookInput } from '../types';
import { kamailioAdapter, kamailioDigest, routeAnswer, signKamailio } from './index';

const SECRET = 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTAxMjM=';
const OLD = 'whsec_b2xkLW9sZC1vbGQtb2xkLW9sZC1vbGQtb2xkLW9sZC0wMQ==';
const connection: ConnectionRow = { id: 'c1', tenantId: 't1', provider: 'kamailio', name: 'k', apiBaseUrl: '', account: '', secret: '', signingSecrets: [SECRET, OLD], fallbackTarget: 'reception', isDefault: true, disabled: false };
const now = new Date('2026-12-01T10:00:00Z');
const t = Math.floor(now.getTime() / 1000);
const decision: DecideResponse = { extensions: ['101', '102'], userIds: ['u1', 'u2'], queue: 'd1', departmentId: 'd1', decidedBy: 'department', fallback: false, fallbackTarget: '', requestId: '' };
const asked: unknown[] = [];
const ctx: AdapterContext = { connection, toleranceSeconds: 300, now, decide: async (q) => (asked.push(q), decision) };

function input(path: string, body: unknown, opts: { secret?: string; ts?: number; sig?: string } = {}): WebhookInput {
  const raw = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const sig = opts.sig ?? signKamailio(opts.secret ?? SECRET, opts.ts ?? t, raw);
  return { path, method: 'POST', headers: { 'x-crm-signature': sig }, body: raw, query: '', url: '', remoteIp: '127.0.0.1', receivedAt: now };
}

describe('kamailio adapter', () => {
  it('answers a route request with the decision (target = the first extension in the domain)', async () => {
    const r = await kamailioAdapter.handle(input('/route', { call_id: 'abc@10.0.0.1', caller: '79165550001', dialed: '+74951230001', domain: 'pbx.local' }), ctx);
    expect(r.outcome).toBe('ignored');
    expect(JSON.parse(r.answer.body.toString())).toMatchObject({ target: 'sip:101@pbx.local', extensions: ['101', '102'], queue: 'd1', fallback: false });
    expect(asked.pop()).toEqual({ caller: '79165550001', dialed: '+74951230001', providerCallId: 'abc@10.0.0.1' });
  });

  it('maps state reports to normalised events, one per kind per call', async () => {
    const ringing = await kamailioAdapter.handle(input('/state', { call_id: 'abc', event: 'ringing', caller: '89165550001', dialed: '74951230001', extension: '101', code: 180, ts: t }), ctx);
    expect(ringing).toMatchObject({ outcome: 'accepted', deliveryId: 'abc:ringing' });
    expect(ringing.events).toEqual([{ kind: 'ringing', providerCallId: 'abc', providerEventId: 'abc:ringing', at: now.toISOString(), direction: 'inbound', caller: '+79165550001', dialed: '+74951230001', extensions: ['101'] }]);
    const busy = await kamailioAdapter.handle(input('/state', { call_id: 'abc', event: 'missed', code: 486 }), ctx);
    expect(busy.events[0]).toMatchObject({ kind: 'missed', disposition: 'busy' });
    const timeout = await kamailioAdapter.handle(input('/state', { call_id: 'abc', event: 'missed', code: '408' }), ctx);
    expect(timeout.events[0]).toMatchObject({ disposition: 'no_answer' });
    const answered = kamailioAdapter.parse(input('/state', { call_id: 'abc', event: 'answered', extension: '102' }), connection);
    expect(answered).toEqual([expect.objectContaining({ kind: 'answered', extension: '102' })]);
  });

  it('verifies the envelope signature: previous secret accepted, wrong or stale refused', async () => {
    expect((await kamailioAdapter.handle(input('/state', { call_id: 'a', event: 'ended' }, { secret: OLD }), ctx)).outcome).toBe('accepted');
    expect((await kamailioAdapter.handle(input('/state', { call_id: 'a', event: 'ended' }, { secret: 'whsec_other' }), ctx)).answer.status).toBe(401);
    expect((await kamailioAdapter.handle(input('/state', { call_id: 'a', event: 'ended' }, { sig: '' }), ctx)).outcome).toBe('bad_signature');
    expect((await kamailioAdapter.handle(input('/state', { call_id: 'a', event: 'ended' }, { ts: t - 301 }), ctx)).outcome).toBe('stale_timestamp');
    // A signature over another body does not verify this one.
    const i = input('/state', { call_id: 'a', event: 'ended' });
    i.body = Buffer.from(JSON.stringify({ call_id: 'b', event: 'ended' }));
    expect((await kamailioAdapter.handle(i, ctx)).outcome).toBe('bad_signature');
    expect(kamailioDigest(SECRET, t, '{}')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses other paths, non-JSON and unknown events with 4xx', async () => {
    expect((await kamailioAdapter.handle(input('/events', {}), ctx)).outcome).toBe('wrong_provider');
    expect((await kamailioAdapter.handle(input('/state', 'not json'), ctx)).answer.status).toBe(400);
    expect((await kamailioAdapter.handle(input('/state', { call_id: 'a', event: 'exploded' }), ctx)).outcome).toBe('malformed');
    expect((await kamailioAdapter.handle(input('/route', { caller: '1' }), ctx)).outcome).toBe('malformed');
  });

  it('routes to the fallback target when nobody was found', () => {
    const fb = { ...decision, extensions: [], userIds: [], queue: '', fallback: true, fallbackTarget: 'reception' };
    expect(routeAnswer(fb, 'pbx')).toMatchObject({ target: 'sip:reception@pbx', fallback: true });
    expect(routeAnswer({ ...fb, fallbackTarget: '' }, 'pbx').target).toBe('');
    expect(routeAnswer({ ...fb, fallbackTarget: 'sales queue' }, 'pbx').target).toBe('');
  });
});
