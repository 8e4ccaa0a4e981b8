/**
 * TasksService over real gRPC, PostgreSQL, graphile-worker and Kafka: CRUD, complete/reopen, the list
 * and its cursor, the idempotency key, who sees what (seller, head, admin, another tenant), bad input
 * (nothing written), and the reminder firing once at due − remind_before. identity's roster comes from
 * the team double (a real gRPC server).
 */
import { TaskCreated, TaskReminder, TaskUpdated } from '@crm/contracts/crm/intake/events/v1/task_events';
import { Role } from '@crm/contracts/crm/identity/v1/identity';
import { Channel } from '@crm/contracts/crm/intake/v1/request';
import { TasksServiceService, type CreateTaskRequest, type ListTasksRequest } from '@crm/contracts/crm/intake/v1/tasks';
import { uuidv7 } from '@crm/db';
import { createClient, status, type PromiseClient, type TenantContext } from '@crm/grpc';
import { decodeData, decodeEvent } from '@crm/kafka';
import { eventually, runId } from '@crm/testing';
import { collect, grpcError, NO_ROUTING_FIELDS, startHarness, type Harness } from './harness';
import { startTeamDouble, type TeamDouble } from './team-double';

const TENANT = 'tenant-tasks';
const D1 = uuidv7();
const D2 = uuidv7();
const S1 = uuidv7();
const S2 = uuidv7();
const S3 = uuidv7();
const HEAD = uuidv7();
const GONE = uuidv7();

const seller = (id: string, dept: string): TenantContext => ({ tenantId: TENANT, callerId: id, callerKind: 'user', roles: ['seller'], departmentIds: [dept] });
const s1 = seller(S1, D1);
const s2 = seller(S2, D1);
const s3 = seller(S3, D2);
const head: TenantContext = { tenantId: TENANT, callerId: HEAD, callerKind: 'user', roles: ['head_of_sales'], departmentIds: [D1], headedDepartmentIds: [D1] };
const admin: TenantContext = { tenantId: TENANT, callerId: uuidv7(), callerKind: 'user', roles: ['admin'] };
const apiKey: TenantContext = { tenantId: TENANT, callerId: 'key-1', callerKind: 'api_key' };
const other: TenantContext = { tenantId: 'tenant-tasks-other', callerId: uuidv7(), callerKind: 'user', roles: ['admin'] };

let h: Harness;
let team: TeamDouble;
let tasks: PromiseClient<typeof TasksServiceService>;
let watcher: Awaited<ReturnType<typeof collect>>;

beforeAll(async () => {
  team = await startTeamDouble();
  team.setRoster(TENANT, {
    departments: [
      { id: D1, name: 'Sales', headUserIds: [HEAD] },
      { id: D2, name: 'Support' },
    ],
    users: [
      { id: S1, departmentIds: [D1] },
      { id: S2, departmentIds: [D1] },
      { id: S3, departmentIds: [D2] },
      { id: HEAD, departmentIds: [D1], roles: [Role.ROLE_HEAD_OF_SALES] },
    ],
  });
  h = await startHarness({ identityAddr: team.addr });
  tasks = createClient(TasksServiceService, { address: `127.0.0.1:${h.service.grpc.port}`, defaultDeadlineMs: 15_000 });
  watcher = await collect(h.kafka, h.topic('crm.intake.task.v1'), `tasks-${runId}`);
});

afterAll(async () => {
  tasks?.close();
  await watcher?.stop();
  await h?.stop();
  await team?.stop();
});

const inHours = (n: number) => new Date(Date.now() + n * 3_600_000).toISOString();

function task(over: Partial<CreateTaskRequest> = {}): CreateTaskRequest {
  return { title: 'Call back', note: '', dueAt: inHours(2), remindBeforeMinutes: 0, assigneeId: '', requestId: '', contactId: '', dealId: '', idempotencyKey: '', ...over };
}

function list(over: Partial<ListTasksRequest> = {}): ListTasksRequest {
  return { assigneeId: '', status: '', requestId: '', dueBefore: '', overdueOnly: false, pageSize: 0, cursor: '', ...over };
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  return Number((await h.pool.query(sql, params)).rows[0].n);
}

async function requestIn(departmentId: string | null, assigneeId: string | null = null): Promise<string> {
  const res = await h.client.createRequest(
    { channel: Channel.CHANNEL_PHONE, name: 'Task', phone: '', email: '', message: '', attribution: undefined, idempotencyKey: '', publicFormId: '', defaultCountry: '', extraFields: [], ...NO_ROUTING_FIELDS },
    { tenantId: TENANT, callerId: 'svc', callerKind: 'service' },
  );
  const id = res.request!.id;
  await h.pool.query('UPDATE requests SET department_id = $1, assignee_id = $2 WHERE id = $3', [departmentId, assigneeId, id]);
  return id;
}

function eventsOf(type: string, subject: string) {
  const seen = new Map<string, ReturnType<typeof decodeEvent>>();
  for (const m of watcher.messages) {
    const e = decodeEvent(m);
    if (e.type === type && e.subject === subject) seen.set(e.id, e);
  }
  return [...seen.values()];
}

describe('tasks: CRUD', () => {
  it('creates (the caller by default), reads, updates with the version, completes, reopens and deletes — each with its event', async () => {
    const { task: created, replayed } = await tasks.createTask(task({ title: '  Call back at 15:00 ', note: 'about the quote' }), s1);
    expect(replayed).toBe(false);
    expect(created).toMatchObject({ title: 'Call back at 15:00', note: 'about the quote', assigneeId: S1, status: 'open', kind: 'manual', version: 1, overdue: false, createdBy: S1 });
    expect((await tasks.getTask({ id: created!.id }, s1)).task).toEqual(created);

    const newDue = inHours(5);
    const { task: updated } = await tasks.updateTask({ id: created!.id, expectedVersion: 1, title: 'Call back', dueAt: newDue }, s1);
    expect(updated).toMatchObject({ title: 'Call back', dueAt: new Date(newDue).toISOString(), version: 2, note: 'about the quote' });

    const stale = await grpcError(tasks.updateTask({ id: created!.id, expectedVersion: 1, title: 'Lost update' }, s1));
    expect(stale.code).toBe(status.ABORTED);
    expect(JSON.parse(JSON.parse(String(stale.metadata.get('x-error-details')[0])).current)).toMatchObject({ id: created!.id, version: 2, title: 'Call back' });

    const { task: done } = await tasks.completeTask({ id: created!.id, done: true }, s1);
    expect(done).toMatchObject({ status: 'done', version: 3 });
    expect(done!.doneAt).not.toBe('');
    // Completing again changes nothing.
    expect((await tasks.completeTask({ id: created!.id, done: true }, s1)).task!.version).toBe(3);
    const { task: reopened } = await tasks.completeTask({ id: created!.id, done: false }, s1);
    expect(reopened).toMatchObject({ status: 'open', doneAt: '', version: 4 });

    await tasks.deleteTask({ id: created!.id }, s1);
    expect((await grpcError(tasks.getTask({ id: created!.id }, s1))).code).toBe(status.NOT_FOUND);
    expect((await grpcError(tasks.deleteTask({ id: created!.id }, s1))).code).toBe(status.NOT_FOUND);
    expect(await count(`SELECT count(*) AS n FROM graphile_worker.jobs WHERE key = $1`, [`task:${created!.id}`])).toBe(0);

    await eventually(() => eventsOf('crm.intake.task.updated.v1', created!.id).length, { until: (n) => n === 4, timeoutMs: 20_000 });
    expect(eventsOf('crm.intake.task.created.v1', created!.id).map((e) => decodeData(e, TaskCreated).task?.title)).toEqual(['Call back at 15:00']);
    const updates = eventsOf('crm.intake.task.updated.v1', created!.id).map((e) => decodeData(e, TaskUpdated));
    expect(updates.map((u) => [u.task?.status, u.deleted])).toEqual([
      ['open', false],
      ['done', false],
      ['open', false],
      ['open', true],
    ]);
  });

  it('lists open tasks by due time then done ones newest first, with a cursor, and flags the overdue', async () => {
    const owner = seller(S2, D1);
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push((await tasks.createTask(task({ title: `T${i}`, dueAt: new Date(Date.now() + (i === 0 ? -1 : i) * 3_600_000).toISOString() }), owner)).task!.id);
    await tasks.completeTask({ id: made[5]!, done: true }, owner);
    await tasks.completeTask({ id: made[6]!, done: true }, owner);
    const seen: string[] = [];
    let cursor = '';
    do {
      const page = await tasks.listTasks(list({ status: 'all', pageSize: 3, cursor }), owner);
      expect(page.tasks.length).toBeLessThanOrEqual(3);
      seen.push(...page.tasks.map((t) => t.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([made[0], made[1], made[2], made[3], made[4], made[6], made[5]]);
    const open = await tasks.listTasks(list(), owner);
    expect(open.tasks.map((t) => t.id)).toEqual(made.slice(0, 5));
    expect(open.tasks[0]!.overdue).toBe(true);
    expect(open.tasks[1]!.overdue).toBe(false);
    expect((await tasks.listTasks(list({ overdueOnly: true }), owner)).tasks.map((t) => t.id)).toEqual([made[0]]);
    expect((await tasks.listTasks(list({ status: 'done' }), owner)).tasks.map((t) => t.id)).toEqual([made[6], made[5]]);
  });

  it('replays a create with the same idempotency key (also concurrently) and refuses the key with another body', async () => {
    const key = `idem-${runId}`;
    const results = await Promise.all(Array.from({ length: 5 }, () => tasks.createTask(task({ title: 'Once', idempotencyKey: key, dueAt: '2027-06-01T10:00:00Z' }), s1)));
    expect(new Set(results.map((r) => r.task!.id)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(await count(`SELECT count(*) AS n FROM tasks WHERE idempotency_key = $1`, [key])).toBe(1);
    const again = await tasks.createTask(task({ title: 'Once', idempotencyKey: key, dueAt: '2027-06-01T10:00:00Z' }), s1);
    expect(again).toMatchObject({ replayed: true, task: { id: results[0]!.task!.id } });
    const reused = await grpcError(tasks.createTask(task({ title: 'Different', idempotencyKey: key, dueAt: '2027-06-01T10:00:00Z' }), s1));
    expect(reused.code).toBe(status.FAILED_PRECONDITION);
    // The key is the caller's: another caller with the same key makes their own task.
    expect((await tasks.createTask(task({ title: 'Once', idempotencyKey: key, dueAt: '2027-06-01T10:00:00Z' }), s2)).replayed).toBe(false);
  });
});

describe('tasks: the contact link', () => {
  it("links a task to one of the tenant's contacts (contacts confirms it)", async () => {
    const res = await h.client.createRequest(
      { channel: Channel.CHANNEL_PHONE, name: 'Linked', phone: `+7999${Date.now().toString().slice(-7)}`, email: '', message: '', attribution: undefined, idempotencyKey: '', publicFormId: '', defaultCountry: 'RU', extraFields: [], ...NO_ROUTING_FIELDS },
      { tenantId: TENANT, callerId: 'svc', callerKind: 'service' },
    );
    const contactId = res.request!.contactId;
    expect(contactId).toMatch(/^[0-9a-f-]{36}$/);
    const created = await tasks.createTask(task({ contactId }), s1);
    expect(created.task!.contactId).toBe(contactId);
  });
});

describe('tasks: bad input', () => {
  it('refuses malformed and oversized input with INVALID_ARGUMENT naming each field, writing nothing', async () => {
    const before = await count('SELECT count(*) AS n FROM tasks');
    const outboxBefore = await count('SELECT count(*) AS n FROM outbox');
    const cases: [Partial<CreateTaskRequest>, string][] = [
      [{ title: '' }, 'title'],
      [{ title: '   ' }, 'title'],
      [{ title: 'x'.repeat(201) }, 'title'],
      [{ note: 'n'.repeat(2001) }, 'note'],
      [{ dueAt: 'tomorrow' }, 'due_at'],
      [{ dueAt: new Date(Date.now() - 2 * 86_400_000).toISOString() }, 'due_at'],
      [{ dueAt: new Date(Date.now() + 3 * 366 * 86_400_000).toISOString() }, 'due_at'],
      [{ remindBeforeMinutes: 10_081 }, 'remind_before_minutes'],
      [{ remindBeforeMinutes: -1 }, 'remind_before_minutes'],
      [{ assigneeId: 'bob' }, 'assignee_id'],
      [{ requestId: 'nope' }, 'request_id'],
      [{ contactId: '123' }, 'contact_id'],
      [{ idempotencyKey: 'k'.repeat(129) }, 'idempotency_key'],
    ];
    for (const [over, field] of cases) {
      const err = await grpcError(tasks.createTask(task(over), s1));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.violations.map((v) => v.field)).toContain(field);
    }
    // An API key must name the assignee.
    expect((await grpcError(tasks.createTask(task(), apiKey))).violations.map((v) => v.field)).toEqual(['assignee_id']);
    // Not an active user of the team (deactivated or unknown).
    expect((await grpcError(tasks.createTask(task({ assigneeId: GONE }), admin))).code).toBe(status.INVALID_ARGUMENT);
    // Unknown request id.
    expect((await grpcError(tasks.createTask(task({ requestId: uuidv7() }), s1))).code).toBe(status.NOT_FOUND);
    // A contact the tenant does not have (unknown, or another tenant's — contacts answers both alike).
    expect((await grpcError(tasks.createTask(task({ contactId: uuidv7() }), s1))).code).toBe(status.NOT_FOUND);
    for (const bad of [list({ pageSize: 201 }), list({ status: 'later' }), list({ cursor: 'garbage!' }), list({ cursor: Buffer.from('{"v":1}').toString('base64url') }), list({ dueBefore: 'soon' })])
      expect((await grpcError(tasks.listTasks(bad, s1))).code).toBe(status.INVALID_ARGUMENT);
    for (const call of [tasks.getTask({ id: 'x' }, s1), tasks.updateTask({ id: '', expectedVersion: 0 }, s1), tasks.completeTask({ id: '1', done: true }, s1), tasks.deleteTask({ id: '' }, s1)])
      expect((await grpcError(call)).code).toBe(status.INVALID_ARGUMENT);
    expect(await count('SELECT count(*) AS n FROM tasks')).toBe(before);
    expect(await count('SELECT count(*) AS n FROM outbox')).toBe(outboxBefore);
  });

  it('answers UNAVAILABLE when identity cannot say whether another assignee is active, and creates nothing', async () => {
    const before = await count('SELECT count(*) AS n FROM tasks');
    team.down = true;
    try {
      expect((await grpcError(tasks.createTask(task({ assigneeId: S2 }), admin))).code).toBe(status.UNAVAILABLE);
      // Oneself needs no roster.
      expect((await tasks.createTask(task({ title: 'Mine' }), s1)).task!.assigneeId).toBe(S1);
    } finally {
      team.down = false;
    }
    expect(await count('SELECT count(*) AS n FROM tasks')).toBe(before + 1);
  });
});

describe('tasks: who sees what', () => {
  it('a seller sees their own and those on requests they may see; a head their departments’ members’; an admin all; another tenant nothing', async () => {
    const own = (await tasks.createTask(task({ title: 'S3 own' }), s3)).task!;
    const d1Request = await requestIn(D1, S2);
    // An admin gives S2 a task on a request of D1: S1 (works in D1) sees it through the request.
    const onRequest = (await tasks.createTask(task({ title: 'On a D1 request', assigneeId: S2, requestId: d1Request }), admin)).task!;
    const s2Own = (await tasks.createTask(task({ title: 'S2 private' }), s2)).task!;

    for (const id of [own.id, s2Own.id]) expect((await grpcError(tasks.getTask({ id }, s1))).code).toBe(status.NOT_FOUND);
    expect((await tasks.getTask({ id: onRequest.id }, s1)).task!.id).toBe(onRequest.id);
    // Every change of an invisible task is NOT_FOUND, and it is left as it was.
    for (const call of [
      tasks.updateTask({ id: own.id, expectedVersion: 0, title: 'Hijack' }, s1),
      tasks.completeTask({ id: own.id, done: true }, s1),
      tasks.deleteTask({ id: own.id }, s1),
    ])
      expect((await grpcError(call)).code).toBe(status.NOT_FOUND);
    expect((await tasks.getTask({ id: own.id }, s3)).task).toMatchObject({ title: 'S3 own', status: 'open', version: 1 });
    const s1Any = (await tasks.listTasks(list({ assigneeId: 'any', pageSize: 200 }), s1)).tasks.map((t) => t.id);
    expect(s1Any).toContain(onRequest.id);
    expect(s1Any).not.toContain(own.id);
    expect(s1Any).not.toContain(s2Own.id);

    // The head of D1 sees S2's private task (a member), not S3's (D2).
    expect((await tasks.getTask({ id: s2Own.id }, head)).task!.id).toBe(s2Own.id);
    expect((await grpcError(tasks.getTask({ id: own.id }, head))).code).toBe(status.NOT_FOUND);
    const headAny = (await tasks.listTasks(list({ assigneeId: 'any', pageSize: 200 }), head)).tasks.map((t) => t.id);
    expect(headAny).toEqual(expect.arrayContaining([s2Own.id, onRequest.id]));
    expect(headAny).not.toContain(own.id);
    // The head may give a member a task; a seller may not give a colleague one outside a request.
    expect((await tasks.createTask(task({ title: 'From the head', assigneeId: S1 }), head)).task!.assigneeId).toBe(S1);
    expect((await grpcError(tasks.createTask(task({ title: 'To a colleague', assigneeId: S1 }), s2))).code).toBe(status.PERMISSION_DENIED);
    // A seller cannot hang a task on a request they do not see.
    const d2Request = await requestIn(D2, null);
    expect((await grpcError(tasks.createTask(task({ requestId: d2Request }), s1))).code).toBe(status.NOT_FOUND);

    for (const id of [own.id, s2Own.id, onRequest.id]) expect((await tasks.getTask({ id }, admin)).task!.id).toBe(id);
    // Another tenant: NOT_FOUND for every call, nothing listed.
    expect((await grpcError(tasks.getTask({ id: own.id }, other))).code).toBe(status.NOT_FOUND);
    expect((await grpcError(tasks.completeTask({ id: own.id, done: true }, other))).code).toBe(status.NOT_FOUND);
    expect((await tasks.listTasks(list({ assigneeId: 'any' }), other)).tasks).toEqual([]);
  });
});

describe('tasks: reminders', () => {
  it('fires once at due − remind_before (reminded_at, one TaskReminder); moving the due time reminds again; done cancels it', async () => {
    // Due in 62 s, reminded a minute before: in ~2 s.
    const due = new Date(Date.now() + 62_000);
    const created = (await tasks.createTask(task({ title: 'Remind me', dueAt: due.toISOString(), remindBeforeMinutes: 1 }), s1)).task!;
    expect(await count(`SELECT count(*) AS n FROM graphile_worker.jobs WHERE key = $1`, [`task:${created.id}`])).toBe(1);
    const reminded = await eventually(() => tasks.getTask({ id: created.id }, s1).then((r) => r.task!), { until: (t) => t.remindedAt !== '', timeoutMs: 15_000 });
    const late = new Date(reminded.remindedAt).getTime() - (due.getTime() - 60_000);
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(3000);
    // The same job once more: nothing.
    await h.pool.query(`SELECT graphile_worker.add_job('intake_task_reminder', $1::json)`, [JSON.stringify({ tenantId: TENANT, taskId: created.id, remindAt: new Date(due.getTime() - 60_000).toISOString() })]);
    await eventually(() => count(`SELECT count(*) AS n FROM graphile_worker.jobs WHERE task_identifier = 'intake_task_reminder' AND key IS NULL`), { until: (n) => n === 0, timeoutMs: 15_000 });
    const events = await eventually(() => eventsOf('crm.intake.task.reminder.v1', created.id), { until: (e) => e.length >= 1, timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(eventsOf('crm.intake.task.reminder.v1', created.id)).toHaveLength(1);
    expect(decodeData(events[0]!, TaskReminder).task).toMatchObject({ id: created.id, assigneeId: S1 });

    // A new due time: reminded_at cleared, reminded again.
    const { task: moved } = await tasks.updateTask({ id: created.id, expectedVersion: 0, dueAt: new Date(Date.now() + 61_500).toISOString() }, s1);
    expect(moved!.remindedAt).toBe('');
    await eventually(() => tasks.getTask({ id: created.id }, s1).then((r) => r.task!), { until: (t) => t.remindedAt !== '', timeoutMs: 15_000 });
    await eventually(() => eventsOf('crm.intake.task.reminder.v1', created.id).length, { until: (n) => n === 2, timeoutMs: 20_000 });

    // Done before the reminder: the job is gone, nothing fires.
    const later = (await tasks.createTask(task({ title: 'Done early', dueAt: new Date(Date.now() + 61_500).toISOString(), remindBeforeMinutes: 1 }), s1)).task!;
    await tasks.completeTask({ id: later.id, done: true }, s1);
    expect(await count(`SELECT count(*) AS n FROM graphile_worker.jobs WHERE key = $1`, [`task:${later.id}`])).toBe(0);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await tasks.getTask({ id: later.id }, s1)).task!.remindedAt).toBe('');
  });
});
