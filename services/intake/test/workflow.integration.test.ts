/**
 * WorkflowService in-process against the real engines (PostgreSQL, Kafka, graphile-worker's schema),
 * over real gRPC, with identity's roster served by a TeamService double on a real port: the lifecycle
 * and its guards, optimistic concurrency, history and events, bulk, counters, my work, saved views,
 * the journal's new filters and the `my_work` order, bad input on every write.
 */
import { RequestAssigned, RequestAxisChanged, RequestFirstResponse, RequestStateChanged } from '@crm/contracts/crm/intake/events/v1/request_events';
import type { ListRequestsRequest } from '@crm/contracts/crm/intake/v1/intake';
import { ContactUpdated } from '@crm/contracts/crm/contacts/events/v1/contact_events';
import { PointType, Verification } from '@crm/contracts/crm/contacts/v1/contacts';
import { Channel, ContactAxis, MeaningAxis, QualificationAxis, Request, RequestState } from '@crm/contracts/crm/intake/v1/request';
import { TrashReason, WorkflowServiceService, type TransitionRequestRequest } from '@crm/contracts/crm/intake/v1/workflow';
import { createClient, status, type PromiseClient, type TenantContext } from '@crm/grpc';
import { uuidv7 } from '@crm/db';
import { decodeData, decodeEvent, encodeEvent } from '@crm/kafka';
import { eventually, runId } from '@crm/testing';
import { collect, grpcError, NO_LIST_FILTERS, NO_ROUTING_FIELDS, startHarness, type Harness } from './harness';
import { startTeamDouble, type TeamDouble } from './team-double';

const T = 'tenant-wf';
const OTHER = 'tenant-wf-other';
const DEP_A = '0190a0a0-0000-7000-8000-00000000000a';
const DEP_B = '0190a0a0-0000-7000-8000-00000000000b';
const ADMIN = '0190a0a0-0000-7000-8000-0000000000ad';
const S1 = '0190a0a0-0000-7000-8000-000000000001';
const S2_AWAY = '0190a0a0-0000-7000-8000-000000000002';
const S3_B = '0190a0a0-0000-7000-8000-000000000003';
const S4_OFF = '0190a0a0-0000-7000-8000-000000000004';
const GONE = '0190a0a0-0000-7000-8000-0000000000ff';
const DEAL = '0190a0a0-0000-7000-8000-0000000000de';

const admin: TenantContext = { tenantId: T, callerId: ADMIN, callerKind: 'user', roles: ['admin'] };
const seller1: TenantContext = { tenantId: T, callerId: S1, callerKind: 'user', roles: ['seller'], departmentIds: [DEP_A] };
const otherTenant: TenantContext = { tenantId: OTHER, callerId: ADMIN, callerKind: 'user', roles: ['admin'] };

let h: Harness;
let team: TeamDouble;
let wf: PromiseClient<typeof WorkflowServiceService>;
let watcher: Awaited<ReturnType<typeof collect>>;

beforeAll(async () => {
  team = await startTeamDouble();
  team.setRoster(T, {
    timeZone: 'Europe/Moscow',
    departments: [{ id: DEP_A, name: 'Sales A' }, { id: DEP_B, name: 'Sales B' }],
    users: [
      { id: ADMIN, departmentIds: [] },
      { id: S1, departmentIds: [DEP_A] },
      { id: S2_AWAY, departmentIds: [DEP_A], away: true },
      { id: S3_B, departmentIds: [DEP_B] },
      { id: S4_OFF, departmentIds: [DEP_A], onShift: false },
    ],
  });
  h = await startHarness({ identityAddr: team.addr });
  wf = createClient(WorkflowServiceService, { address: `127.0.0.1:${h.service.grpc.port}`, defaultDeadlineMs: 15_000 });
  watcher = await collect(h.kafka, h.topic('crm.intake.request.v1'), `wf-watch-${runId}`);
});

afterAll(async () => {
  await watcher?.stop();
  wf?.close();
  await h?.stop();
  await team?.stop();
});

async function create(ctx: TenantContext = admin, over: { name?: string; utm?: string } = {}): Promise<Request> {
  const res = await h.client.createRequest(
    {
      channel: Channel.CHANNEL_CHAT,
      name: over.name ?? 'Работа',
      phone: '',
      email: '',
      message: '',
      attribution: { utmSource: over.utm ?? '', utmMedium: '', utmCampaign: '', utmContent: '', utmTerm: '', landingPage: '', referrer: '' },
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

function tr(id: string, to: RequestState, over: Partial<TransitionRequestRequest> = {}): TransitionRequestRequest {
  return { id, expectedVersion: 0, to, reason: '', trashReason: TrashReason.TRASH_REASON_UNSPECIFIED, trashNote: '', revisitAt: '', dealId: '', clientCardId: '', assigneeId: '', ...over };
}

async function q<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  return (await h.pool.query(sql, params)).rows as T[];
}

async function versionOf(id: string): Promise<number> {
  return Number((await q<{ version: number }>('SELECT version FROM requests WHERE id = $1', [id]))[0].version);
}

async function historyCount(id: string): Promise<number> {
  return Number((await q<{ n: string }>('SELECT count(*) AS n FROM request_history WHERE request_id = $1', [id]))[0].n);
}

function details(err: { metadata?: { get(k: string): unknown[] } }): Record<string, string> {
  const raw = err.metadata?.get('x-error-details')[0];
  return raw ? JSON.parse(String(raw)) : {};
}

const inFuture = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

function list(over: Partial<ListRequestsRequest>): ListRequestsRequest {
  return { states: [], channels: [], createdFrom: '', createdTo: '', query: '', pageSize: 0, cursor: '', contactId: '', ...NO_LIST_FILTERS, ...over };
}

describe('lifecycle', () => {
  it('walks new → assigned → in_progress → deferred → new → trash → new → closed with history, timers and a revisit task', async () => {
    const r = await create();
    expect(r).toMatchObject({ state: RequestState.REQUEST_STATE_NEW, version: 1 });
    const assigned = (await wf.assignRequest({ id: r.id, expectedVersion: 1, assigneeId: S1, take: false }, admin)).request!;
    expect(assigned).toMatchObject({ state: RequestState.REQUEST_STATE_ASSIGNED, assigneeId: S1, version: 2 });

    const answered = (await wf.markAnswered({ id: r.id, expectedVersion: 2 }, seller1)).request!;
    expect(answered).toMatchObject({ state: RequestState.REQUEST_STATE_IN_PROGRESS, version: 3 });
    expect(answered.firstResponseAt).not.toBe('');

    const revisitAt = inFuture(3);
    const deferred = (await wf.transitionRequest(tr(r.id, RequestState.REQUEST_STATE_DEFERRED, { expectedVersion: 3, revisitAt, reason: 'call back on Friday' }), seller1)).request!;
    expect(deferred).toMatchObject({ state: RequestState.REQUEST_STATE_DEFERRED, revisitAt: new Date(revisitAt).toISOString(), stateReason: 'call back on Friday' });
    expect(await q('SELECT key FROM graphile_worker.jobs WHERE key = $1', [`revisit:${r.id}`])).toHaveLength(1);
    const [task] = await q<{ status: string; assignee_id: string; kind: string; due_at: Date }>(`SELECT * FROM tasks WHERE request_id = $1`, [r.id]);
    expect(task).toMatchObject({ status: 'open', assignee_id: S1, kind: 'revisit' });
    expect(task.due_at.toISOString()).toBe(new Date(revisitAt).toISOString());

    // Back by hand: the revisit job is removed and the task is closed, in the same transaction.
    const back = (await wf.transitionRequest(tr(r.id, RequestState.REQUEST_STATE_NEW), seller1)).request!;
    expect(back).toMatchObject({ state: RequestState.REQUEST_STATE_NEW, assigneeId: '', revisitAt: '' });
    expect(await q('SELECT key FROM graphile_worker.jobs WHERE key = $1', [`revisit:${r.id}`])).toHaveLength(0);
    expect((await q<{ status: string }>(`SELECT status FROM tasks WHERE request_id = $1`, [r.id]))[0].status).toBe('done');

    const trashed = (await wf.transitionRequest(tr(r.id, RequestState.REQUEST_STATE_TRASH, { trashReason: TrashReason.TRASH_REASON_OTHER, trashNote: 'robot' }), admin)).request!;
    expect(trashed).toMatchObject({ state: RequestState.REQUEST_STATE_TRASH, trashReason: 'other', trashNote: 'robot' });
    const restored = (await wf.transitionRequest(tr(r.id, RequestState.REQUEST_STATE_NEW), admin)).request!;
    expect(restored).toMatchObject({ state: RequestState.REQUEST_STATE_NEW, trashReason: '', trashNote: '' });
    const closed = (await wf.transitionRequest(tr(r.id, RequestState.REQUEST_STATE_CLOSED, { reason: 'done' }), admin)).request!;
    expect(closed).toMatchObject({ state: RequestState.REQUEST_STATE_CLOSED, version: 8 });

    const { entries } = await wf.getRequestHistory({ id: r.id }, admin);
    expect(entries.map((e) => `${e.field}:${e.from}>${e.to}`)).toEqual([
      'state:new>assigned',
      `assignee:>${S1}`,
      'state:assigned>in_progress',
      `first_response:>${answered.firstResponseAt}`,
      'state:in_progress>deferred',
      `revisit:>${new Date(revisitAt).toISOString()}`,
      'state:deferred>new',
      `assignee:${S1}>`,
      'revisit:' + new Date(revisitAt).toISOString() + '>',
      'state:new>trash',
      'state:trash>new',
      'state:new>closed',
    ]);
    const trashEntry = entries.find((e) => e.field === 'state' && e.to === 'trash')!;
    expect(trashEntry).toMatchObject({ actorKind: 'user', actorId: ADMIN });
    expect(JSON.parse(trashEntry.detailsJson)).toEqual({ trash_reason: 'other', trash_note: 'robot' });
    expect(entries.find((e) => e.field === 'state' && e.to === 'deferred')!.reason).toBe('call back on Friday');

    // Every change is on Kafka, in order, each carrying the request after it.
    const mine = () => watcher.messages.filter((m) => m.key?.toString() === `${T}:${r.id}`).map((m) => decodeEvent(m));
    await eventually(() => mine().length, { until: (n) => n >= 11, timeoutMs: 20_000 });
    const types = mine().map((e) => e.type.replace('crm.intake.request.', '').replace('.v1', ''));
    expect(types).toEqual([
      'created',
      'state_changed',
      'assigned',
      'state_changed',
      'first_response',
      'state_changed',
      'state_changed',
      'assigned',
      'state_changed',
      'state_changed',
      'state_changed',
    ]);
    const events = mine();
    expect(decodeData(events[2], RequestAssigned)).toMatchObject({ previousAssigneeId: '', cause: 'manual', actor: { kind: 'user', id: ADMIN }, request: { assigneeId: S1, version: 2 } });
    const fr = decodeData(events[4], RequestFirstResponse);
    expect(fr).toMatchObject({ userId: S1, via: 'manual' });
    expect(fr.speedToLeadMs).toBeGreaterThanOrEqual(0);
    expect(decodeData(events[10], RequestStateChanged)).toMatchObject({ from: RequestState.REQUEST_STATE_NEW, to: RequestState.REQUEST_STATE_CLOSED, reason: 'done', request: { version: 8 } });
  });

  it('refuses every illegal move with FAILED_PRECONDITION naming the state and the allowed ones, and writes nothing', async () => {
    const allowed: Record<string, string[]> = {
      new: ['assigned', 'in_progress', 'deferred', 'trash', 'closed', 'converted', 'attached'],
      assigned: ['in_progress', 'new', 'deferred', 'trash', 'closed', 'converted', 'attached'],
      in_progress: ['deferred', 'trash', 'closed', 'converted', 'attached'],
      deferred: ['new'],
      trash: ['new'],
      closed: [],
      converted: [],
      attached: [],
    };
    const enumOf: Record<string, RequestState> = {
      new: RequestState.REQUEST_STATE_NEW,
      assigned: RequestState.REQUEST_STATE_ASSIGNED,
      in_progress: RequestState.REQUEST_STATE_IN_PROGRESS,
      converted: RequestState.REQUEST_STATE_CONVERTED,
      attached: RequestState.REQUEST_STATE_ATTACHED,
      deferred: RequestState.REQUEST_STATE_DEFERRED,
      trash: RequestState.REQUEST_STATE_TRASH,
      closed: RequestState.REQUEST_STATE_CLOSED,
    };
    let refused = 0;
    for (const from of Object.keys(allowed)) {
      const r = await create();
      await h.pool.query('UPDATE requests SET state = $2, assignee_id = $3 WHERE id = $1', [r.id, from, from === 'assigned' || from === 'in_progress' ? S1 : null]);
      for (const to of Object.keys(allowed).filter((t) => !allowed[from].includes(t))) {
        const err = await grpcError(
          wf.transitionRequest(tr(r.id, enumOf[to], { trashReason: TrashReason.TRASH_REASON_SPAM, revisitAt: inFuture(1), dealId: DEAL, assigneeId: S1 }), admin),
        );
        expect(err.code).toBe(status.FAILED_PRECONDITION);
        expect(details(err)).toEqual({ state: from, allowed: JSON.stringify(allowed[from]) });
        refused += 1;
      }
      expect(await versionOf(r.id)).toBe(1);
      expect(await historyCount(r.id)).toBe(0);
    }
    expect(refused).toBe(64 - 21);
  });

  it('guards: trash reason and note, revisit date, deal, client card, a target state', async () => {
    const r = await create();
    const fields = async (req: TransitionRequestRequest) => {
      const err = await grpcError(wf.transitionRequest(req, admin));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      return err.violations.map((v) => v.field);
    };
    expect(await fields(tr(r.id, RequestState.REQUEST_STATE_TRASH))).toEqual(['trash_reason']);
    expect(await fields(tr(r.id, RequestState.REQUEST_STATE_TRASH, { trashReason: 99 as TrashReason }))).toEqual(['trash_reason']);
    expect(await fields(tr(r.id, RequestState.REQUEST_STATE_TRASH, { trashReason: TrashReason.TRASH_REASON_OTHER }))).toEqual(['trash_note']);
    expect(await fields(tr(r.id, RequestState.REQUEST_STATE_DEFERRED))).toEqual(['revisit_at']);
    expect(await fields(tr(r.id, RequestState.REQUEST_STATE_DEFERRED, { revisitAt: new Date(Date.now() - 60_000).toISOString() }))).toEqual(['revisit_at']);
    expect(await fields(tr(r.id, RequestState.REQUEST_STATE_DEFERRED, { revisitAt: inFuture(800) }))).toEqual(['revisit_at']);
    expect(await fields(tr(r.id, RequestState.REQUEST_STATE_DEFERRED, { revisitAt: 'next week' }))).toEqual(['revisit_at']);
    expect(await fields(tr(r.id, RequestState.REQUEST_STATE_CONVERTED))).toEqual(['deal_id']);
    expect(await fields(tr(r.id, RequestState.REQUEST_STATE_ATTACHED, { clientCardId: 'card-1' }))).toEqual(['client_card_id']);
    expect(await fields(tr(r.id, RequestState.REQUEST_STATE_ASSIGNED))).toEqual(['assignee_id']);
    expect(await fields(tr(r.id, RequestState.REQUEST_STATE_UNSPECIFIED))).toEqual(['to']);
    expect(await fields(tr(r.id, RequestState.REQUEST_STATE_CLOSED, { reason: 'x'.repeat(501) }))).toEqual(['reason']);
    expect(await versionOf(r.id)).toBe(1);
    const converted = (await wf.transitionRequest(tr(r.id, RequestState.REQUEST_STATE_CONVERTED, { dealId: DEAL }), admin)).request!;
    expect(converted).toMatchObject({ state: RequestState.REQUEST_STATE_CONVERTED, dealId: DEAL });
  });

  it('assignee guards: unknown or deactivated, away, another department refused; off shift allowed by hand; identity down is UNAVAILABLE', async () => {
    const r = await create();
    await wf.moveToDepartment({ id: r.id, expectedVersion: 0, departmentId: DEP_A, reason: '' }, admin);
    const refusal = async (assigneeId: string) => {
      const err = await grpcError(wf.assignRequest({ id: r.id, expectedVersion: 0, assigneeId, take: false }, admin));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.violations[0].field).toBe('assignee_id');
      return err.violations[0].message;
    };
    expect(await refusal(GONE)).toMatch(/unknown or deactivated/);
    expect(await refusal(S2_AWAY)).toMatch(/away/);
    expect(await refusal(S3_B)).toMatch(/department/);
    expect(await refusal('bob')).toMatch(/UUID/);
    const before = await versionOf(r.id);
    team.down = true;
    try {
      const err = await grpcError(wf.assignRequest({ id: r.id, expectedVersion: 0, assigneeId: S1, take: false }, admin));
      expect(err.code).toBe(status.UNAVAILABLE);
    } finally {
      team.down = false;
    }
    expect(await versionOf(r.id)).toBe(before);
    const off = (await wf.assignRequest({ id: r.id, expectedVersion: 0, assigneeId: S4_OFF, take: false }, admin)).request!;
    expect(off).toMatchObject({ state: RequestState.REQUEST_STATE_ASSIGNED, assigneeId: S4_OFF });
    // take: the caller; an API key cannot take.
    const taken = (await wf.assignRequest({ id: r.id, expectedVersion: 0, assigneeId: '', take: true }, seller1)).request!;
    expect(taken.assigneeId).toBe(S1);
    const key = await grpcError(wf.assignRequest({ id: r.id, expectedVersion: 0, assigneeId: '', take: true }, { tenantId: T, callerId: 'key-1', callerKind: 'api_key' }));
    expect(key.code).toBe(status.INVALID_ARGUMENT);
    expect(key.violations[0].field).toBe('take');
  });

  it('two changes with the same expected_version: exactly one wins, the other is ABORTED with the current request', async () => {
    const r = await create();
    const calls = [
      wf.setAxes({ id: r.id, expectedVersion: 1, meaning: MeaningAxis.MEANING_AXIS_TARGETED, qualification: 0, reason: '' }, admin),
      wf.assignRequest({ id: r.id, expectedVersion: 1, assigneeId: S1, take: false }, admin),
      wf.transitionRequest(tr(r.id, RequestState.REQUEST_STATE_CLOSED, { expectedVersion: 1 }), admin),
    ];
    const settled = await Promise.allSettled(calls);
    const won = settled.filter((s) => s.status === 'fulfilled');
    const lost = settled.filter((s) => s.status === 'rejected') as PromiseRejectedResult[];
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(2);
    for (const l of lost) {
      expect(l.reason.code).toBe(status.ABORTED);
      const current = Request.fromJSON(JSON.parse(details(l.reason).current));
      expect(current).toMatchObject({ id: r.id, version: 2 });
    }
    expect(await versionOf(r.id)).toBe(2);
  });

  it('the current request of a conflict travels whole, also with a long Cyrillic message', async () => {
    const res = await h.client.createRequest(
      {
        channel: Channel.CHANNEL_CHAT,
        name: 'Длинное',
        phone: '',
        email: '',
        message: 'Ж'.repeat(5000),
        attribution: undefined,
        idempotencyKey: '',
        publicFormId: '',
        defaultCountry: '',
        extraFields: [],
        ...NO_ROUTING_FIELDS,
      },
      admin,
    );
    const id = res.request!.id;
    await wf.transitionRequest(tr(id, RequestState.REQUEST_STATE_CLOSED), admin);
    const err = await grpcError(wf.transitionRequest(tr(id, RequestState.REQUEST_STATE_NEW, { expectedVersion: 1 }), admin));
    expect(err.code).toBe(status.ABORTED);
    const current = Request.fromJSON(JSON.parse(details(err).current));
    expect(current).toMatchObject({ id, version: 2, state: RequestState.REQUEST_STATE_CLOSED });
  });
});

describe('answered, first response, axes, department', () => {
  it('MarkAnswered on a new request assigns the caller; RecordFirstResponse keeps the first', async () => {
    const r = await create();
    // A seller sees a request of their department's queue (not one with no department).
    expect((await grpcError(wf.markAnswered({ id: r.id, expectedVersion: 0 }, seller1))).code).toBe(status.NOT_FOUND);
    await wf.moveToDepartment({ id: r.id, expectedVersion: 0, departmentId: DEP_A, reason: '' }, admin);
    const res = (await wf.markAnswered({ id: r.id, expectedVersion: 0 }, seller1)).request!;
    expect(res).toMatchObject({ state: RequestState.REQUEST_STATE_IN_PROGRESS, assigneeId: S1 });
    const again = await wf.recordFirstResponse({ requestId: r.id, at: '', userId: S1, via: 'call' }, { tenantId: T, callerId: 'telephony', callerKind: 'service' });
    expect(again.recorded).toBe(false);
    expect(again.request!.firstResponseAt).toBe(res.firstResponseAt);

    const other = await create();
    await h.pool.query(`SELECT graphile_worker.add_job('intake_sla_breach', '{}'::json, run_at => now() + interval '1 hour', job_key => $1)`, [`sla:${other.id}`]);
    const rec = await wf.recordFirstResponse({ requestId: other.id, at: '', userId: S1, via: 'chat' }, { tenantId: T, callerId: 'chat', callerKind: 'service' });
    expect(rec.recorded).toBe(true);
    expect(rec.request).toMatchObject({ state: RequestState.REQUEST_STATE_IN_PROGRESS, assigneeId: S1 });
    expect(await q('SELECT 1 FROM graphile_worker.jobs WHERE key = $1', [`sla:${other.id}`])).toHaveLength(0);
    const bad = await grpcError(wf.recordFirstResponse({ requestId: other.id, at: 'soon', userId: 'x', via: 'pigeon' }, admin));
    expect(bad.violations.map((v) => v.field)).toEqual(['at', 'user_id', 'via']);
  });

  it('SetAxes: a change is an event per axis; the same value is no change, no event, no version', async () => {
    const r = await create();
    const res = (await wf.setAxes({ id: r.id, expectedVersion: 1, meaning: MeaningAxis.MEANING_AXIS_TARGETED, qualification: QualificationAxis.QUALIFICATION_AXIS_LEAD, reason: 'asked' }, admin)).request!;
    expect(res).toMatchObject({ version: 2, axes: { meaning: MeaningAxis.MEANING_AXIS_TARGETED, qualification: QualificationAxis.QUALIFICATION_AXIS_LEAD } });
    const same = (await wf.setAxes({ id: r.id, expectedVersion: 2, meaning: MeaningAxis.MEANING_AXIS_TARGETED, qualification: 0, reason: '' }, admin)).request!;
    expect(same.version).toBe(2);
    const mine = () => watcher.messages.filter((m) => m.key?.toString() === `${T}:${r.id}`).map((m) => decodeEvent(m)).filter((e) => e.type.endsWith('axis_changed.v1'));
    await eventually(() => mine().length, { until: (n) => n >= 2, timeoutMs: 20_000 });
    expect(mine().map((e) => decodeData(e, RequestAxisChanged)).map((e) => `${e.axis}:${e.from}>${e.to}`)).toEqual(['meaning:unknown>targeted', 'qualification:pending>lead']);
    const none = await grpcError(wf.setAxes({ id: r.id, expectedVersion: 0, meaning: 0, qualification: 0, reason: '' }, admin));
    expect(none.code).toBe(status.INVALID_ARGUMENT);
    const unknown = await grpcError(wf.setAxes({ id: r.id, expectedVersion: 0, meaning: 42 as MeaningAxis, qualification: 0, reason: '' }, admin));
    expect(unknown.violations[0].field).toBe('meaning');
  });

  it('MoveToDepartment: an unknown department is refused; a move clears the assignee and puts it back to new', async () => {
    const r = await create();
    await wf.assignRequest({ id: r.id, expectedVersion: 0, assigneeId: S1, take: false }, admin);
    const unknown = await grpcError(wf.moveToDepartment({ id: r.id, expectedVersion: 0, departmentId: GONE, reason: '' }, admin));
    expect(unknown.code).toBe(status.INVALID_ARGUMENT);
    expect(unknown.violations[0].field).toBe('department_id');
    const moved = (await wf.moveToDepartment({ id: r.id, expectedVersion: 0, departmentId: DEP_B, reason: 'wrong queue' }, admin)).request!;
    expect(moved).toMatchObject({ departmentId: DEP_B, assigneeId: '', state: RequestState.REQUEST_STATE_NEW });
  });
});

describe('the contact axis follows contacts', () => {
  it('a contact updated with its phone verified raises its unverified requests to verified, once', async () => {
    const res = await h.client.createRequest(
      { channel: Channel.CHANNEL_PHONE, name: 'Звонок', phone: '+79990001122', email: '', message: '', attribution: undefined, idempotencyKey: '', publicFormId: '', defaultCountry: '', extraFields: [], ...NO_ROUTING_FIELDS },
      admin,
    );
    const r = res.request!;
    expect(r.axes!.contact).toBe(ContactAxis.CONTACT_AXIS_UNVERIFIED);
    expect(r.contactId).not.toBe('');
    const contact = {
      id: r.contactId,
      tenantId: T,
      name: 'Звонок',
      createdAt: new Date().toISOString(),
      points: [{ id: uuidv7(), type: PointType.POINT_TYPE_PHONE, value: '+79990001122', network: '', verification: Verification.VERIFICATION_VERIFIED, provenance: undefined, createdAt: new Date().toISOString(), verifiedBy: ADMIN }],
      companyId: '',
      mergedIntoId: '',
      provenance: undefined,
      version: 2,
      updatedAt: new Date().toISOString(),
      requestCount: 1,
    };
    const event = {
      id: uuidv7(),
      source: 'crm/contacts',
      type: 'crm.contacts.contact.updated.v1',
      subject: r.contactId,
      tenantId: T,
      time: new Date().toISOString(),
      contentType: 'application/protobuf',
      data: Buffer.from(ContactUpdated.encode({ contact, change: 'point_verification' }).finish()),
    };
    const producer = h.kafka.producer();
    await producer.connect();
    try {
      // Twice (a redelivery under another id too): one change.
      await producer.send({ topic: h.topic('crm.contacts.contact.v1'), messages: [encodeEvent(event), encodeEvent({ ...event, id: uuidv7() })] });
    } finally {
      await producer.disconnect();
    }
    await eventually(async () => (await q<{ contact_axis: string }>('SELECT contact_axis FROM requests WHERE id = $1', [r.id]))[0].contact_axis, { until: (v) => v === 'verified', timeoutMs: 20_000 });
    const { entries } = await wf.getRequestHistory({ id: r.id }, admin);
    expect(entries.filter((e) => e.field === 'contact').map((e) => [e.from, e.to, e.actorKind, e.actorId])).toEqual([['unverified', 'verified', 'system', 'contacts']]);
    expect(await versionOf(r.id)).toBe(2);
  });
});

describe('bulk', () => {
  it('assigns and transitions per id, with mixed results and never a whole-call failure', async () => {
    const a = await create();
    const b = await create();
    const closed = await create();
    await wf.transitionRequest(tr(closed.id, RequestState.REQUEST_STATE_CLOSED), admin);
    const missing = '0190a0a0-0000-7000-8000-00000000dead';
    const res = await wf.bulkAssign({ ids: [a.id, b.id, closed.id, missing, 'nope', a.id], assigneeId: S1 }, admin);
    expect(res.succeeded).toBe(2);
    expect(res.failed).toBe(3);
    expect(res.results.map((x) => [x.id, x.ok, x.code])).toEqual([
      [a.id, true, 'OK'],
      [b.id, true, 'OK'],
      [closed.id, false, 'FAILED_PRECONDITION'],
      [missing, false, 'NOT_FOUND'],
      ['nope', false, 'INVALID_ARGUMENT'],
    ]);
    expect(res.results[0].request).toMatchObject({ assigneeId: S1, state: RequestState.REQUEST_STATE_ASSIGNED });
    // Bulk refuses someone off shift (a person's explicit choice allows it).
    const off = await wf.bulkAssign({ ids: [a.id], assigneeId: S4_OFF }, admin);
    expect(off.results[0]).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
    expect(off.results[0].message).toMatch(/off shift/);

    const t = await wf.bulkTransition({ ids: [a.id, closed.id], to: RequestState.REQUEST_STATE_TRASH, reason: '', trashReason: TrashReason.TRASH_REASON_SPAM, trashNote: '', revisitAt: '' }, admin);
    expect(t.results.map((x) => x.code)).toEqual(['OK', 'FAILED_PRECONDITION']);

    const tooMany = await grpcError(wf.bulkAssign({ ids: Array.from({ length: 201 }, (_, i) => `0190a0a0-0000-7000-8000-${String(i).padStart(12, '0')}`), assigneeId: S1 }, admin));
    expect(tooMany.code).toBe(status.INVALID_ARGUMENT);
    expect((await grpcError(wf.bulkAssign({ ids: [], assigneeId: S1 }, admin))).code).toBe(status.INVALID_ARGUMENT);
    team.down = true;
    try {
      expect((await grpcError(wf.bulkAssign({ ids: [b.id], assigneeId: S1 }, admin))).code).toBe(status.UNAVAILABLE);
    } finally {
      team.down = false;
    }
  });
});

describe('counters, my work, views', () => {
  it('counts per state over the filter, with sla_breached_open', async () => {
    const utm = `count-${runId}`;
    const rs = [await create(admin, { utm }), await create(admin, { utm }), await create(admin, { utm })];
    await wf.transitionRequest(tr(rs[2].id, RequestState.REQUEST_STATE_CLOSED), admin);
    await h.pool.query(`UPDATE requests SET sla_breached_at = now() WHERE id = ANY($1::uuid[])`, [[rs[0].id, rs[2].id]]);
    const c = await wf.countRequests({ filter: list({ utmSource: utm.toUpperCase(), states: [RequestState.REQUEST_STATE_NEW] }) }, admin);
    expect(c.total).toBe(3);
    expect(c.slaBreachedOpen).toBe(1);
    expect(c.counts.find((x) => x.state === RequestState.REQUEST_STATE_NEW)!.count).toBe(2);
    expect(c.counts.find((x) => x.state === RequestState.REQUEST_STATE_CLOSED)!.count).toBe(1);
    expect(c.counts).toHaveLength(8);
    const bad = await grpcError(wf.countRequests({ filter: list({ departmentIds: ['x'] }) }, admin));
    expect(bad.violations[0].field).toBe('department_ids[0]');
  });

  it('my work: open and breached of mine, overdue and today tasks, revisits today, the queue', async () => {
    const me: TenantContext = { tenantId: T, callerId: S3_B, callerKind: 'user', roles: ['seller'], departmentIds: [DEP_B] };
    const before = await wf.getMyWork({}, me);
    const r1 = await create();
    await wf.moveToDepartment({ id: r1.id, expectedVersion: 0, departmentId: DEP_B, reason: '' }, admin);
    const r2 = await create();
    await wf.moveToDepartment({ id: r2.id, expectedVersion: 0, departmentId: DEP_B, reason: '' }, admin);
    await wf.assignRequest({ id: r2.id, expectedVersion: 0, assigneeId: S3_B, take: false }, admin);
    await h.pool.query('UPDATE requests SET sla_breached_at = now() WHERE id = $1', [r2.id]);
    const now = Date.now();
    for (const due of [new Date(now - 3_600_000), new Date(now + 60_000)]) {
      await h.pool.query(
        `INSERT INTO tasks (id, tenant_id, title, due_at, assignee_id, status, kind, created_at, created_by, updated_at) VALUES (gen_random_uuid(), $1, 't', $2, $3, 'open', 'manual', now(), $3, now())`,
        [T, due, S3_B],
      );
    }
    const after = await wf.getMyWork({}, me);
    expect(after.assignedOpen - before.assignedOpen).toBe(1);
    expect(after.breached - before.breached).toBe(1);
    expect(after.queueNew - before.queueNew).toBe(1);
    expect(after.overdueTasks - before.overdueTasks).toBe(1);
    expect(after.tasksDueToday - before.tasksDueToday).toBeGreaterThanOrEqual(1);
  });

  it('saved views per user: unique names, cross-user and cross-tenant invisible, bounded input', async () => {
    const mine = (await wf.saveView({ id: '', name: 'Мои новые', query: 'state=new' }, seller1)).view!;
    expect(mine).toMatchObject({ name: 'Мои новые', query: 'state=new' });
    const dup = await grpcError(wf.saveView({ id: '', name: 'мои НОВЫЕ', query: '' }, seller1));
    expect(dup.code).toBe(status.ALREADY_EXISTS);
    // Another user may use the name; they do not see or delete mine.
    const other: TenantContext = { ...seller1, callerId: S4_OFF };
    await wf.saveView({ id: '', name: 'Мои новые', query: 'state=assigned' }, other);
    expect((await wf.listViews({}, other)).views.map((v) => v.query)).toEqual(['state=assigned']);
    expect((await grpcError(wf.deleteView({ id: mine.id }, other))).code).toBe(status.NOT_FOUND);
    expect((await grpcError(wf.saveView({ id: mine.id, name: 'stolen', query: '' }, other))).code).toBe(status.NOT_FOUND);
    expect((await grpcError(wf.deleteView({ id: mine.id }, { ...seller1, tenantId: OTHER }))).code).toBe(status.NOT_FOUND);
    const renamed = (await wf.saveView({ id: mine.id, name: 'Новые', query: '?state=new&channel=phone' }, seller1)).view!;
    expect(renamed).toMatchObject({ id: mine.id, name: 'Новые', query: 'state=new&channel=phone' });
    const big = await grpcError(wf.saveView({ id: '', name: 'big', query: 'q'.repeat(2001) }, seller1));
    expect(big.violations.map((v) => v.field)).toEqual(['query']);
    const noName = await grpcError(wf.saveView({ id: 'x', name: ' ', query: '' }, seller1));
    expect(noName.violations.map((v) => v.field)).toEqual(['id', 'name']);
    await wf.deleteView({ id: mine.id }, seller1);
    expect((await wf.listViews({}, seller1)).views).toEqual([]);
  });
});

describe('journal filters and the my_work order', () => {
  it('filters by department, assignee (me, unassigned), breached, utm_source, meaning; my_work pages by keyset in its order', async () => {
    const utm = `jr-${runId}`;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await create(admin, { utm, name: `j${i}` })).id);
    await h.pool.query(`UPDATE requests SET department_id = $2 WHERE id = ANY($1::uuid[])`, [ids, DEP_A]);
    // due: ids[0] none, ids[1] +3h, ids[2] +1h (breached), ids[3] +2h, ids[4] +1h, ids[5] none (breached), ids[6] +2h
    const due: (number | null)[] = [null, 3, 1, 2, 1, null, 2];
    for (let i = 0; i < 7; i++) {
      await h.pool.query(`UPDATE requests SET sla_due_at = $2, assignee_id = $3, sla_breached_at = $4, missed = $5 WHERE id = $1`, [
        ids[i],
        due[i] === null ? null : new Date(Date.parse('2026-12-01T10:00:00.000Z') + due[i]! * 3_600_000),
        i % 2 === 0 ? S1 : null,
        i === 2 || i === 5 ? new Date() : null,
        i === 6,
      ]);
    }
    await wf.setAxes({ id: ids[3], expectedVersion: 0, meaning: MeaningAxis.MEANING_AXIS_TARGETED, qualification: 0, reason: '' }, admin);
    const page = async (over: Partial<ListRequestsRequest>, ctx: TenantContext = admin) => (await h.client.listRequests(list({ utmSource: utm, ...over }), ctx)).requests.map((r) => ids.indexOf(r.id));

    expect(await page({ departmentIds: [DEP_A] })).toEqual([6, 5, 4, 3, 2, 1, 0]);
    expect(await page({ departmentIds: [DEP_B] })).toEqual([]);
    expect(await page({ assigneeIds: ['unassigned'] })).toEqual([5, 3, 1]);
    expect(await page({ assigneeIds: ['me'] }, seller1)).toEqual([6, 4, 2, 0]);
    expect(await page({ assigneeIds: ['me', 'unassigned'] }, seller1)).toEqual([6, 5, 4, 3, 2, 1, 0]);
    expect(await page({ slaBreached: true })).toEqual([5, 2]);
    expect(await page({ slaBreached: false, missed: true })).toEqual([6]);
    expect(await page({ meanings: [MeaningAxis.MEANING_AXIS_TARGETED] })).toEqual([3]);
    // Search through the transliterated trigram index stays exact: ё is not е, Latin is not Cyrillic.
    const petr = (await create(admin, { utm, name: 'Пётр Ёлкин' })).id;
    const zhenya = (await create(admin, { utm, name: 'Женя Zhenya' })).id;
    const search = async (query: string) => (await h.client.listRequests(list({ utmSource: utm, query }), admin)).requests.map((r) => r.id);
    expect(await search('ёлк')).toEqual([petr]);
    expect(await search('елк')).toEqual([]);
    expect(await search('ЖЕНЯ')).toEqual([zhenya]);
    expect(await search('zhenya')).toEqual([zhenya]);
    expect(await search('zenа')).toEqual([]);
    await h.pool.query('UPDATE requests SET utm_source = NULL WHERE id = ANY($1::uuid[])', [[petr, zhenya]]);

    const expected = [2, 5, 4, 3, 6, 1, 0];
    expect(await page({ order: 'my_work' })).toEqual(expected);
    const walked: number[] = [];
    let cursor = '';
    do {
      const res = await h.client.listRequests(list({ utmSource: utm, order: 'my_work', pageSize: 2, cursor }), admin);
      walked.push(...res.requests.map((r) => ids.indexOf(r.id)));
      cursor = res.nextCursor;
    } while (cursor);
    expect(walked).toEqual(expected);
    // A created_desc cursor is not a my_work cursor.
    const first = await h.client.listRequests(list({ utmSource: utm, pageSize: 2 }), admin);
    expect((await grpcError(h.client.listRequests(list({ utmSource: utm, order: 'my_work', cursor: first.nextCursor }), admin))).violations[0].field).toBe('cursor');
    expect((await grpcError(h.client.listRequests(list({ order: 'oldest' }), admin))).violations[0].field).toBe('order');
    expect((await grpcError(h.client.listRequests(list({ assigneeIds: ['bob'] }), admin))).violations[0].field).toBe('assignee_ids[0]');
  });
});

describe('bad input and other tenants on every write', () => {
  it('malformed ids and versions are INVALID_ARGUMENT; another tenant’s request is NOT_FOUND; nothing written', async () => {
    const r = await create();
    const writes: [string, (id: string, v: number, ctx: TenantContext) => Promise<unknown>][] = [
      ['transition', (id, v, ctx) => wf.transitionRequest(tr(id, RequestState.REQUEST_STATE_CLOSED, { expectedVersion: v }), ctx)],
      ['assign', (id, v, ctx) => wf.assignRequest({ id, expectedVersion: v, assigneeId: S1, take: false }, ctx)],
      ['answered', (id, v, ctx) => wf.markAnswered({ id, expectedVersion: v }, ctx)],
      ['axes', (id, v, ctx) => wf.setAxes({ id, expectedVersion: v, meaning: MeaningAxis.MEANING_AXIS_TARGETED, qualification: 0, reason: '' }, ctx)],
      ['department', (id, v, ctx) => wf.moveToDepartment({ id, expectedVersion: v, departmentId: DEP_A, reason: '' }, ctx)],
    ];
    team.setRoster(OTHER, { departments: [{ id: DEP_A }], users: [{ id: S1, departmentIds: [DEP_A] }] });
    for (const [name, call] of writes) {
      expect([name, (await grpcError(call('not-a-uuid', 0, admin))).code]).toEqual([name, status.INVALID_ARGUMENT]);
      expect([name, (await grpcError(call(r.id, -1, admin))).code]).toEqual([name, status.INVALID_ARGUMENT]);
      expect([name, (await grpcError(call(r.id, 0, otherTenant))).code]).toEqual([name, status.NOT_FOUND]);
    }
    expect((await grpcError(wf.recordFirstResponse({ requestId: r.id, at: '', userId: '', via: '' }, otherTenant))).code).toBe(status.NOT_FOUND);
    expect((await grpcError(wf.getRequestHistory({ id: r.id }, otherTenant))).code).toBe(status.NOT_FOUND);
    expect((await grpcError(wf.transitionRequest(tr(r.id, RequestState.REQUEST_STATE_TRASH, { trashReason: TrashReason.TRASH_REASON_OTHER, trashNote: 'n'.repeat(501) }), admin))).violations[0].field).toBe('trash_note');
    expect(await versionOf(r.id)).toBe(1);
    expect(await historyCount(r.id)).toBe(0);
  });
});
