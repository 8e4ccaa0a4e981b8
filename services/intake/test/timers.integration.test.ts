/**
 * intake's durable timers on graphile-worker, in-process against the real engines: an SLA breach fires
 * once (and a duplicate or stale job does nothing), a first response before the due time means no
 * breach, a deferred request comes back on its date once — also when intake was stopped across that
 * moment (graphile runs the overdue job at the next start).
 */
import { RequestAssigned, RequestSlaBreached, RequestStateChanged } from '@crm/contracts/crm/intake/events/v1/request_events';
import { TaskUpdated } from '@crm/contracts/crm/intake/events/v1/task_events';
import { Channel, RequestState } from '@crm/contracts/crm/intake/v1/request';
import { parseConfig } from '@crm/config';
import { uuidv7, type EntityManager } from '@crm/db';
import { decodeData, decodeEvent } from '@crm/kafka';
import type { RunningService } from '@crm/service';
import { eventually, runId, stackUrls } from '@crm/testing';
import { intakeEnv, startIntake } from '../src/app';
import { cancelSlaBreach, scheduleRevisit, scheduleSlaBreach } from '../src/timers/scheduler';
import { collect, NO_ROUTING_FIELDS, startHarness, tenant, type Harness } from './harness';
import { startTeamDouble, type TeamDouble } from './team-double';

const T = tenant('tenant-timers', 'user-t');
let h: Harness;
let team: TeamDouble;
/** The intake serving now (the harness's, then the one started again after a stop). */
let current: RunningService;
let restarted: RunningService | undefined;
let watcher: Awaited<ReturnType<typeof collect>>;
let taskWatcher: Awaited<ReturnType<typeof collect>>;

beforeAll(async () => {
  team = await startTeamDouble();
  h = await startHarness({ identityAddr: team.addr });
  current = h.service;
  watcher = await collect(h.kafka, h.topic('crm.intake.request.v1'), `timers-${runId}`);
  taskWatcher = await collect(h.kafka, h.topic('crm.intake.task.v1'), `timers-tasks-${runId}`);
});

afterAll(async () => {
  await watcher?.stop();
  await taskWatcher?.stop();
  await restarted?.stop();
  await h?.stop();
  await team?.stop();
});

async function createRequest(): Promise<string> {
  const res = await h.client.createRequest(
    { channel: Channel.CHANNEL_PHONE, name: 'Timer', phone: '', email: '', message: '', attribution: undefined, idempotencyKey: '', publicFormId: '', defaultCountry: '', extraFields: [], ...NO_ROUTING_FIELDS },
    T,
  );
  return res.request!.id;
}

function tx(fn: (em: EntityManager) => Promise<void>): Promise<void> {
  return current.orm!.em.fork().transactional(fn);
}

async function row(id: string) {
  return (await h.pool.query('SELECT * FROM requests WHERE id = $1', [id])).rows[0];
}

async function historyOf(id: string, field: string): Promise<{ from_value: string | null; to_value: string | null; reason: string; actor_kind: string }[]> {
  return (await h.pool.query('SELECT * FROM request_history WHERE request_id = $1 AND field = $2 ORDER BY at', [id, field])).rows;
}

async function pendingJobs(task: string): Promise<number> {
  return Number((await h.pool.query('SELECT count(*) AS n FROM graphile_worker.jobs WHERE task_identifier = $1', [task])).rows[0].n);
}

/** Distinct events (by CloudEvents id) of a type about one subject. */
function eventsOf(messages: typeof watcher.messages, type: string, subject: string) {
  const seen = new Map<string, ReturnType<typeof decodeEvent>>();
  for (const m of messages) {
    const e = decodeEvent(m);
    if (e.type === type && e.subject === subject) seen.set(e.id, e);
  }
  return [...seen.values()];
}

/** Sets the SLA due time and schedules its job in one transaction (what routing does at creation). */
async function dueIn(id: string, ms: number, assignee: string | null = null): Promise<Date> {
  const dueAt = new Date(Date.now() + ms);
  await tx(async (em) => {
    await em.execute(`UPDATE requests SET sla_due_at = ?, assignee_id = ?, state = CASE WHEN ?::uuid IS NULL THEN state ELSE 'assigned' END WHERE id = ?`, [dueAt, assignee, assignee, id]);
    await scheduleSlaBreach(em, T.tenantId, id, dueAt);
  });
  return dueAt;
}

/** Defers a request to `ms` from now with an open revisit task, scheduling its revisit (what the workflow does). */
async function deferFor(id: string, ms: number, assignee: string): Promise<{ revisitAt: Date; taskId: string }> {
  const revisitAt = new Date(Date.now() + ms);
  const taskId = uuidv7();
  await tx(async (em) => {
    await em.execute(`UPDATE requests SET state = 'deferred', revisit_at = ?, assignee_id = ?, deferred_by = ? WHERE id = ?`, [revisitAt, assignee, assignee, id]);
    await em.execute(
      `INSERT INTO tasks (id, tenant_id, title, due_at, assignee_id, request_id, status, kind, created_at, created_by, updated_at)
       VALUES (?, ?, 'Revisit', ?, ?, ?, 'open', 'revisit', now(), ?, now())`,
      [taskId, T.tenantId, revisitAt, assignee, id, assignee],
    );
    await scheduleRevisit(em, T.tenantId, id, revisitAt);
  });
  return { revisitAt, taskId };
}

describe('SLA breach timer', () => {
  it('fires once at the due time: breached, one history row, one event addressed to the assignee; a duplicate job does nothing', async () => {
    const id = await createRequest();
    const assignee = uuidv7();
    const dueAt = await dueIn(id, 1500, assignee);
    const before = await row(id);
    const breached = await eventually(() => row(id), { until: (r) => r.sla_breached_at !== null, timeoutMs: 15_000, message: 'the request is breached' });
    const lateness = new Date(breached.sla_breached_at).getTime() - dueAt.getTime();
    expect(lateness).toBeGreaterThanOrEqual(0);
    expect(lateness).toBeLessThan(3000);
    expect(breached.version).toBe(before.version + 1);
    expect(breached.state).toBe('assigned');
    const rows = await historyOf(id, 'sla_breached_at');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor_kind: 'system', reason: 'sla_breached', from_value: null });

    // The same payload once more under another key (a job run twice: a retry, another replica).
    await h.pool.query(`SELECT graphile_worker.add_job('intake_sla_breach', $1::json, job_key => $2)`, [JSON.stringify({ tenantId: T.tenantId, requestId: id, dueAt: dueAt.toISOString() }), `dup:${id}`]);
    await eventually(() => pendingJobs('intake_sla_breach'), { until: (n) => n === 0, timeoutMs: 15_000, message: 'the duplicate job ran' });
    expect(await historyOf(id, 'sla_breached_at')).toHaveLength(1);
    expect((await row(id)).version).toBe(before.version + 1);

    const events = await eventually(() => eventsOf(watcher.messages, 'crm.intake.request.sla_breached.v1', id), { until: (e) => e.length >= 1, timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(eventsOf(watcher.messages, 'crm.intake.request.sla_breached.v1', id)).toHaveLength(1);
    const payload = decodeData(events[0]!, RequestSlaBreached);
    expect(payload.dueAt).toBe(dueAt.toISOString());
    expect(payload.notifyUserIds).toEqual([assignee]);
    expect(payload.reassignedFrom).toBe('');
    expect(payload.request?.slaBreachedAt).toBe(new Date(breached.sla_breached_at).toISOString());
  });

  it('does not fire after a first response: cancelled with it, or (a job already taken) refused by the re-check', async () => {
    const cancelled = await createRequest();
    const answered = await createRequest();
    await dueIn(cancelled, 1200);
    await dueIn(answered, 1200);
    // RecordFirstResponse's shape: the response and the cancel in one transaction; and one without the cancel.
    await tx(async (em) => {
      await em.execute('UPDATE requests SET first_response_at = now() WHERE id IN (?, ?)', [cancelled, answered]);
      await cancelSlaBreach(em, cancelled);
    });
    expect(Number((await h.pool.query(`SELECT count(*) AS n FROM graphile_worker.jobs WHERE key = $1`, [`sla:${cancelled}`])).rows[0].n)).toBe(0);
    await eventually(() => pendingJobs('intake_sla_breach'), { until: (n) => n === 0, timeoutMs: 15_000, message: 'the remaining job ran' });
    await new Promise((r) => setTimeout(r, 500));
    for (const id of [cancelled, answered]) {
      expect((await row(id)).sla_breached_at).toBeNull();
      expect(await historyOf(id, 'sla_breached_at')).toHaveLength(0);
    }
  });

  it('a rescheduled due time replaces the job; a stale job of the old time does nothing, the new one fires once', async () => {
    const id = await createRequest();
    const first = await dueIn(id, 60_000);
    const second = await dueIn(id, 1500);
    expect(Number((await h.pool.query(`SELECT count(*) AS n FROM graphile_worker.jobs WHERE key = $1`, [`sla:${id}`])).rows[0].n)).toBe(1);
    // A stale job for the first due time (say, taken before the reschedule committed).
    await h.pool.query(`SELECT graphile_worker.add_job('intake_sla_breach', $1::json)`, [JSON.stringify({ tenantId: T.tenantId, requestId: id, dueAt: first.toISOString() })]);
    const breached = await eventually(() => row(id), { until: (r) => r.sla_breached_at !== null, timeoutMs: 15_000 });
    expect(new Date(breached.sla_breached_at).getTime()).toBeGreaterThanOrEqual(second.getTime());
    await eventually(() => pendingJobs('intake_sla_breach'), { until: (n) => n === 0, timeoutMs: 15_000 });
    expect(await historyOf(id, 'sla_breached_at')).toHaveLength(1);
  });

  it('drops a malformed payload without retrying it, and ignores another tenant’s request id', async () => {
    const id = await createRequest();
    await dueIn(id, 60_000);
    const due = (await row(id)).sla_due_at as Date;
    await h.pool.query(`SELECT graphile_worker.add_job('intake_sla_breach', $1::json)`, [JSON.stringify({ tenantId: T.tenantId, requestId: 'not-a-uuid', dueAt: 'x' })]);
    await h.pool.query(`SELECT graphile_worker.add_job('intake_sla_breach', $1::json)`, [JSON.stringify({ tenantId: 'tenant-other', requestId: id, dueAt: new Date(due).toISOString() })]);
    // Only the real, future job remains: the two ran (successfully: no retry is pending).
    await eventually(() => pendingJobs('intake_sla_breach'), { until: (n) => n === 1, timeoutMs: 15_000 });
    const failed = Number((await h.pool.query(`SELECT count(*) AS n FROM graphile_worker.jobs WHERE last_error IS NOT NULL`)).rows[0].n);
    expect(failed).toBe(0);
    expect((await row(id)).sla_breached_at).toBeNull();
    await tx((em) => cancelSlaBreach(em, id));
  });
});

describe('SLA breach escalation', () => {
  it('reassigns to the department’s next eligible employee (never the current one), notifies them, the previous assignee and the heads', async () => {
    const dept = uuidv7();
    const [headId, current, next, away] = [uuidv7(), uuidv7(), uuidv7(), uuidv7()].sort();
    team.setRoster(T.tenantId, {
      departments: [{ id: dept, name: 'Sales', headUserIds: [headId!] }],
      users: [
        { id: current!, departmentIds: [dept] },
        { id: next!, departmentIds: [dept] },
        { id: away!, departmentIds: [dept], away: true },
        { id: headId!, departmentIds: [dept], onShift: false },
      ],
    });
    try {
      const id = await createRequest();
      await h.pool.query('UPDATE requests SET department_id = $1 WHERE id = $2', [dept, id]);
      const dueAt = await dueIn(id, 1200, current!);
      const after = await eventually(() => row(id), { until: (r) => r.sla_breached_at !== null, timeoutMs: 15_000 });
      expect(after.assignee_id).toBe(next);
      expect(after.state).toBe('assigned');
      expect(await historyOf(id, 'assignee_id')).toEqual([expect.objectContaining({ from_value: current, to_value: next, reason: 'escalation' })]);
      const [breach] = await eventually(() => eventsOf(watcher.messages, 'crm.intake.request.sla_breached.v1', id), { until: (e) => e.length >= 1, timeoutMs: 20_000 });
      const payload = decodeData(breach!, RequestSlaBreached);
      expect(payload.dueAt).toBe(dueAt.toISOString());
      expect(payload.reassignedFrom).toBe(current);
      expect([...payload.notifyUserIds].sort()).toEqual([current!, next!, headId!].sort());
      const assigned = await eventually(() => eventsOf(watcher.messages, 'crm.intake.request.assigned.v1', id), { until: (e) => e.length >= 1, timeoutMs: 20_000 });
      expect(decodeData(assigned[0]!, RequestAssigned)).toMatchObject({ cause: 'escalation', previousAssigneeId: current, request: { assigneeId: next } });

      // Nobody else eligible: notify only (the assignee stays).
      const lone = await createRequest();
      await h.pool.query('UPDATE requests SET department_id = $1 WHERE id = $2', [dept, lone]);
      team.setRoster(T.tenantId, { departments: [{ id: dept, name: 'Sales', headUserIds: [headId!] }], users: [{ id: current!, departmentIds: [dept] }] });
      await dueIn(lone, 800, current!);
      const loneAfter = await eventually(() => row(lone), { until: (r) => r.sla_breached_at !== null, timeoutMs: 15_000 });
      expect(loneAfter.assignee_id).toBe(current);
      expect(await historyOf(lone, 'assignee_id')).toHaveLength(0);

      // identity down: still breached once, the assignee notified, nobody reassigned.
      team.down = true;
      const blind = await createRequest();
      await h.pool.query('UPDATE requests SET department_id = $1 WHERE id = $2', [dept, blind]);
      await dueIn(blind, 800, current!);
      const blindAfter = await eventually(() => row(blind), { until: (r) => r.sla_breached_at !== null, timeoutMs: 15_000 });
      expect(blindAfter.assignee_id).toBe(current);
      const [blindEvent] = await eventually(() => eventsOf(watcher.messages, 'crm.intake.request.sla_breached.v1', blind), { until: (e) => e.length >= 1, timeoutMs: 20_000 });
      expect(decodeData(blindEvent!, RequestSlaBreached).notifyUserIds).toEqual([current]);
    } finally {
      team.down = false;
      team.setRoster(T.tenantId, { departments: [], users: [] });
    }
  });
});

describe('revisit timer', () => {
  it('brings a deferred request back as new on its date, once: assignee cleared, department kept, history, event, its revisit task done', async () => {
    const id = await createRequest();
    const seller = uuidv7();
    const department = uuidv7();
    await h.pool.query('UPDATE requests SET department_id = $1 WHERE id = $2', [department, id]);
    const { revisitAt, taskId } = await deferFor(id, 1500, seller);
    const back = await eventually(() => row(id), { until: (r) => r.state === 'new', timeoutMs: 15_000, message: 'the request came back' });
    expect(back.assignee_id).toBeNull();
    expect(back.department_id).toBe(department);
    expect(back.state_reason).toBe('revisit');
    expect(new Date(back.state_changed_at).getTime()).toBeGreaterThanOrEqual(revisitAt.getTime());
    expect(await historyOf(id, 'state')).toEqual([expect.objectContaining({ from_value: 'deferred', to_value: 'new', reason: 'revisit', actor_kind: 'system' })]);
    expect(await historyOf(id, 'assignee_id')).toEqual([expect.objectContaining({ from_value: seller, to_value: null, reason: 'revisit' })]);
    const task = (await h.pool.query('SELECT * FROM tasks WHERE id = $1', [taskId])).rows[0];
    expect(task.status).toBe('done');

    // Once: the same job again changes nothing (the request is no longer deferred).
    await h.pool.query(`SELECT graphile_worker.add_job('intake_revisit', $1::json)`, [JSON.stringify({ tenantId: T.tenantId, requestId: id, revisitAt: revisitAt.toISOString() })]);
    await eventually(() => pendingJobs('intake_revisit'), { until: (n) => n === 0, timeoutMs: 15_000 });
    expect(await historyOf(id, 'state')).toHaveLength(1);

    const changed = await eventually(() => eventsOf(watcher.messages, 'crm.intake.request.state_changed.v1', id), { until: (e) => e.length >= 1, timeoutMs: 20_000 });
    const ev = decodeData(changed[0]!, RequestStateChanged);
    expect(ev).toMatchObject({ from: RequestState.REQUEST_STATE_DEFERRED, to: RequestState.REQUEST_STATE_NEW, reason: 'revisit', actor: { kind: 'system', id: 'timers' } });
    expect(eventsOf(watcher.messages, 'crm.intake.request.assigned.v1', id)).toHaveLength(1);
    const taskEvents = await eventually(() => eventsOf(taskWatcher.messages, 'crm.intake.task.updated.v1', taskId), { until: (e) => e.length >= 1, timeoutMs: 20_000 });
    expect(decodeData(taskEvents[0]!, TaskUpdated).task?.status).toBe('done');
  });

  it('a request deferred again (a new date) ignores the job of the old date', async () => {
    const id = await createRequest();
    const seller = uuidv7();
    const old = await deferFor(id, 60_000, seller);
    await tx(async (em) => {
      await em.execute(`UPDATE requests SET revisit_at = ? WHERE id = ?`, [new Date(Date.now() + 120_000), id]);
    });
    await h.pool.query(`SELECT graphile_worker.add_job('intake_revisit', $1::json)`, [JSON.stringify({ tenantId: T.tenantId, requestId: id, revisitAt: old.revisitAt.toISOString() })]);
    await eventually(() => pendingJobs('intake_revisit'), { until: (n) => n === 1, timeoutMs: 15_000 });
    expect((await row(id)).state).toBe('deferred');
    await h.pool.query(`SELECT graphile_worker.remove_job($1)`, [`revisit:${id}`]);
  });

  it('returns once at the next start when intake was stopped across the revisit date', async () => {
    const id = await createRequest();
    const seller = uuidv7();
    const { revisitAt } = await deferFor(id, 2500, seller);
    const env = parseConfig(intakeEnv, {
      DATABASE_URL: h.pool.options.connectionString!,
      KAFKA_BROKERS: stackUrls().kafkaBrokers.join(','),
      TOPIC_SUFFIX: h.suffix,
      GRPC_HOST: '127.0.0.1',
      CONTACTS_GRPC_ADDR: h.contacts.addr,
      IDENTITY_GRPC_ADDR: '127.0.0.1:1',
      INTAKE_TEAM_CACHE_MS: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    });
    await h.service.stop();
    // The date passes while nobody runs the queue.
    await new Promise((r) => setTimeout(r, Math.max(0, revisitAt.getTime() - Date.now()) + 1500));
    expect((await row(id)).state).toBe('deferred');
    expect(await pendingJobs('intake_revisit')).toBe(1);
    restarted = await startIntake(env);
    current = restarted;
    const back = await eventually(() => row(id), { until: (r) => r.state === 'new', timeoutMs: 15_000, message: 'the request came back after the restart' });
    expect(new Date(back.state_changed_at).getTime()).toBeGreaterThan(revisitAt.getTime());
    await eventually(() => pendingJobs('intake_revisit'), { until: (n) => n === 0, timeoutMs: 15_000 });
    expect(await historyOf(id, 'state')).toHaveLength(1);
    await eventually(() => eventsOf(watcher.messages, 'crm.intake.request.state_changed.v1', id), { until: (e) => e.length === 1, timeoutMs: 20_000 });
  });
});
