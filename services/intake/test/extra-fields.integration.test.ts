/**
 * Extra form fields (intake_0002): stored in order with duplicate keys, returned by Get and List and in
 * the created event, part of the idempotency fingerprint, bounded (a call beyond the bounds is
 * INVALID_ARGUMENT with nothing written), and scoped by tenant. Real PostgreSQL, Kafka and gRPC.
 */
import { RequestCreated } from '@crm/contracts/crm/intake/events/v1/request_events';
import type { CreateRequestRequest } from '@crm/contracts/crm/intake/v1/intake';
import { Channel } from '@crm/contracts/crm/intake/v1/request';
import { status } from '@crm/grpc';
import { decodeData, decodeEvent } from '@crm/kafka';
import { eventually, runId } from '@crm/testing';
import { collect, grpcError, NO_LIST_FILTERS, NO_ROUTING_FIELDS, startHarness, tenant, type Harness } from './harness';

let h: Harness;
const A = tenant('tenant-extra-a');
const B = tenant('tenant-extra-b');
const noAttribution = { utmSource: '', utmMedium: '', utmCampaign: '', utmContent: '', utmTerm: '', landingPage: '', referrer: '' };
const f = (key: string, value: string) => ({ key, value });

function form(over: Partial<CreateRequestRequest> = {}): CreateRequestRequest {
  return {
    channel: Channel.CHANNEL_WEB_FORM,
    name: 'Extra',
    phone: '+79160001122',
    email: '',
    message: '',
    attribution: noAttribution,
    idempotencyKey: '',
    publicFormId: 'pf_form',
    defaultCountry: '',
    extraFields: [],
    ...NO_ROUTING_FIELDS,
    ...over,
  };
}

async function count(): Promise<number> {
  return Number((await h.pool.query('SELECT count(*) AS n FROM requests')).rows[0].n);
}

let watcher: ReturnType<typeof collect>;

beforeAll(async () => {
  h = await startHarness();
  watcher = collect(h.kafka, h.topic('crm.intake.request.v1'), `extra-${runId}`);
  await watcher;
});

afterAll(async () => {
  await (await watcher.catch(() => undefined))?.stop();
  await h?.stop();
});

describe('extra fields', () => {
  it('are stored in order with duplicate keys and come back from Get, List and the created event', async () => {
    const extra = [f('Компания', 'ООО Ромашка'), f('tag', 'b'), f('tag', 'a'), f('empty', '')];
    const { request } = await h.client.createRequest(form({ extraFields: extra, extraFieldsTruncated: true }), A);
    expect(request).toMatchObject({ extraFields: extra, extraFieldsTruncated: true });
    expect((await h.client.getRequest({ id: request!.id }, A)).request).toEqual(request);
    expect((await h.client.listRequests({ states: [], channels: [], createdFrom: '', createdTo: '', query: 'Extra', pageSize: 10, cursor: '', contactId: '', ...NO_LIST_FILTERS }, A)).requests[0]).toEqual(request);
    const row = (await h.pool.query('SELECT extra_fields, extra_fields_truncated FROM requests WHERE id = $1', [request!.id])).rows[0];
    expect(row).toEqual({ extra_fields: extra.map((x) => [x.key, x.value]), extra_fields_truncated: true });

    const { messages } = await watcher;
    const mine = () => messages.filter((m) => m.headers?.ce_subject?.toString() === request!.id);
    await eventually(() => mine().length, { until: (n) => n >= 1, message: 'the created event' });
    expect(decodeData(decodeEvent(mine()[0]), RequestCreated).request).toMatchObject({ extraFields: extra, extraFieldsTruncated: true });
  });

  it('requests without them have none, and are not truncated', async () => {
    const { request } = await h.client.createRequest(form({ name: 'Plain' }), A);
    expect(request).toMatchObject({ extraFields: [], extraFieldsTruncated: false });
  });

  it('are part of the idempotency fingerprint: the same key with other extra fields is rejected', async () => {
    const key = `extra-${runId}`;
    const first = await h.client.createRequest(form({ idempotencyKey: key, extraFields: [f('a', '1')] }), A);
    const replay = await h.client.createRequest(form({ idempotencyKey: key, extraFields: [f('a', '1')] }), A);
    expect(replay).toMatchObject({ replayed: true, request: { id: first.request!.id } });
    expect((await grpcError(h.client.createRequest(form({ idempotencyKey: key, extraFields: [f('a', '2')] }), A))).code).toBe(status.FAILED_PRECONDITION);
  });

  it('beyond the bounds are INVALID_ARGUMENT naming the field, with nothing written', async () => {
    const before = await count();
    const cases: [CreateRequestRequest['extraFields'], string][] = [
      [Array.from({ length: 51 }, (_, i) => f(`k${i}`, 'v')), 'extra_fields'],
      [[f('k'.repeat(101), 'v')], 'extra_fields[0].key'],
      [[f('ok', 'v'), f('  ', 'v')], 'extra_fields[1].key'],
      [[f('k', 'v'.repeat(2001))], 'extra_fields[0].value'],
      [Array.from({ length: 9 }, (_, i) => f(`k${i}`, 'я'.repeat(1000))), 'extra_fields'],
    ];
    for (const [extraFields, field] of cases) {
      const err = await grpcError(h.client.createRequest(form({ extraFields }), A));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.violations.map((v) => v.field)).toEqual([field]);
    }
    // Exactly at the bounds is fine: 50 fields, 100-character keys, 16 KiB in all.
    const max = Array.from({ length: 50 }, (_, i) => f(`${i}`.padStart(100, 'k'), 'v'.repeat(227)));
    expect((await h.client.createRequest(form({ name: 'Max', extraFields: max }), A)).request!.extraFields).toHaveLength(50);
    expect(await count()).toBe(before + 1);
  });

  it("are another tenant's only through their own request", async () => {
    const { request } = await h.client.createRequest(form({ extraFields: [f('secret', 'of A')] }), A);
    expect((await grpcError(h.client.getRequest({ id: request!.id }, B))).code).toBe(status.NOT_FOUND);
    const listB = await h.client.listRequests({ states: [], channels: [], createdFrom: '', createdTo: '', query: '', pageSize: 100, cursor: '', contactId: '', ...NO_LIST_FILTERS }, B);
    expect(JSON.stringify(listB.requests)).not.toContain('of A');
  });
});
