import type { ConnectionRow } from '../../calls/model';
import type { AdapterContext, WebhookInput } from '../types';
import { mangoAdapter, mangoForm, mangoSign } from '.';

const connection: ConnectionRow = { id: 'c', tenantId: 't', provider: 'mango', name: 'Mango', apiBaseUrl: 'http://127.0.0.1:1', account: 'key', secret: 'salt', signingSecrets: [], fallbackTarget: '', isDefault: false, disabled: false };
const decided: string[] = [];
const ctx: AdapterContext = {
  connection,
  decide: async ({ providerCallId }) => {
    decided.push(providerCallId);
    return { extensions: [], userIds: [], queue: '', departmentId: '', decidedBy: 'fallback', fallback: true, fallbackTarget: '', requestId: '' };
  },
  toleranceSeconds: 300,
  now: new Date(),
};
const input = (path: string, body: string): WebhookInput => ({ path, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(body), query: '', url: '', remoteIp: '', receivedAt: new Date() });
const T = Date.parse('2026-12-01T10:00:00Z') / 1000;

describe('mango adapter', () => {
  it('sign is hex sha256(key + json + salt)', () => {
    expect(mangoSign('k', '{}', 's')).toBe(require('node:crypto').createHash('sha256').update('k{}s').digest('hex'));
    expect(mangoSign('k', '{}', 's')).toMatch(/^[0-9a-f]{64}$/);
    expect(new URLSearchParams(mangoForm('k', 's', { a: 1 })).get('sign')).toBe(mangoSign('k', '{"a":1}', 's'));
  });

  it('Appeared at an employee → ringing; Connected → answered; Disconnected → nothing (the summary ends the call)', async () => {
    const appeared = { entry_id: 'E1', call_id: 'L1', timestamp: T, seq: 1, call_state: 'Appeared', location: 'abonent', from: { number: '79161234567' }, to: { extension: '101', number: 'sip:101@x', line_number: '74950000001' } };
    const r = await mangoAdapter.handle(input('/events/call', mangoForm('key', 'salt', appeared)), ctx);
    expect(r.outcome).toBe('accepted');
    expect(r.events).toEqual([{ providerCallId: 'E1', providerEventId: 'call:L1:1', at: '2026-12-01T10:00:00.000Z', seq: 1, direction: 'inbound', caller: '+79161234567', callee: '101', dialed: '+74950000001', kind: 'ringing', extensions: ['101'] }]);
    const connected = await mangoAdapter.handle(input('/events/call', mangoForm('key', 'salt', { ...appeared, seq: 2, call_state: 'Connected' })), ctx);
    expect(connected.events[0]).toMatchObject({ kind: 'answered', extension: '101', seq: 2 });
    const gone = await mangoAdapter.handle(input('/events/call', mangoForm('key', 'salt', { ...appeared, seq: 3, call_state: 'Disconnected' })), ctx);
    expect(gone.outcome).toBe('ignored');
  });

  it('Appeared in the IVR asks the decider (the route command follows)', async () => {
    const ivr = { entry_id: 'E2', call_id: 'L2', timestamp: T, seq: 1, call_state: 'Appeared', location: 'ivr', from: { number: '79161234567' }, to: { number: '74950000001', line_number: '74950000001' } };
    const r = await mangoAdapter.handle(input('/events/call', mangoForm('key', 'salt', ivr)), ctx);
    expect(r.events[0]).toMatchObject({ kind: 'ringing', extensions: [] });
    await new Promise((res) => setImmediate(res));
    expect(decided).toContain('E2');
  });

  it('a summary: missed → ended no_answer; talked → answered + ended with durations; internal ignored', async () => {
    const missed = { entry_id: 'E3', call_direction: 1, from: { number: '79161234567' }, to: {}, line_number: '74950000001', create_time: T, forward_time: T, talk_time: 0, end_time: T + 30, entry_result: 0, disconnect_reason: 1100 };
    const m = await mangoAdapter.handle(input('/events/summary', mangoForm('key', 'salt', missed)), ctx);
    expect(m.events).toEqual([expect.objectContaining({ kind: 'ended', disposition: 'no_answer', durationSeconds: 30, talkSeconds: 0, dialed: '+74950000001', providerEventId: 'summary:E3:ended' })]);
    const talked = await mangoAdapter.handle(input('/events/summary', mangoForm('key', 'salt', { ...missed, to: { extension: '102' }, talk_time: T + 10, end_time: T + 70, entry_result: 1 })), ctx);
    expect(talked.events.map((e) => [e.kind, e.disposition, e.talkSeconds, e.extension])).toEqual([
      ['answered', undefined, undefined, '102'],
      ['ended', 'answered', 60, undefined],
    ]);
    expect((await mangoAdapter.handle(input('/events/summary', mangoForm('key', 'salt', { ...missed, call_direction: 0 })), ctx)).outcome).toBe('ignored');
  });

  it('a completed recording → recording_ready with a mango: URL; other states ignored', async () => {
    const rec = { recording_id: 'R1', recording_state: 'Completed', seq: 2, entry_id: 'E4', call_id: 'L4', timestamp: T, completion_code: 1000 };
    const r = await mangoAdapter.handle(input('/events/recording', mangoForm('key', 'salt', rec)), ctx);
    expect(r.events[0]).toMatchObject({ kind: 'recording_ready', providerCallId: 'E4', recording: { url: 'mango:recording/R1' } });
    expect((await mangoAdapter.handle(input('/events/recording', mangoForm('key', 'salt', { ...rec, recording_state: 'Started' })), ctx)).outcome).toBe('ignored');
  });

  it('refuses another key or a wrong sign (401), a generic payload (400 wrong_provider), broken json (400)', async () => {
    const p = { entry_id: 'E', call_id: 'L', timestamp: T, seq: 1, call_state: 'Appeared' };
    expect((await mangoAdapter.handle(input('/events/call', mangoForm('other', 'salt', p)), ctx)).answer.status).toBe(401);
    expect((await mangoAdapter.handle(input('/events/call', mangoForm('key', 'pepper', p)), ctx)).outcome).toBe('bad_signature');
    const generic = input('', '{"type":"call.ringing"}');
    generic.headers = { 'content-type': 'application/json', 'webhook-signature': 'v1,x' };
    expect((await mangoAdapter.handle(generic, ctx)).outcome).toBe('wrong_provider');
    const broken = new URLSearchParams({ vpbx_api_key: 'key', sign: mangoSign('key', '{', 'salt'), json: '{' }).toString();
    expect((await mangoAdapter.handle(input('/events/call', broken), ctx)).outcome).toBe('malformed');
    expect((await mangoAdapter.handle(input('/events/call', mangoForm('key', 'salt', { call_state: 'Appeared' })), ctx)).outcome).toBe('malformed');
    expect((await mangoAdapter.handle(input('/result/route', mangoForm('key', 'salt', { command_id: 'x', result: 1000 })), ctx)).outcome).toBe('ignored');
  });
});
