/**
 * The conversion saga's second half in intake (src/kafka/crm.funnel.deal.v1.consumer.ts) on real engines:
 * funnel's `crm.funnel.deal.request_linked.v1` events, produced here as funnel writes them, move a request
 * to `converted` / `attached` with the deal (actor service/funnel, history, state_changed) exactly once;
 * a request already there is left alone, one that cannot follow (trash, converted to another deal, another
 * tenant's) is logged and left, and a malformed event goes to the DLQ without stopping the partition.
 */
import { DealRequestLinked } from '@crm/contracts/crm/funnel/events/v1/deal_events';
import { Channel, RequestState, type Request } from '@crm/contracts/crm/intake/v1/request';
import { TrashReason, WorkflowServiceService } from '@crm/contracts/crm/intake/v1/workflow';
import { uuidv7 } from '@crm/db';
import { createClient, type PromiseClient, type TenantContext } from '@crm/grpc';
import { encodeEvent, type CloudEvent } from '@crm/kafka';
import { eventually, runId } from '@crm/testing';
import { collect, NO_ROUTING_FIELDS, startHarness, type Harness } from './harness';

const T = 'tenant-saga';
const OTHER = 'tenant-saga-other';
const admin: TenantContext = { tenantId: T, callerId: '0190a0a0-0000-7000-8000-0000000000ad', callerKind: 'user', roles: ['admin'] };

let h: Harness;
let wf: PromiseClient<typeof WorkflowServiceService>;

beforeAll(async () => {
  h = await startHarness();
  wf = createClient(WorkflowServiceService, { address: `127.0.0.1:${h.service.grpc.port}`, defaultDeadlineMs: 15_000 });
});

afterAll(async () => {
  wf?.close();
  await h?.stop();
});

async function create(ctx: TenantContext = admin): Promise<Request> {
  const res = await h.client.createRequest(
    {
      channel: Channel.CHANNEL_CHAT,
      name: 'Сага',
      phone: '',
      email: '',
      message: '',
      attribution: { utmSource: '', utmMedium: '', utmCampaign: '', utmContent: '', utmTerm: '', landingPage: '', referrer: '' },
      idempotencyKey: '',
      publicFormId: '',
      defaultCountry: '',
      extraFields: [],
      ...NO_ROUTING_FIELDS,
    },
    ctx,
  );
  return res.request!;
}

function linked(requestId: string, dealId: string, kind: string, tenantId = T): CloudEvent {
  return {
    id: uuidv7(),
    source: 'crm/funnel',
    type: 'crm.funnel.deal.request_linked.v1',
    subject: dealId,
    tenantId,
    time: new Date().toISOString(),
    contentType: 'application/protobuf',
    data: Buffer.from(DealRequestLinked.encode(DealRequestLinked.fromPartial({ deal: { id: dealId, tenantId }, requestId, kind, linkedBy: 'u' })).finish()),
  };
}

async function send(...events: CloudEvent[]): Promise<void> {
  const producer = h.kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic: h.topic('crm.funnel.deal.v1'), messages: events.map(encodeEvent) });
  } finally {
    await producer.disconnect();
  }
}

const row = async (id: string) => (await h.pool.query('SELECT state, deal_id, client_card_id, version FROM requests WHERE id = $1', [id])).rows[0];

describe('the saga consumer of funnel’s request_linked', () => {
  it('converts and attaches once, leaves what cannot follow, dead-letters a malformed event and goes on', async () => {
    const dlq = await collect(h.kafka, `${h.topic('crm.funnel.deal.v1')}.dlq`, `saga-dlq-${runId}`);
    try {
      const toConvert = await create();
      const toAttach = await create();
      const trashed = await create();
      await wf.transitionRequest({ id: trashed.id, expectedVersion: 0, to: RequestState.REQUEST_STATE_TRASH, reason: '', trashReason: TrashReason.TRASH_REASON_SPAM, trashNote: '', revisitAt: '', dealId: '', clientCardId: '', assigneeId: '' }, admin);
      const elsewhere = await create();
      const otherDeal = uuidv7();
      await wf.transitionRequest({ id: elsewhere.id, expectedVersion: 0, to: RequestState.REQUEST_STATE_CONVERTED, reason: '', trashReason: 0, trashNote: '', revisitAt: '', dealId: otherDeal, clientCardId: '', assigneeId: '' }, admin);
      const foreign = await create({ ...admin, tenantId: OTHER });

      const deal = uuidv7();
      const first = linked(toConvert.id, deal, 'converted');
      await send(
        first,
        first, // a redelivery
        linked(toConvert.id, deal, 'converted'), // the same link under another id (a replay from funnel)
        linked(toAttach.id, deal, 'attached'),
        linked(trashed.id, deal, 'converted'),
        linked(elsewhere.id, deal, 'converted'),
        linked(foreign.id, deal, 'converted'), // another tenant's request under this tenant: unknown here
        linked('not-a-uuid', deal, 'converted'),
      );
      // After the malformed one, on the same partition (same key): still applied.
      const after = await create();
      await send(linked(after.id, deal, 'attached'));

      await eventually(async () => (await row(after.id)).state, { until: (s) => s === 'attached', timeoutMs: 30_000, message: 'the event after the malformed one applied' });
      expect(await row(toConvert.id)).toMatchObject({ state: 'converted', deal_id: deal, version: 2 });
      expect(await row(toAttach.id)).toMatchObject({ state: 'attached', deal_id: deal, version: 2 });
      expect(await row(trashed.id)).toMatchObject({ state: 'trash', deal_id: null, version: 2 });
      expect(await row(elsewhere.id)).toMatchObject({ state: 'converted', deal_id: otherDeal, version: 2 });
      expect(await row(foreign.id)).toMatchObject({ state: 'new', version: 1 });
      const { entries } = await wf.getRequestHistory({ id: toConvert.id }, admin);
      expect(entries.filter((e) => e.field === 'state').map((e) => [e.from, e.to, e.actorKind, e.actorId, JSON.parse(e.detailsJson).deal_id])).toEqual([['new', 'converted', 'service', 'funnel', deal]]);
      await eventually(() => dlq.messages.length, { until: (n) => n === 1, timeoutMs: 20_000, message: 'the malformed event dead-lettered' });
    } finally {
      await dlq.stop();
    }
  }, 60_000);
});
