/**
 * WorkflowService.SetCallOutcome (telephony's missed calls and callbacks) in-process against the real
 * engines: a miss marks a phone request missed, a callback's time recovers it (kept missed, the first
 * time kept); repeats change nothing; each real change is a history row and an axis_changed event in the
 * outbox; bad input is INVALID_ARGUMENT, a request of another channel FAILED_PRECONDITION, another
 * tenant's NOT_FOUND. CreateRequest.decided: telephony's routing decision is applied instead of routing
 * again (department and assignee), an assignee outside the department is dropped, an unknown
 * department leaves routing to decide.
 */
import { RequestAxisChanged } from '@crm/contracts/crm/intake/events/v1/request_events';
import { Channel, type Request } from '@crm/contracts/crm/intake/v1/request';
import { WorkflowServiceService } from '@crm/contracts/crm/intake/v1/workflow';
import { createClient, status, type PromiseClient, type TenantContext } from '@crm/grpc';
import { grpcError, NO_ROUTING_FIELDS, startHarness, type Harness } from './harness';
import { startTeamDouble, type TeamDouble } from './team-double';

const T = 'tenant-calls';
const svc: TenantContext = { tenantId: T, callerId: 'telephony', callerKind: 'service' };
const DEP = '0190a0a0-0000-7000-8000-0000000000c1';
const S1 = '0190a0a0-0000-7000-8000-0000000000c2';
const OUTSIDER = '0190a0a0-0000-7000-8000-0000000000c3';
let h: Harness;
let team: TeamDouble;
let wf: PromiseClient<typeof WorkflowServiceService>;

beforeAll(async () => {
  team = await startTeamDouble();
  team.setRoster(T, {
    timeZone: 'Europe/Moscow',
    departments: [{ id: DEP, name: 'Calls' }],
    users: [
      { id: S1, departmentIds: [DEP] },
      { id: OUTSIDER, departmentIds: [] },
    ],
  });
  h = await startHarness({ identityAddr: team.addr });
  wf = createClient(WorkflowServiceService, { address: `127.0.0.1:${h.service.grpc.port}`, defaultDeadlineMs: 15_000 });
}, 120_000);

afterAll(async () => {
  wf?.close();
  await h?.stop();
  await team?.stop();
});

type Decided = { departmentId: string; assigneeId: string };
async function create(channel: Channel, phone: string, decided?: Decided): Promise<Request> {
  const res = await h.client.createRequest(
    {
      channel,
      name: 'Звонок',
      phone,
      email: '',
      message: '',
      attribution: { utmSource: '', utmMedium: '', utmCampaign: '', utmContent: '', utmTerm: '', landingPage: '', referrer: '' },
      idempotencyKey: '',
      publicFormId: '',
      defaultCountry: '',
      extraFields: [],
      ...NO_ROUTING_FIELDS,
      decided: decided ? { version: 0, ruleId: '', strategy: 0, assignedBy: 'round_robin', overflowPath: [], trace: [], unassignedReason: '', ...decided } : undefined,
    },
    svc,
  );
  return res.request!;
}

async function trail(id: string): Promise<{ history: string[]; events: string[] }> {
  const history = await h.pool.query<{ field: string; to_value: string }>("SELECT field, to_value FROM request_history WHERE request_id = $1 AND field LIKE 'missed%' ORDER BY id", [id]);
  const events = await h.pool.query<{ payload: Buffer }>("SELECT payload FROM outbox WHERE subject = $1 AND event_type = 'crm.intake.request.axis_changed.v1' ORDER BY id", [id]);
  return {
    history: history.rows.map((r) => `${r.field}:${r.to_value}`),
    events: events.rows.map((r) => RequestAxisChanged.decode(r.payload)).map((e) => `${e.axis}:${e.from}>${e.to}`),
  };
}

describe('SetCallOutcome', () => {
  it('missed, then recovered at the callback time; repeats change nothing; history and events once each', async () => {
    const r = await create(Channel.CHANNEL_PHONE, '+79161112233');
    expect(r).toMatchObject({ missed: false, missedRecoveredAt: '' });
    const missed = await wf.setCallOutcome({ requestId: r.id, missed: true, recoveredAt: '' }, svc);
    expect(missed).toMatchObject({ changed: true, request: { missed: true, missedRecoveredAt: '', version: r.version + 1 } });
    expect(await wf.setCallOutcome({ requestId: r.id, missed: true, recoveredAt: '' }, svc)).toMatchObject({ changed: false, request: { version: r.version + 1 } });
    const at = new Date(Date.now() - 60_000).toISOString();
    const back = await wf.setCallOutcome({ requestId: r.id, missed: true, recoveredAt: at }, svc);
    expect(back).toMatchObject({ changed: true, request: { missed: true, missedRecoveredAt: at } });
    // A later callback keeps the first time.
    const later = await wf.setCallOutcome({ requestId: r.id, missed: true, recoveredAt: new Date().toISOString() }, svc);
    expect(later).toMatchObject({ changed: false, request: { missedRecoveredAt: at } });
    expect((await h.client.getRequest({ id: r.id }, svc)).request).toMatchObject({ missed: true, missedRecoveredAt: at });
    expect(await trail(r.id)).toEqual({ history: ['missed:true', `missed_recovered:${at}`], events: ['missed:false>true', `missed_recovered:>${at}`] });
  });

  it('a recovery alone also marks the request missed', async () => {
    const r = await create(Channel.CHANNEL_PHONE, '+79161112244');
    const at = new Date(Date.now() - 5_000).toISOString();
    expect(await wf.setCallOutcome({ requestId: r.id, missed: false, recoveredAt: at }, svc)).toMatchObject({ changed: true, request: { missed: true, missedRecoveredAt: at } });
  });

  it('refuses bad input, another channel, another tenant', async () => {
    const r = await create(Channel.CHANNEL_PHONE, '+79161112255');
    const bad = await grpcError(wf.setCallOutcome({ requestId: 'nope', missed: false, recoveredAt: 'yesterday' }, svc));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.violations.map((v) => v.field)).toEqual(['request_id', 'recovered_at']);
    expect((await grpcError(wf.setCallOutcome({ requestId: r.id, missed: false, recoveredAt: '' }, svc))).code).toBe(status.INVALID_ARGUMENT);
    expect((await grpcError(wf.setCallOutcome({ requestId: r.id, missed: true, recoveredAt: new Date(Date.now() + 3_600_000).toISOString() }, svc))).code).toBe(status.INVALID_ARGUMENT);
    const chat = await create(Channel.CHANNEL_CHAT, '+79161112266');
    expect((await grpcError(wf.setCallOutcome({ requestId: chat.id, missed: true, recoveredAt: '' }, svc))).code).toBe(status.FAILED_PRECONDITION);
    expect((await grpcError(wf.setCallOutcome({ requestId: r.id, missed: true, recoveredAt: '' }, { ...svc, tenantId: 'tenant-calls-other' }))).code).toBe(status.NOT_FOUND);
  });
});

describe('CreateRequest.decided', () => {
  it('takes the decided department and assignee instead of routing again', async () => {
    const r = await create(Channel.CHANNEL_PHONE, '+79161112277', { departmentId: DEP, assigneeId: S1 });
    expect(r).toMatchObject({ departmentId: DEP, assigneeId: S1 });
    const history = await h.pool.query<{ details: { assignee_id: string; department_id: string } }>("SELECT details FROM request_history WHERE request_id = $1 AND field = 'routing'", [r.id]);
    expect(history.rows[0]?.details).toMatchObject({ department_id: DEP, assignee_id: S1 });
  });

  it('drops an assignee who is not in the department; an unknown department is routed as usual', async () => {
    expect(await create(Channel.CHANNEL_PHONE, '+79161112288', { departmentId: DEP, assigneeId: OUTSIDER })).toMatchObject({ departmentId: DEP, assigneeId: '' });
    expect(await create(Channel.CHANNEL_PHONE, '+79161112299', { departmentId: '0190a0a0-0000-7000-8000-0000000000ff', assigneeId: S1 })).toMatchObject({ departmentId: '', assigneeId: '' });
    const bad = await grpcError(create(Channel.CHANNEL_PHONE, '+79161112200', { departmentId: 'nope', assigneeId: '' }));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.violations.map((v) => v.field)).toEqual(['decided.department_id']);
  });
});
