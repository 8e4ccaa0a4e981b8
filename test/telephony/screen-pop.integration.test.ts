/**
 * The screen pop and the calls API at the gateway, against the real platform: call events on this run's
 * `crm.telephony.call.v1` (published as telephony's outbox relay publishes them) reach the realtime
 * stream of the users a call rings to — and nobody else of the tenant, nobody of another tenant —
 * `call.updated` follows the call to whoever answered it; an ended call of a known contact lands on the
 * contact's timeline once (contacts' consumer is idempotent on the event id). The calls routes refuse bad
 * input and missing scopes with problem+json, never a 5xx.
 */
import { CallAnswered, CallEnded, CallRinging } from '@crm/contracts/crm/telephony/events/v1/call_events';
import { Call, CallDirection, CallStatus, NumberKind, Provider } from '@crm/contracts/crm/telephony/v1/telephony';
import { TypedProducer } from '@crm/kafka';
import { eventually, kafkaFor, stackUrls, testLogger } from '@crm/testing';
import { randomUUID } from 'node:crypto';
import { startPlatform, type Platform } from '../support/platform';
import { client, makeWorkTeam, openStream, type WorkTeam } from '../support/work-team';

jest.setTimeout(60_000);

let p: Platform;
let team: WorkTeam;
let producer: TypedProducer;
let disconnect: () => Promise<void>;
let api: ReturnType<typeof client>;
const TOPIC = () => `crm.telephony.call.v1${p.topicSuffix}`;

function call(over: Partial<Call>): Call {
  const now = new Date().toISOString();
  return Call.fromPartial({
    id: randomUUID(),
    tenantId: p.tenants.a.id,
    provider: Provider.PROVIDER_GENERIC,
    providerCallId: `pc-${randomUUID()}`,
    direction: CallDirection.CALL_DIRECTION_INBOUND,
    status: CallStatus.CALL_STATUS_RINGING,
    caller: '+79990001122',
    callee: '+74950001001',
    numberKind: NumberKind.NUMBER_KIND_ADVERTISING,
    utmSource: 'yandex',
    utmCampaign: 'winter',
    startedAt: now,
    createdAt: now,
    updatedAt: now,
    ...over,
  });
}

beforeAll(async () => {
  p = await startPlatform();
  team = await makeWorkTeam(p);
  api = client(p.base);
  const kafka = kafkaFor(stackUrls().kafkaBrokers, testLogger('screen-pop'));
  const raw = kafka.producer();
  await raw.connect();
  producer = new TypedProducer(raw, 'crm/telephony');
  disconnect = () => raw.disconnect();
});

afterAll(async () => {
  await disconnect?.();
  await p?.stop();
});

test('call.ringing goes only to the users it rings to; call.updated follows to who answered', async () => {
  const [a, b, head] = await Promise.all([openStream(p.base, team.sellerA.as), openStream(p.base, team.sellerB.as), openStream(p.base, team.headA.as)]);
  try {
    const ringing = call({ ringingUserIds: [team.sellerA.id] });
    // The same user id in tenant B: a listener of tenant A must not hear of it, and nobody of B is listening as them.
    const foreign = call({ tenantId: p.tenants.b.id, ringingUserIds: [team.sellerB.id] });
    await producer.publish(TOPIC(), [
      { type: 'crm.telephony.call.ringing.v1', codec: CallRinging, payload: CallRinging.fromPartial({ call: ringing, ringingUserIds: [team.sellerA.id] }), subject: ringing.id, tenantId: p.tenants.a.id },
      { type: 'crm.telephony.call.ringing.v1', codec: CallRinging, payload: CallRinging.fromPartial({ call: foreign, ringingUserIds: [team.sellerB.id] }), subject: foreign.id, tenantId: p.tenants.b.id },
    ]);
    const pop = await eventually(() => a.events.find((e) => e.event === 'call.ringing'), { until: Boolean, message: 'the pop on seller A' });
    expect(pop!.data.call).toMatchObject({ id: ringing.id, direction: 'inbound', status: 'ringing', caller: '+79990001122', number_kind: 'advertising', ringing_user_ids: [team.sellerA.id] });
    expect(pop!.data.call.attribution).toMatchObject({ utm_source: 'yandex', utm_campaign: 'winter' });

    const answered = call({ ...ringing, status: CallStatus.CALL_STATUS_ANSWERED, userId: team.sellerA.id, answeredAt: new Date().toISOString(), updatedAt: new Date().toISOString() });
    await producer.publish(TOPIC(), [{ type: 'crm.telephony.call.answered.v1', codec: CallAnswered, payload: { call: answered }, subject: ringing.id, tenantId: p.tenants.a.id }]);
    const upd = await eventually(() => a.events.find((e) => e.event === 'call.updated'), { until: Boolean, message: 'call.updated on seller A' });
    expect(upd!.data).toMatchObject({ type: 'call.updated', change: 'answered', call: { id: ringing.id, status: 'answered', user_id: team.sellerA.id } });
    // Seller A's stream saw both events; the others had the same time to hear them and heard nothing.
    await new Promise((r) => setTimeout(r, 300));
    expect(b.events.filter((e) => e.event.startsWith('call.'))).toEqual([]);
    expect(head.events.filter((e) => e.event.startsWith('call.'))).toEqual([]);
    expect(a.events.filter((e) => e.event.startsWith('call.')).map((e) => e.data.call.id)).toEqual([ringing.id, ringing.id]);
  } finally {
    a.close();
    b.close();
    head.close();
  }
});

test("an ended call is on the contact's timeline once", async () => {
  const created = await api.send('POST', '/v1/contacts', team.admin.as, { name: 'Анна Звонкова', points: [{ type: 'phone', value: '+79990003344' }] });
  expect(created.status).toBe(201);
  const contactId = created.body.id as string;
  const ended = call({
    contactId,
    caller: '+79990003344',
    status: CallStatus.CALL_STATUS_ENDED,
    userId: team.sellerA.id,
    answeredAt: new Date(Date.now() - 95_000).toISOString(),
    endedAt: new Date().toISOString(),
    talkSeconds: 95,
    disposition: 'answered',
  });
  const id = randomUUID();
  const event = { id, type: 'crm.telephony.call.ended.v1', codec: CallEnded, payload: { call: ended }, subject: ended.id, tenantId: p.tenants.a.id };
  // Delivered twice (a relay's retry): one entry.
  await producer.publish(TOPIC(), [event]);
  await producer.publish(TOPIC(), [event]);
  const entries = await eventually(
    async () => {
      const res = await api.send('GET', `/v1/contacts/${contactId}/timeline`, team.admin.as);
      return (res.body.items as { kind: string; ref_type: string; ref_id: string; summary: string }[]).filter((e) => e.ref_type === 'call');
    },
    { until: (xs) => xs.length > 0, message: 'the call on the timeline' },
  );
  expect(entries).toEqual([expect.objectContaining({ kind: 'call_answered', ref_id: ended.id, summary: '← +79990003344, 1:35' })]);
  await new Promise((r) => setTimeout(r, 500));
  const again = await api.send('GET', `/v1/contacts/${contactId}/timeline`, team.admin.as);
  expect((again.body.items as { ref_type: string }[]).filter((e) => e.ref_type === 'call')).toHaveLength(1);
});

test('bad input and missing scopes are 4xx problems', async () => {
  const as = team.sellerA.as;
  const bad: [string, string, unknown?][] = [
    ['GET', '/v1/calls?direction=sideways'],
    ['GET', '/v1/calls?contact_id=nope'],
    ['GET', '/v1/calls?limit=0'],
    ['GET', '/v1/calls?extra=1'],
    ['GET', '/v1/calls?since=yesterday'],
    ['GET', '/v1/calls?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z'],
    ['GET', '/v1/calls/not-a-uuid'],
    ['GET', '/v1/calls/not-a-uuid/card'],
    ['GET', '/v1/calls/not-a-uuid/events'],
    ['GET', '/v1/calls/not-a-uuid/recording'],
    ['GET', '/v1/calls/missed-stats?kind=billboard'],
    ['GET', '/v1/calls/missed-stats?time_zone=%3Cscript%3E'],
    ['POST', '/v1/calls', {}],
    ['POST', '/v1/calls', { phone: '+79990001122', extra: true }],
    ['POST', '/v1/calls', { phone: 'call me maybe' }],
    ['POST', '/v1/calls', { phone: '+79990001122', request_id: 'x' }],
    ['POST', `/v1/calls/${randomUUID()}/transfer`, {}],
    ['POST', `/v1/calls/${randomUUID()}/transfer`, { to_user_id: randomUUID(), to_department_id: randomUUID() }],
    ['POST', `/v1/calls/${randomUUID()}/transfer`, { to_user_id: 'me' }],
  ];
  for (const [method, path, body] of bad) {
    const res = await api.send(method, path, as, body);
    expect({ path, body, status: res.status, type: res.type }).toEqual({ path, body, status: 400, type: expect.stringContaining('application/problem+json') });
  }
  const key = await api.send('POST', '/v1/calls', team.admin.as, { phone: '+79990001122' }, { 'idempotency-key': 'has space' });
  expect(key.status).toBe(400);
  // The work API key has no calls scopes.
  for (const [method, path, body] of [
    ['GET', '/v1/calls'],
    ['GET', `/v1/calls/${randomUUID()}/card`],
    ['POST', '/v1/calls', { phone: '+79990001122' }],
  ] as [string, string, unknown?][]) {
    const res = await api.send(method, path, team.keyA, body);
    expect({ path, status: res.status }).toEqual({ path, status: 403 });
  }
});
