/**
 * Who sees what (DOMAIN.md), end to end through the gateway in front of real identity and intake: a
 * seller of department A can neither read, list, count, search, stream nor change a request of
 * department B — on **every** route under `/v1/requests/{id}` the OpenAPI document lists (so a route
 * added later is covered, or this test fails asking for a sample body) and through the bulk actions and
 * tasks — and it is a 404, exactly like a request that does not exist; the head of B and an admin can;
 * the head of A cannot either.
 */
import { eventually } from '@crm/testing';
import { startPlatform, type Platform } from '../support/platform';
import { client, makeWorkTeam, openStream, type As, type Res, type WorkTeam } from '../support/work-team';

let platform: Platform;
let team: WorkTeam;
let api: ReturnType<typeof client>['api'];
let send: ReturnType<typeof client>['send'];

function ok(res: Res, status = 200) {
  expect({ status: res.status, body: res.body }).toMatchObject({ status });
  return res.body;
}

/** A pipeline and an open deal of tenant A (admin's), for converting and attaching requests. */
const funnel = { pipelineId: '', dealId: '' };

let seq = 0;
/** A new request of tenant A in department B (a unique name to search by). */
async function requestInB() {
  const name = `Видимость ${Date.now()} ${++seq}`;
  const r = ok(await send('POST', '/v1/requests', team.keyA, { channel: 'chat', name, email: `vis${seq}.${Date.now()}@example.com` }), 201);
  return ok(await send('POST', `/v1/requests/${r.id}/department`, team.admin.as, { department_id: team.depB }));
}

/** A valid body for every operation on one request (by operationId); a new operation needs a line here. */
const BODIES: Record<string, (t: WorkTeam) => unknown> = {
  getRequest: () => undefined,
  listComments: () => undefined,
  addComment: () => ({ text: 'проверка видимости' }),
  getRequestHistory: () => undefined,
  transitionRequest: () => ({ to: 'closed', reason: 'проверка' }),
  assignRequest: (t) => ({ assignee_id: t.sellerB.id }),
  markAnswered: () => ({}),
  setRequestAxes: () => ({ meaning: 'targeted' }),
  moveRequestToDepartment: (t) => ({ department_id: t.depA }),
  listRequestDeals: () => undefined,
  convertRequest: () => ({ pipeline_id: funnel.pipelineId }),
  attachRequest: () => ({ deal_id: funnel.dealId }),
};

const CREATED = new Set(['addComment', 'convertRequest']);

interface Operation {
  method: string;
  path: string;
  operationId: string;
}

/** Every operation the gateway documents on a single request. */
async function requestOperations(): Promise<Operation[]> {
  const doc = ok(await api('/openapi.json', team.keyA));
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { operationId: string }>>)) {
    if (!path.startsWith('/v1/requests/{id}')) continue;
    for (const [method, op] of Object.entries(item)) if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) ops.push({ method: method.toUpperCase(), path, operationId: op.operationId });
  }
  return ops;
}

const call = (op: Operation, id: string, as: As) => send(op.method, op.path.replace('{id}', id), as, BODIES[op.operationId](team));

beforeAll(async () => {
  platform = await startPlatform({ gatewayEnv: { API_RATE_PER_CREDENTIAL: '100000' } });
  ({ api, send } = client(platform.base));
  team = await makeWorkTeam(platform);
  const stage = (key: string, outcome: string, to: string[]) => ({ key, name: key, outcome, to });
  const pipeline = ok(
    await send('POST', '/v1/pipelines', team.admin.as, { name: 'Видимость', stages: [stage('new', 'open', ['won', 'lost']), stage('won', 'won', []), stage('lost', 'lost', [])], lost_reasons: ['Дорого'], fields: [] }),
    201,
  );
  funnel.pipelineId = pipeline.id;
  funnel.dealId = ok(await send('POST', '/v1/deals', team.admin.as, { pipeline_id: pipeline.id, title: 'Сделка для привязки' }), 201).id;
}, 420_000);

afterAll(async () => {
  await platform?.stop();
});

it('covers every documented operation on a request (a new one needs a sample body here)', async () => {
  const ops = await requestOperations();
  expect(ops.length).toBeGreaterThanOrEqual(9);
  expect(ops.filter((o) => !BODIES[o.operationId]).map((o) => `${o.method} ${o.path} (${o.operationId})`)).toEqual([]);
});

it("a seller of A gets a 404 on every operation on B's request, as for a missing one; nothing changes", async () => {
  const r = await requestInB();
  for (const op of await requestOperations()) {
    for (const who of ['sellerA', 'headA'] as const) {
      const res = await call(op, r.id, team[who].as);
      expect({ who, op: op.operationId, status: res.status, type: res.type }).toEqual({ who, op: op.operationId, status: 404, type: expect.stringContaining('application/problem+json') });
    }
  }
  const after = ok(await api(`/v1/requests/${r.id}`, team.admin.as));
  expect(after).toMatchObject({ version: r.version, state: 'new', department_id: team.depB, comment_count: 0, assignee_id: null });
});

it("the head of B and an admin may do each of them (a fresh request per change)", async () => {
  for (const op of await requestOperations()) {
    for (const who of ['headB', 'admin'] as const) {
      const r = await requestInB();
      const res = await call(op, r.id, team[who].as);
      expect({ who, op: op.operationId, status: res.status }).toEqual({ who, op: op.operationId, status: CREATED.has(op.operationId) ? 201 : 200 });
    }
  }
});

it("a seller of A does not find B's request in the list, a search, the counters or a bulk action; the head of B does", async () => {
  const r = await requestInB();
  const ids = (res: Res) => ok(res).items.map((x: { id: string }) => x.id);
  expect(ids(await api('/v1/requests?limit=100', team.sellerA.as))).not.toContain(r.id);
  expect(ids(await api(`/v1/requests?q=${encodeURIComponent(r.name)}`, team.sellerA.as))).toEqual([]);
  expect(ids(await api(`/v1/requests?department=${team.depB}`, team.sellerA.as))).toEqual([]);
  expect(ids(await api(`/v1/requests?q=${encodeURIComponent(r.name)}`, team.headB.as))).toEqual([r.id]);
  expect(ids(await api(`/v1/requests?q=${encodeURIComponent(r.name)}`, team.admin.as))).toEqual([r.id]);
  expect(ok(await api(`/v1/requests/counts?department=${team.depB}`, team.sellerA.as)).total).toBe(0);
  expect(ok(await api(`/v1/requests/counts?department=${team.depB}`, team.headB.as)).total).toBeGreaterThanOrEqual(1);

  const bulk = ok(await send('POST', '/v1/requests/bulk/assignment', team.sellerA.as, { ids: [r.id], assignee_id: team.sellerA.id }));
  expect(bulk.results).toEqual([expect.objectContaining({ id: r.id, ok: false, code: 'NOT_FOUND', request: null })]);
  const bulkT = ok(await send('POST', '/v1/requests/bulk/transitions', team.sellerA.as, { ids: [r.id], to: 'closed' }));
  expect(bulkT.results).toEqual([expect.objectContaining({ id: r.id, ok: false, code: 'NOT_FOUND' })]);
  expect(ok(await api(`/v1/requests/${r.id}`, team.admin.as)).version).toBe(r.version);
});

it("a seller of A cannot hang a task on B's request", async () => {
  const r = await requestInB();
  const res = await send('POST', '/v1/tasks', team.sellerA.as, { title: 'чужая', due_at: new Date(Date.now() + 86_400_000).toISOString(), request_id: r.id });
  expect(res.status).toBe(404);
  expect(ok(await send('POST', '/v1/tasks', team.sellerB.as, { title: 'своя', due_at: new Date(Date.now() + 86_400_000).toISOString(), request_id: r.id }), 201).request_id).toBe(r.id);
});

it("the stream tells a seller of A nothing about B's request, and the head of B everything", async () => {
  const streams = { sellerA: await openStream(platform.base, team.sellerA.as), headB: await openStream(platform.base, team.headB.as), headA: await openStream(platform.base, team.headA.as) };
  try {
    const r = await requestInB();
    ok(await send('POST', `/v1/requests/${r.id}/comments`, team.admin.as, { text: 'для B' }), 201);
    ok(await send('PATCH', `/v1/requests/${r.id}/axes`, team.admin.as, { meaning: 'targeted' }));
    // A created request is visible to B's head only once moved there: the created event (no department) goes to heads.
    const about = (s: { events: { event: string; data: { request?: { id: string }; comment?: { request_id: string }; request_id?: string } }[] }) =>
      s.events.filter((e) => e.data.request?.id === r.id || e.data.comment?.request_id === r.id || e.data.request_id === r.id).map((e) => e.event);
    await eventually(() => about(streams.headB), { until: (ev) => ev.includes('request.commented') && ev.filter((e) => e === 'request.updated').length >= 2, message: 'head of B sees the move, the comment and the axis change' });
    await new Promise((res) => setTimeout(res, 500));
    expect(about(streams.sellerA)).toEqual([]);
    // The head of A saw it only while it had no department (request.created), nothing after the move.
    expect(about(streams.headA).filter((e) => e !== 'request.created')).toEqual([]);
  } finally {
    for (const s of Object.values(streams)) s.close();
  }
});
