/**
 * Working the request through the gateway, over real HTTP, in front of real identity (TeamService),
 * intake (WorkflowService, RoutingService, TasksService on PostgreSQL, events on Kafka) and contacts:
 * every work, routing and task route's happy path; malformed, oversized, unknown-field, duplicate and
 * cross-tenant input; the 409 of an illegal transition (`state`, `allowed`) and the 412 of a stale
 * `If-Match` (`current`); ETags; the journal's new filters; and the realtime feed's `request.updated`
 * and addressed `notification`s.
 */
import { eventually } from '@crm/testing';
import { startPlatform, type Platform } from '../support/platform';
import { client, makeWorkTeam, openStream, type As, type Res, type WorkTeam } from '../support/work-team';

let platform: Platform;
let team: WorkTeam;
let api: ReturnType<typeof client>['api'];
let send: ReturnType<typeof client>['send'];

const ZERO = '01936f5e-1234-7abc-8def-0123456789ab';
const FUTURE = () => new Date(Date.now() + 3 * 86_400_000).toISOString();

function ok(res: Res, status = 200) {
  expect({ status: res.status, body: res.body }).toMatchObject({ status });
  return res.body;
}

function problem(res: Res, status: number) {
  expect({ status: res.status, type: res.type }).toEqual({ status, type: expect.stringContaining('application/problem+json') });
  return res.body;
}

let seq = 0;
/** A new request of tenant A (as its work key), optionally moved to a department. */
async function newRequest(departmentId?: string, as: As = team.keyA, name = `Клиент ${++seq}`) {
  const r = ok(await send('POST', '/v1/requests', as, { channel: 'chat', name, email: `c${seq}.${Date.now()}@example.com` }), 201);
  if (!departmentId) return r;
  return ok(await send('POST', `/v1/requests/${r.id}/department`, team.admin.as, { department_id: departmentId }));
}

beforeAll(async () => {
  platform = await startPlatform({ gatewayEnv: { API_RATE_PER_CREDENTIAL: '100000' } });
  ({ api, send } = client(platform.base));
  team = await makeWorkTeam(platform);
}, 420_000);

afterAll(async () => {
  await platform?.stop();
});

describe('the gateway alone: bad input never reaches a service', () => {
  const writes: [string, string, Record<string, unknown>][] = [
    ['POST', `/v1/requests/${ZERO}/transitions`, { to: 'closed' }],
    ['POST', `/v1/requests/${ZERO}/assignment`, { take: true }],
    ['POST', `/v1/requests/${ZERO}/answered`, {}],
    ['PATCH', `/v1/requests/${ZERO}/axes`, { meaning: 'targeted' }],
    ['POST', `/v1/requests/${ZERO}/department`, { department_id: ZERO }],
    ['POST', '/v1/requests/bulk/assignment', { ids: [ZERO], assignee_id: ZERO }],
    ['POST', '/v1/requests/bulk/transitions', { ids: [ZERO], to: 'closed' }],
    ['POST', '/v1/me/views', { name: 'x', query: 'state=new' }],
    ['PUT', `/v1/me/views/${ZERO}`, { name: 'x', query: 'state=new' }],
    ['POST', '/v1/routing/drafts', { rules: [] }],
    ['POST', '/v1/routing/versions/1/publish', { expected_published_version: 0 }],
    ['POST', '/v1/routing/simulate', { input: { channel: 'phone' } }],
    ['POST', '/v1/tasks', { title: 'x', due_at: '2030-01-01T00:00:00Z' }],
    ['PATCH', `/v1/tasks/${ZERO}`, { title: 'x' }],
    ['POST', `/v1/tasks/${ZERO}/completion`, { done: true }],
  ];

  it.each(writes)('%s %s: malformed JSON, an unknown field and an oversized body are 400/400/413 problems', async (method, path, valid) => {
    const cases: [string, string, number][] = [
      ['malformed JSON', JSON.stringify(valid).slice(0, -1), 400],
      ['unknown field', JSON.stringify({ ...valid, admin: true }), 400],
      ['oversized', JSON.stringify({ ...valid, padding: 'x'.repeat(20_000) }), 413],
    ];
    for (const [name, body, status] of cases) {
      const res = await send(method, path, team.keyA, body);
      expect({ name, status: res.status, type: res.type }).toEqual({ name, status, type: expect.stringContaining('application/problem+json') });
    }
    const unknown = await send(method, path, team.keyA, { ...valid, admin: true });
    expect(unknown.body.errors).toContainEqual({ field: 'admin', message: 'unknown field' });
  });

  it('refuses bad values by the schema', async () => {
    const bad: [string, string, unknown][] = [
      ['POST', `/v1/requests/${ZERO}/transitions`, { to: 'nowhere' }],
      ['POST', `/v1/requests/${ZERO}/transitions`, { to: 'trash', trash_reason: 'boring' }],
      ['POST', `/v1/requests/${ZERO}/transitions`, { to: 'deferred', revisit_at: 'tomorrow' }],
      ['POST', `/v1/requests/${ZERO}/transitions`, { to: 'closed', reason: 'x'.repeat(501) }],
      ['POST', `/v1/requests/${ZERO}/transitions`, { to: 'closed', expected_version: 0 }],
      ['POST', `/v1/requests/${ZERO}/assignment`, {}],
      ['POST', `/v1/requests/${ZERO}/assignment`, { take: true, assignee_id: ZERO }],
      ['POST', `/v1/requests/${ZERO}/assignment`, { take: false }],
      ['POST', `/v1/requests/${ZERO}/assignment`, { assignee_id: 'me' }],
      ['PATCH', `/v1/requests/${ZERO}/axes`, {}],
      ['PATCH', `/v1/requests/${ZERO}/axes`, { meaning: 'maybe' }],
      ['POST', `/v1/requests/${ZERO}/department`, { department_id: 'sales' }],
      ['POST', '/v1/requests/bulk/assignment', { ids: [], assignee_id: ZERO }],
      ['POST', '/v1/requests/bulk/assignment', { ids: [ZERO, ZERO], assignee_id: ZERO }],
      ['POST', '/v1/requests/bulk/transitions', { ids: Array.from({ length: 201 }, (_, i) => `01936f5e-1234-7abc-8def-${String(i).padStart(12, '0')}`), to: 'closed' }],
      ['POST', '/v1/me/views', { name: '   ', query: '' }],
      ['POST', '/v1/me/views', { name: 'x', query: 'a'.repeat(2001) }],
      ['POST', '/v1/routing/drafts', { rules: [{ id: 'Bad Id', name: 'x', department_id: ZERO }] }],
      ['POST', '/v1/routing/drafts', { rules: [{ id: 'ok', name: 'x', department_id: ZERO, strategy: 'random' }] }],
      ['POST', '/v1/routing/simulate', { version: 1, rules: [], input: {} }],
      ['POST', '/v1/routing/simulate', {}],
      ['POST', '/v1/tasks', { title: '', due_at: '2030-01-01T00:00:00Z' }],
      ['POST', '/v1/tasks', { title: 'x', due_at: '2030-01-01T00:00:00Z', remind_before_minutes: 10081 }],
      ['POST', '/v1/tasks', { title: 'x' }],
      ['PATCH', `/v1/tasks/${ZERO}`, {}],
      ['POST', `/v1/tasks/${ZERO}/completion`, { done: 'yes' }],
    ];
    for (const [method, path, body] of bad) {
      const res = await send(method, path, team.keyA, body);
      expect({ method, path, body, status: res.status }).toEqual({ method, path, body, status: 400 });
    }
    for (const path of [
      '/v1/requests/not-a-uuid/history',
      '/v1/requests?assignee=nobody',
      '/v1/requests?meaning=maybe',
      '/v1/requests?order=random',
      '/v1/requests?sla_breached=perhaps',
      '/v1/requests/counts?department=x',
      '/v1/routing/versions/draft',
      '/v1/routing/versions/0',
      '/v1/routing/versions/99999999999',
      '/v1/tasks?status=later',
      '/v1/tasks?limit=201',
      '/v1/tasks/not-a-uuid',
    ]) {
      expect({ path, status: (await api(path, team.keyA)).status }).toEqual({ path, status: 400 });
    }
  });

  it('refuses a malformed If-Match with a 400 naming it', async () => {
    for (const ifMatch of ['3', 'W/"3"', '"abc"', '"0"', '*']) {
      const res = await send('POST', `/v1/requests/${ZERO}/answered`, team.keyA, {}, { 'if-match': ifMatch });
      expect({ ifMatch, status: problem(res, 400).status }).toEqual({ ifMatch, status: 400 });
    }
  });

  it('asks for the scopes: a seller may not write routing, a requests-only key has no tasks', async () => {
    problem(await send('POST', '/v1/routing/drafts', team.sellerA.as, { rules: [] }), 403);
    problem(await send('POST', '/v1/routing/versions/1/publish', team.sellerA.as, { expected_published_version: 0 }), 403);
    const requestsOnly = { key: platform.tenants.a.apiKey };
    problem(await api('/v1/tasks', requestsOnly), 403);
    problem(await send('POST', '/v1/tasks', requestsOnly, { title: 'x', due_at: FUTURE() }), 403);
    problem(await send('POST', '/v1/routing/drafts', requestsOnly, { rules: [] }), 403);
  });
});

describe('working a request', () => {
  it('the Request JSON has the new fields (null where empty) and GET has the ETag', async () => {
    const r = await newRequest();
    expect(r).toMatchObject({ version: expect.any(Number), department_id: null, assignee_id: null, project_id: null, sla_due_at: null, first_response_at: null, missed: false, trash_reason: null });
    const got = await api(`/v1/requests/${r.id}`, team.keyA);
    expect(got.headers.get('etag')).toBe(`"${got.body.version}"`);
  });

  it('moves along the lifecycle with ETags; an illegal move is a 409 with state and allowed; a stale If-Match a 412 with current', async () => {
    const r = await newRequest(team.depA);
    expect(r.department_id).toBe(team.depA);
    expect(r.state).toBe('new');

    const taken = await send('POST', `/v1/requests/${r.id}/assignment`, team.sellerA.as, { take: true }, { 'if-match': `"${r.version}"` });
    ok(taken);
    expect(taken.body).toMatchObject({ state: 'assigned', assignee_id: team.sellerA.id });
    expect(taken.headers.get('etag')).toBe(`"${taken.body.version}"`);
    expect(taken.body.version).toBeGreaterThan(r.version);

    // The old version again: 412 with the request as it is now.
    const stale = await send('POST', `/v1/requests/${r.id}/answered`, team.sellerA.as, undefined, { 'if-match': `"${r.version}"` });
    expect(problem(stale, 412)).toMatchObject({ status: 412, current: { id: r.id, version: taken.body.version, state: 'assigned', assignee_id: team.sellerA.id } });
    // If-Match wins over the body's expected_version.
    const wins = await send('POST', `/v1/requests/${r.id}/answered`, team.sellerA.as, { expected_version: taken.body.version }, { 'if-match': `"${r.version}"` });
    problem(wins, 412);

    const answered = ok(await send('POST', `/v1/requests/${r.id}/answered`, team.sellerA.as, { expected_version: taken.body.version }));
    expect(answered).toMatchObject({ state: 'in_progress', first_response_at: expect.any(String) });

    const closed = ok(await send('POST', `/v1/requests/${r.id}/transitions`, team.sellerA.as, { to: 'closed', reason: 'договорились' }, { 'if-match': `"${answered.version}"` }));
    expect(closed).toMatchObject({ state: 'closed', state_reason: 'договорились', state_changed_at: expect.any(String) });

    const illegal = await send('POST', `/v1/requests/${r.id}/transitions`, team.sellerA.as, { to: 'new' });
    expect(problem(illegal, 409)).toMatchObject({ status: 409, state: 'closed', allowed: [] });

    const history = ok(await api(`/v1/requests/${r.id}/history`, team.sellerA.as));
    const fields = history.items.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['department', 'assignee', 'state']));
    const last = history.items.filter((e: { field: string }) => e.field === 'state').pop();
    expect(last).toMatchObject({ to: 'closed', reason: 'договорились', actor_kind: 'user', actor_id: team.sellerA.id });
  });

  it('412 carries a request with a long Cyrillic message intact', async () => {
    const message = 'Здравствуйте! '.repeat(300);
    const r = ok(await send('POST', '/v1/requests', team.keyA, { channel: 'chat', name: 'Длинное Сообщение', email: `long.${Date.now()}@example.com`, message }), 201);
    ok(await send('PATCH', `/v1/requests/${r.id}/axes`, team.keyA, { meaning: 'targeted' }, { 'if-match': `"${r.version}"` }));
    const stale = await send('PATCH', `/v1/requests/${r.id}/axes`, team.keyA, { meaning: 'non_targeted' }, { 'if-match': `"${r.version}"` });
    expect(problem(stale, 412).current).toMatchObject({ id: r.id, name: 'Длинное Сообщение', message: message.trim() === message ? message : expect.any(String) });
  });

  it('a trash needs a reason (400 from intake), and restores to new', async () => {
    const r = await newRequest();
    problem(await send('POST', `/v1/requests/${r.id}/transitions`, team.keyA, { to: 'trash' }), 400);
    problem(await send('POST', `/v1/requests/${r.id}/transitions`, team.keyA, { to: 'trash', trash_reason: 'other' }), 400);
    const trashed = ok(await send('POST', `/v1/requests/${r.id}/transitions`, team.keyA, { to: 'trash', trash_reason: 'other', trash_note: 'тест' }));
    expect(trashed).toMatchObject({ state: 'trash', trash_reason: 'other', trash_note: 'тест' });
    expect(ok(await send('POST', `/v1/requests/${r.id}/transitions`, team.keyA, { to: 'new' })).state).toBe('new');
  });

  it('defers to a revisit date, sets the axes, moves between departments', async () => {
    const r = await newRequest(team.depA);
    const axes = ok(await send('PATCH', `/v1/requests/${r.id}/axes`, team.keyA, { meaning: 'targeted', qualification: 'lead' }));
    expect(axes.axes).toMatchObject({ meaning: 'targeted', qualification: 'lead' });
    const same = ok(await send('PATCH', `/v1/requests/${r.id}/axes`, team.keyA, { meaning: 'targeted' }));
    expect(same.version).toBe(axes.version);
    const moved = ok(await send('POST', `/v1/requests/${r.id}/department`, team.keyA, { department_id: team.depB, reason: 'другой отдел' }));
    expect(moved).toMatchObject({ department_id: team.depB, assignee_id: null, state: 'new' });
    const revisit = FUTURE();
    const deferred = ok(await send('POST', `/v1/requests/${r.id}/transitions`, team.keyA, { to: 'deferred', revisit_at: revisit }));
    expect(deferred.state).toBe('deferred');
    expect(Date.parse(deferred.revisit_at)).toBe(Date.parse(revisit));
    problem(await send('POST', `/v1/requests/${r.id}/transitions`, team.keyA, { to: 'deferred', revisit_at: '2000-01-01T00:00:00Z' }), 409);
  });

  it('an unknown or another tenant’s request is a 404 on every work route', async () => {
    const r = await newRequest();
    for (const [method, path, body] of [
      ['POST', `/v1/requests/${r.id}/transitions`, { to: 'closed' }],
      ['POST', `/v1/requests/${r.id}/assignment`, { assignee_id: team.sellerA.id }],
      ['POST', `/v1/requests/${r.id}/answered`, {}],
      ['PATCH', `/v1/requests/${r.id}/axes`, { meaning: 'targeted' }],
      ['POST', `/v1/requests/${r.id}/department`, { department_id: team.depA }],
      ['GET', `/v1/requests/${r.id}/history`, undefined],
      ['GET', `/v1/requests/${r.id}`, undefined],
    ] as [string, string, unknown][]) {
      // Another tenant gets what it gets for an id that exists nowhere: a 404 whatever the body says (the
      // request is looked up before its department or assignee is checked), so nothing tells it the request exists.
      const foreign = (await send(method, path, team.keyB, body)).status;
      const missing = (await send(method, path.replace(r.id, ZERO), team.keyB, body)).status;
      expect({ method, path, foreign }).toEqual({ method, path, foreign: missing });
      expect({ method, path, foreign }).toEqual({ method, path, foreign: 404 });
      expect({ method, status: (await send(method, path.replace(r.id, ZERO), team.keyA, body)).status }).toEqual({ method, status: 404 });
    }
    // Nothing changed in tenant A.
    expect(ok(await api(`/v1/requests/${r.id}`, team.keyA)).version).toBe(r.version);
  });

  it('bulk actions answer per item, a missing or foreign id on its own', async () => {
    const a = await newRequest(team.depA);
    const b = await newRequest(team.depA);
    const foreign = ok(await send('POST', '/v1/requests', team.keyB, { channel: 'chat', name: 'B', email: `b.${Date.now()}@example.com` }), 201);
    const res = ok(await send('POST', '/v1/requests/bulk/assignment', team.headA.as, { ids: [a.id, b.id, ZERO, foreign.id], assignee_id: team.sellerA.id }));
    expect(res).toMatchObject({ succeeded: 2, failed: 2 });
    expect(res.results.find((x: { id: string }) => x.id === a.id)).toMatchObject({ ok: true, request: { assignee_id: team.sellerA.id, state: 'assigned' } });
    expect(res.results.find((x: { id: string }) => x.id === foreign.id)).toMatchObject({ ok: false, code: 'NOT_FOUND', request: null });
    const tr = ok(await send('POST', '/v1/requests/bulk/transitions', team.headA.as, { ids: [a.id, b.id], to: 'trash', trash_reason: 'spam' }));
    expect(tr).toMatchObject({ succeeded: 2, failed: 0 });
    const again = ok(await send('POST', '/v1/requests/bulk/transitions', team.headA.as, { ids: [a.id], to: 'closed' }));
    expect(again.results[0]).toMatchObject({ ok: false, code: 'FAILED_PRECONDITION' });
    expect(ok(await api(`/v1/requests/${foreign.id}`, team.keyB)).assignee_id).toBeNull();
  });

  it('lists and counts with the new filters; assignee=me is the caller', async () => {
    const mine = await newRequest(team.depA);
    ok(await send('POST', `/v1/requests/${mine.id}/assignment`, team.sellerA.as, { take: true }));
    const queued = await newRequest(team.depA);
    const listed = ok(await api('/v1/requests?assignee=me&limit=100', team.sellerA.as));
    expect(listed.items.map((r: { id: string }) => r.id)).toContain(mine.id);
    expect(listed.items.every((r: { assignee_id: string }) => r.assignee_id === team.sellerA.id)).toBe(true);
    const unassigned = ok(await api(`/v1/requests?assignee=unassigned&department=${team.depA}&limit=100`, team.keyA));
    expect(unassigned.items.map((r: { id: string }) => r.id)).toContain(queued.id);
    expect(unassigned.items.map((r: { id: string }) => r.id)).not.toContain(mine.id);
    const breached = ok(await api('/v1/requests?sla_breached=true&limit=100', team.keyA));
    expect(breached.items.map((r: { id: string }) => r.id)).not.toContain(queued.id);
    ok(await api('/v1/requests?order=my_work&meaning=unknown&qualification=pending&contact_axis=unverified&number_axis=primary&missed=false&utm_source=yandex', team.keyA));

    const counts = ok(await api(`/v1/requests/counts?department=${team.depA}`, team.keyA));
    expect(counts.by_state.new).toBeGreaterThanOrEqual(1);
    expect(counts.by_state.assigned).toBeGreaterThanOrEqual(1);
    expect(counts.total).toBe(Object.values(counts.by_state as Record<string, number>).reduce((s, n) => s + n, 0));
    const mineCount = ok(await api('/v1/requests/counts?assignee=me', team.sellerA.as));
    expect(mineCount.by_state.assigned).toBeGreaterThanOrEqual(1);
    expect(ok(await api('/v1/requests/counts', team.keyB)).total).toBeGreaterThanOrEqual(0);

    const work = ok(await api('/v1/me/work', team.sellerA.as));
    expect(work.assigned_open).toBeGreaterThanOrEqual(1);
    expect(work).toMatchObject({ breached: expect.any(Number), overdue_tasks: expect.any(Number), tasks_due_today: expect.any(Number), revisits_today: expect.any(Number), queue_new: expect.any(Number) });
  });

  it('saves, lists, replaces and deletes views; a duplicate name is a 409; another user’s view is a 404', async () => {
    const v = ok(await send('POST', '/v1/me/views', team.sellerA.as, { name: 'Мои новые', query: 'state=new&assignee=me' }), 201);
    expect(v).toMatchObject({ id: expect.any(String), name: 'Мои новые', query: 'state=new&assignee=me' });
    problem(await send('POST', '/v1/me/views', team.sellerA.as, { name: 'мои НОВЫЕ', query: 'state=new' }), 409);
    expect(ok(await api('/v1/me/views', team.sellerA.as)).items.map((x: { id: string }) => x.id)).toContain(v.id);
    expect(ok(await api('/v1/me/views', team.sellerB.as)).items.map((x: { id: string }) => x.id)).not.toContain(v.id);
    problem(await send('PUT', `/v1/me/views/${v.id}`, team.sellerB.as, { name: 'чужой', query: '' }), 404);
    problem(await send('DELETE', `/v1/me/views/${v.id}`, team.sellerB.as), 404);
    expect(ok(await send('PUT', `/v1/me/views/${v.id}`, team.sellerA.as, { name: 'Мои', query: 'state=assigned' }))).toMatchObject({ id: v.id, name: 'Мои', query: 'state=assigned' });
    expect((await send('DELETE', `/v1/me/views/${v.id}`, team.sellerA.as)).status).toBe(204);
    expect(ok(await api('/v1/me/views', team.sellerA.as)).items.map((x: { id: string }) => x.id)).not.toContain(v.id);
  });
});

describe('routing', () => {
  it('saves drafts with their problems, validates, publishes once (a stale publish is a 409), simulates, and routes new requests', async () => {
    const broken = ok(await send('POST', '/v1/routing/drafts', team.admin.as, { rules: [{ id: 'ads', name: 'Реклама', department_id: ZERO }] }), 201);
    expect(broken.version).toMatchObject({ status: 'draft', version: expect.any(Number) });
    expect(broken.problems.map((p: { code: string }) => p.code)).toEqual(expect.arrayContaining(['no_fallback']));
    const problems = ok(await api(`/v1/routing/versions/${broken.version.version}/problems`, team.admin.as));
    expect(problems.items.length).toBeGreaterThan(0);
    const refused = await send('POST', `/v1/routing/versions/${broken.version.version}/publish`, team.admin.as, { expected_published_version: 0 });
    expect(problem(refused, 409).problems.length).toBeGreaterThan(0);

    const draft = ok(
      await send('POST', '/v1/routing/drafts', team.headA.as, {
        rules: [{ id: 'chats', name: 'Чаты', when: { channels: ['chat'] }, department_id: team.depA, strategy: 'queue' }],
        fallback_department_id: team.depB,
        fallback_strategy: 'queue',
        comment: 'чаты в A',
      }),
      201,
    );
    expect(draft.problems).toEqual([]);
    const v = draft.version.version;
    expect(ok(await api(`/v1/routing/versions/${v}`, team.sellerA.as))).toMatchObject({ version: v, status: 'draft', rules: [{ id: 'chats', when: { channels: ['chat'] }, department_id: team.depA }] });
    const sim = ok(await send('POST', '/v1/routing/simulate', team.sellerA.as, { version: v, input: { channel: 'chat' } }));
    expect(sim).toMatchObject({ rule_id: 'chats', department_id: team.depA, assignee_id: null });
    const simFallback = ok(await send('POST', '/v1/routing/simulate', team.sellerA.as, { version: v, input: { channel: 'email' } }));
    expect(simFallback).toMatchObject({ rule_id: null, department_id: team.depB });
    expect(simFallback.trace[0]).toMatchObject({ rule_id: 'chats', matched: false, failed_condition: expect.any(String) });
    const unsaved = ok(await send('POST', '/v1/routing/simulate', team.sellerA.as, { rules: [], fallback_department_id: team.depB, input: { channel: 'chat' } }));
    expect(unsaved.department_id).toBe(team.depB);

    const published = ok(await send('POST', `/v1/routing/versions/${v}/publish`, team.admin.as, { expected_published_version: 0 }));
    expect(published).toMatchObject({ version: v, status: 'published', published_at: expect.any(String) });
    problem(await send('POST', `/v1/routing/versions/${v}/publish`, team.admin.as, { expected_published_version: 0 }), 409);
    expect(ok(await api('/v1/routing/versions/published', team.keyA)).version).toBe(v);
    const list = ok(await api('/v1/routing/versions', team.keyA));
    expect(list.items[0]).toMatchObject({ version: expect.any(Number), rule_count: expect.any(Number) });
    expect(list.items[0].rules).toBeUndefined();
    problem(await api('/v1/routing/versions/999999', team.keyA), 404);
    problem(await api(`/v1/routing/versions/${v}`, team.keyB), 404);

    const routed = ok(await send('POST', '/v1/requests', team.keyA, { channel: 'chat', name: 'Маршрут', email: `route.${Date.now()}@example.com` }), 201);
    expect(routed).toMatchObject({ department_id: team.depA, routing_version: v, routing_rule_id: 'chats' });
  });
});

describe('tasks', () => {
  it('creates (idempotently), reads, lists, changes with If-Match (412 when stale), completes, deletes', async () => {
    const r = await newRequest(team.depA);
    const due = FUTURE();
    const body = { title: 'Перезвонить', note: 'после обеда', due_at: due, remind_before_minutes: 15, request_id: r.id };
    const created = await send('POST', '/v1/tasks', team.sellerA.as, body, { 'idempotency-key': `task-${r.id}` });
    const t = ok(created, 201);
    expect(t).toMatchObject({ title: 'Перезвонить', assignee_id: team.sellerA.id, request_id: r.id, status: 'open', kind: 'manual', overdue: false });
    expect(created.headers.get('location')).toBe(`/v1/tasks/${t.id}`);
    const replay = await send('POST', '/v1/tasks', team.sellerA.as, body, { 'idempotency-key': `task-${r.id}` });
    expect(ok(replay, 201).id).toBe(t.id);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    problem(await send('POST', '/v1/tasks', team.sellerA.as, { ...body, title: 'другое' }, { 'idempotency-key': `task-${r.id}` }), 422);

    const got = await api(`/v1/tasks/${t.id}`, team.sellerA.as);
    expect(ok(got).id).toBe(t.id);
    expect(got.headers.get('etag')).toBe(`"${t.version}"`);
    expect(ok(await api(`/v1/tasks?request_id=${r.id}`, team.sellerA.as)).items.map((x: { id: string }) => x.id)).toEqual([t.id]);
    expect(ok(await api('/v1/tasks', team.sellerA.as)).items.map((x: { id: string }) => x.id)).toContain(t.id);
    problem(await api(`/v1/tasks/${t.id}`, team.keyB), 404);

    const changed = ok(await send('PATCH', `/v1/tasks/${t.id}`, team.sellerA.as, { title: 'Перезвонить завтра' }, { 'if-match': `"${t.version}"` }));
    expect(changed.version).toBeGreaterThan(t.version);
    const stale = await send('PATCH', `/v1/tasks/${t.id}`, team.sellerA.as, { title: 'снова' }, { 'if-match': `"${t.version}"` });
    expect(problem(stale, 412).current).toMatchObject({ id: t.id, title: 'Перезвонить завтра' });

    expect(ok(await send('POST', `/v1/tasks/${t.id}/completion`, team.sellerA.as, { done: true }))).toMatchObject({ status: 'done', done_at: expect.any(String) });
    expect(ok(await api('/v1/tasks?status=done', team.sellerA.as)).items.map((x: { id: string }) => x.id)).toContain(t.id);
    expect(ok(await send('POST', `/v1/tasks/${t.id}/completion`, team.sellerA.as, { done: false })).status).toBe('open');
    problem(await send('DELETE', `/v1/tasks/${t.id}`, team.keyB), 404);
    expect((await send('DELETE', `/v1/tasks/${t.id}`, team.sellerA.as)).status).toBe(204);
    problem(await api(`/v1/tasks/${t.id}`, team.sellerA.as), 404);
    problem(await send('POST', '/v1/tasks', team.sellerA.as, { title: 'x', due_at: '2001-01-01T00:00:00Z' }), 400);
  });
});

describe('realtime', () => {
  it('pushes request.updated to those who may see the request, and the assignment notification only to the assignee', async () => {
    const streams = {
      sellerA: await openStream(platform.base, team.sellerA.as),
      sellerB: await openStream(platform.base, team.sellerB.as),
      headA: await openStream(platform.base, team.headA.as),
      key: await openStream(platform.base, team.keyA),
    };
    try {
      const r = await newRequest(team.depA);
      ok(await send('POST', `/v1/requests/${r.id}/assignment`, team.headA.as, { assignee_id: team.sellerA.id }));
      ok(await send('POST', `/v1/requests/${r.id}/comments`, team.headA.as, { text: 'посмотри' }), 201);
      const about = (s: { events: { event: string; data: { request?: { id: string }; comment?: { request_id: string }; request_id?: string } }[] }) =>
        s.events.filter((e) => e.data.request?.id === r.id || e.data.comment?.request_id === r.id || e.data.request_id === r.id);
      await eventually(() => about(streams.sellerA).map((e) => e.event), { until: (ev) => ev.includes('notification') && ev.includes('request.commented') && ev.filter((x) => x === 'request.updated').length >= 1, message: 'seller A sees the updates' });
      const note = about(streams.sellerA).find((e) => e.event === 'notification')!.data;
      expect(note).toEqual({ kind: 'assigned', request_id: r.id, title: r.name, at: expect.any(String) });
      const upd = about(streams.sellerA).filter((e) => e.event === 'request.updated').pop()!.data;
      expect(upd).toMatchObject({ type: 'request.updated', change: 'assigned', request: { id: r.id, assignee_id: team.sellerA.id } });
      await eventually(() => about(streams.headA).map((e) => e.event), { until: (ev) => ev.includes('request.updated') && ev.includes('request.commented'), message: 'head A sees the updates' });
      expect(about(streams.headA).map((e) => e.event)).not.toContain('notification');
      await eventually(() => about(streams.key).length, { until: (n) => n >= 3, message: 'an API key sees everything' });
      expect(about(streams.key).map((e) => e.event)).not.toContain('notification');
      // Seller B saw nothing of it (give the feed a moment more than the others needed).
      await new Promise((res) => setTimeout(res, 500));
      expect(about(streams.sellerB)).toEqual([]);
    } finally {
      for (const s of Object.values(streams)) s.close();
    }
  });

  it("a task's reminder is a notification to its assignee only", async () => {
    const streams = { sellerA: await openStream(platform.base, team.sellerA.as), headA: await openStream(platform.base, team.headA.as), key: await openStream(platform.base, team.keyA) };
    try {
      const r = await newRequest(team.depA);
      const t = ok(await send('POST', '/v1/tasks', team.sellerA.as, { title: 'Напомнить', due_at: new Date(Date.now() + 2_000).toISOString(), request_id: r.id }), 201);
      const reminders = (s: { events: { event: string; data: { task_id?: string } }[] }) => s.events.filter((e) => e.event === 'notification' && e.data.task_id === t.id);
      await eventually(() => reminders(streams.sellerA).length, { until: (n) => n === 1, timeoutMs: 30_000, message: 'the reminder reaches the assignee' });
      expect(reminders(streams.sellerA)[0].data).toEqual({ kind: 'task_reminder', task_id: t.id, request_id: r.id, title: 'Напомнить', at: expect.any(String) });
      await new Promise((res) => setTimeout(res, 500));
      expect([reminders(streams.headA), reminders(streams.key)]).toEqual([[], []]);
    } finally {
      for (const s of Object.values(streams)) s.close();
    }
  });
});
