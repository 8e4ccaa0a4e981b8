/**
 * Who sees what, over real gRPC against the real engines: a seller of department A cannot get, list,
 * count, comment on, read the history of or change a request of department B (NOT_FOUND / absent);
 * a request assigned to them in B they do see; a head of A sees A and the requests with no department;
 * an admin, an analyst and an API key see all; a user call without roles sees only its own.
 */
import type { ListRequestsRequest } from '@crm/contracts/crm/intake/v1/intake';
import { Channel, MeaningAxis, RequestState } from '@crm/contracts/crm/intake/v1/request';
import { TrashReason, WorkflowServiceService } from '@crm/contracts/crm/intake/v1/workflow';
import { createClient, status, type PromiseClient, type TenantContext } from '@crm/grpc';
import { runId } from '@crm/testing';
import { grpcError, NO_LIST_FILTERS, NO_ROUTING_FIELDS, startHarness, type Harness } from './harness';
import { startTeamDouble, type TeamDouble } from './team-double';

const T = 'tenant-vis';
const DEP_A = '0190a0a0-0000-7000-8000-0000000000a1';
const DEP_B = '0190a0a0-0000-7000-8000-0000000000b1';
const ADMIN = '0190a0a0-0000-7000-8000-0000000000ad';
const SA = '0190a0a0-0000-7000-8000-0000000000a2';
const SB = '0190a0a0-0000-7000-8000-0000000000b2';
const HEAD = '0190a0a0-0000-7000-8000-0000000000a3';

const admin: TenantContext = { tenantId: T, callerId: ADMIN, callerKind: 'user', roles: ['admin'] };
const analyst: TenantContext = { tenantId: T, callerId: ADMIN, callerKind: 'user', roles: ['analyst'] };
const apiKey: TenantContext = { tenantId: T, callerId: 'key-1', callerKind: 'api_key' };
const sellerA: TenantContext = { tenantId: T, callerId: SA, callerKind: 'user', roles: ['seller'], departmentIds: [DEP_A] };
const headA: TenantContext = { tenantId: T, callerId: HEAD, callerKind: 'user', roles: ['head_of_sales'], departmentIds: [], headedDepartmentIds: [DEP_A] };
const noRoles: TenantContext = { tenantId: T, callerId: SA, callerKind: 'user' };

let h: Harness;
let team: TeamDouble;
let wf: PromiseClient<typeof WorkflowServiceService>;
const utm = `vis-${runId}`;
let inA: string;
let inB: string;
let inBMine: string;
let nowhere: string;

async function create(name: string): Promise<string> {
  const res = await h.client.createRequest(
    {
      channel: Channel.CHANNEL_CHAT,
      name,
      phone: '',
      email: '',
      message: '',
      attribution: { utmSource: utm, utmMedium: '', utmCampaign: '', utmContent: '', utmTerm: '', landingPage: '', referrer: '' },
      idempotencyKey: '',
      publicFormId: '',
      defaultCountry: '',
      extraFields: [],
      ...NO_ROUTING_FIELDS,
    },
    admin,
  );
  return res.request!.id;
}

function list(over: Partial<ListRequestsRequest> = {}): ListRequestsRequest {
  return { states: [], channels: [], createdFrom: '', createdTo: '', query: '', pageSize: 0, cursor: '', contactId: '', ...NO_LIST_FILTERS, utmSource: utm, ...over };
}

beforeAll(async () => {
  team = await startTeamDouble();
  team.setRoster(T, {
    departments: [{ id: DEP_A, headUserIds: [HEAD] }, { id: DEP_B }],
    users: [
      { id: ADMIN },
      { id: SA, departmentIds: [DEP_A, DEP_B] },
      { id: SB, departmentIds: [DEP_B] },
      { id: HEAD, departmentIds: [DEP_A] },
    ],
  });
  h = await startHarness({ identityAddr: team.addr });
  wf = createClient(WorkflowServiceService, { address: `127.0.0.1:${h.service.grpc.port}`, defaultDeadlineMs: 15_000 });
  inA = await create('in A');
  inB = await create('in B');
  inBMine = await create('in B, assigned to the seller of A');
  nowhere = await create('no department');
  for (const [id, dep] of [
    [inA, DEP_A],
    [inB, DEP_B],
    [inBMine, DEP_B],
  ] as const)
    await wf.moveToDepartment({ id, expectedVersion: 0, departmentId: dep, reason: '' }, admin);
  await wf.assignRequest({ id: inBMine, expectedVersion: 0, assigneeId: SA, take: false }, admin);
});

afterAll(async () => {
  wf?.close();
  await h?.stop();
  await team?.stop();
});

async function visible(ctx: TenantContext): Promise<string[]> {
  const res = await h.client.listRequests(list(), ctx);
  const names = new Map([
    [inA, 'A'],
    [inB, 'B'],
    [inBMine, 'B-mine'],
    [nowhere, 'none'],
  ]);
  return res.requests.map((r) => names.get(r.id) ?? r.id).sort();
}

describe('visibility', () => {
  it('lists: seller of A sees A and their own; head of A sees A and no department; admin, analyst, API key all', async () => {
    expect(await visible(sellerA)).toEqual(['A', 'B-mine']);
    expect(await visible(headA)).toEqual(['A', 'none']);
    expect(await visible(admin)).toEqual(['A', 'B', 'B-mine', 'none']);
    expect(await visible(analyst)).toEqual(['A', 'B', 'B-mine', 'none']);
    expect(await visible(apiKey)).toEqual(['A', 'B', 'B-mine', 'none']);
    expect(await visible(noRoles)).toEqual(['B-mine']);
    // An explicit filter on an invisible department gives nothing rather than an error.
    expect((await h.client.listRequests(list({ departmentIds: [DEP_B] }), sellerA)).requests.map((r) => r.id)).toEqual([inBMine]);
  });

  it('counts only what the caller sees', async () => {
    const count = async (ctx: TenantContext) => (await wf.countRequests({ filter: list() }, ctx)).total;
    expect(await count(sellerA)).toBe(2);
    expect(await count(headA)).toBe(2);
    expect(await count(admin)).toBe(4);
  });

  it('a seller of A cannot get, comment, read comments or history of, or change a request of B: NOT_FOUND, nothing written', async () => {
    const before = (await h.pool.query('SELECT version, comment_count FROM requests WHERE id = $1', [inB])).rows[0];
    const calls: [string, Promise<unknown>][] = [
      ['get', h.client.getRequest({ id: inB }, sellerA)],
      ['comment', h.client.addComment({ requestId: inB, text: 'peek' }, sellerA)],
      ['comments', h.client.listComments({ requestId: inB }, sellerA)],
      ['history', wf.getRequestHistory({ id: inB }, sellerA)],
      ['transition', wf.transitionRequest({ id: inB, expectedVersion: 0, to: RequestState.REQUEST_STATE_TRASH, reason: '', trashReason: TrashReason.TRASH_REASON_SPAM, trashNote: '', revisitAt: '', dealId: '', clientCardId: '', assigneeId: '' }, sellerA)],
      ['assign', wf.assignRequest({ id: inB, expectedVersion: 0, assigneeId: '', take: true }, sellerA)],
      ['answered', wf.markAnswered({ id: inB, expectedVersion: 0 }, sellerA)],
      ['axes', wf.setAxes({ id: inB, expectedVersion: 0, meaning: MeaningAxis.MEANING_AXIS_TARGETED, qualification: 0, reason: '' }, sellerA)],
      ['department', wf.moveToDepartment({ id: inB, expectedVersion: 0, departmentId: DEP_A, reason: '' }, sellerA)],
      ['first response', wf.recordFirstResponse({ requestId: inB, at: '', userId: '', via: '' }, sellerA)],
    ];
    for (const [name, call] of calls) expect([name, (await grpcError(call)).code]).toEqual([name, status.NOT_FOUND]);
    const bulk = await wf.bulkTransition({ ids: [inB, inA], to: RequestState.REQUEST_STATE_CLOSED, reason: '', trashReason: 0, trashNote: '', revisitAt: '' }, sellerA);
    expect(bulk.results.map((r) => r.code)).toEqual(['NOT_FOUND', 'OK']);
    expect((await h.pool.query('SELECT version, comment_count FROM requests WHERE id = $1', [inB])).rows[0]).toEqual(before);
    expect(Number((await h.pool.query('SELECT count(*) AS n FROM request_history WHERE request_id = $1 AND actor_id = $2', [inB, SA])).rows[0].n)).toBe(0);
  });

  it('the seller of A works on their own request in B; the head of A works on A and on the unrouted one', async () => {
    expect((await h.client.getRequest({ id: inBMine }, sellerA)).request!.id).toBe(inBMine);
    expect((await h.client.addComment({ requestId: inBMine, text: 'mine' }, sellerA)).comment!.text).toBe('mine');
    expect((await h.client.getRequest({ id: nowhere }, headA)).request!.id).toBe(nowhere);
    const moved = (await wf.moveToDepartment({ id: nowhere, expectedVersion: 0, departmentId: DEP_A, reason: 'mine now' }, headA)).request!;
    expect(moved.departmentId).toBe(DEP_A);
    expect((await grpcError(h.client.getRequest({ id: inB }, headA))).code).toBe(status.NOT_FOUND);
    expect((await h.client.getRequest({ id: inB }, admin)).request!.id).toBe(inB);
  });
});
