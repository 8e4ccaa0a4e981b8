/**
 * The timers' handlers (graphile-worker tasks). Each one is one transaction on intake's ORM: lock the
 * row (FOR UPDATE), re-check that the job is still the one that is due (the payload's time equals the
 * row's, the state still allows it), then write the change, its history and its outbox event, and bump
 * the version. The row lock serialises a job running twice (another replica, a retry after a crash), and
 * the re-check makes the second run a no-op: one effect per job.
 */
import { RequestAssigned, RequestSlaBreached, RequestStateChanged } from '@crm/contracts/crm/intake/events/v1/request_events';
import { TaskReminder, TaskUpdated } from '@crm/contracts/crm/intake/events/v1/task_events';
import { RequestState } from '@crm/contracts/crm/intake/v1/request';
import { uuidv7, type EntityManager, type MikroORM } from '@crm/db';
import { enqueueEvent } from '@crm/kafka';
import type { Logger } from '@crm/logger';
import type { Task, TaskList } from 'graphile-worker';
import { RequestSchema, type RequestRow } from '../db/entities/request.entity';
import {
  EVENT_SOURCE,
  REQUEST_ASSIGNED,
  REQUEST_SLA_BREACHED,
  REQUEST_STATE_CHANGED,
  REQUEST_TOPIC,
  TASK_REMINDER,
  TASK_TOPIC,
  TASK_UPDATED,
} from '../events';
import { toProtoRequest } from '../mappers';
import { lockTask, remindAtOf, taskFromDb, toProtoTask } from '../tasks/task-row';
import type { Roster, TeamDirectory } from '../team';
import { cancelTaskReminder, JOB, type RevisitPayload, type SlaBreachPayload, type TaskReminderPayload } from './scheduler';

/** Who the timers act as in history and events. */
export const TIMER_ACTOR = { kind: 'system', id: 'timers' } as const;

/**
 * Picks the employee an SLA breach escalates to (the department's next eligible one by round-robin,
 * never the current assignee), inside the breach's transaction; null: nobody, notify only.
 */
export type Escalator = (em: EntityManager, request: RequestRow, roster: Roster | null) => Promise<string | null>;

export interface TimerDeps {
  orm: MikroORM;
  team: TeamDirectory;
  logger: Logger;
  /** timers/escalation.ts (routing's round-robin) in the service; absent = notify only. */
  escalate?: Escalator;
  /** Called after each handler's transaction committed with an effect (tests and the bench count fires). */
  onFired?: (job: string, key: string, at: Date) => void;
}

/** What one handler run did (returned for tests; graphile ignores it). */
export type Outcome = 'fired' | 'stale';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parse<T extends object>(raw: unknown, keys: (keyof T & string)[], uuidKey: keyof T & string): T | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const p = raw as Record<string, unknown>;
  for (const k of keys) if (typeof p[k] !== 'string' || p[k] === '') return null;
  if (!UUID_RE.test(p[uuidKey] as string)) return null;
  return p as T;
}

function sameInstant(a: Date | null, iso: string): boolean {
  const t = Date.parse(iso);
  return a !== null && !Number.isNaN(t) && a.getTime() === t;
}

async function lockRequest(em: EntityManager, tenantId: string, id: string): Promise<Record<string, unknown> | null> {
  const rows = await em.execute<Record<string, unknown>[]>('SELECT * FROM requests WHERE tenant_id = ? AND id = ? FOR UPDATE', [tenantId, id]);
  return rows[0] ?? null;
}

async function history(
  em: EntityManager,
  tenantId: string,
  requestId: string,
  at: Date,
  field: string,
  from: string | null,
  to: string | null,
  reason: string,
  details: Record<string, unknown> = {},
): Promise<void> {
  await em.execute(
    `INSERT INTO request_history (id, tenant_id, request_id, at, actor_kind, actor_id, field, from_value, to_value, reason, details)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)`,
    [uuidv7(), tenantId, requestId, at, TIMER_ACTOR.kind, TIMER_ACTOR.id, field, from, to, reason, JSON.stringify(details)],
  );
}

export class TimerHandlers {
  constructor(private readonly deps: TimerDeps) {}

  /** graphile-worker's task list. A malformed payload is logged and dropped (retrying cannot help). */
  taskList(): TaskList {
    const wrap =
      (name: string, fn: (payload: unknown) => Promise<Outcome | 'malformed'>): Task =>
      async (payload, helpers) => {
        const outcome = await fn(payload);
        if (outcome === 'malformed') this.deps.logger.error({ job: name, jobId: helpers.job.id, payload }, 'timer payload malformed: dropped');
        else this.deps.logger.debug({ job: name, jobId: helpers.job.id, outcome }, 'timer handled');
      };
    return {
      [JOB.slaBreach]: wrap(JOB.slaBreach, (p) => this.slaBreach(p)),
      [JOB.revisit]: wrap(JOB.revisit, (p) => this.revisit(p)),
      [JOB.taskReminder]: wrap(JOB.taskReminder, (p) => this.taskReminder(p)),
    };
  }

  /**
   * No first response by the SLA due time: mark the request breached (once), notify its assignee and the
   * department's heads, and escalate (reassign) when an escalator picks someone else.
   */
  async slaBreach(raw: unknown): Promise<Outcome | 'malformed'> {
    const p = parse<SlaBreachPayload>(raw, ['tenantId', 'requestId', 'dueAt'], 'requestId');
    if (!p) return 'malformed';
    const { orm, team, logger } = this.deps;
    // The roster before the transaction: no connection is held while identity answers. Unreachable:
    // the breach is still marked, the assignee alone is notified, nobody is reassigned.
    const roster = await team.roster(p.tenantId).catch((err: unknown) => {
      logger.warn({ err, tenantId: p.tenantId, requestId: p.requestId }, 'SLA breach without the roster: heads not notified, no escalation');
      return null;
    });
    const outcome = await orm.em.fork().transactional(async (em): Promise<Outcome> => {
      const raw = await lockRequest(em, p.tenantId, p.requestId);
      if (!raw) return 'stale';
      // A snapshot: mapping the updated row below refreshes the same managed entity.
      const row: RequestRow = { ...em.map(RequestSchema, raw) };
      if (!sameInstant(row.slaDueAt, p.dueAt) || row.firstResponseAt !== null || row.slaBreachedAt !== null) return 'stale';
      if (row.state !== 'new' && row.state !== 'assigned') return 'stale';
      const now = new Date();
      const previousAssignee = row.assigneeId;
      let escalatedTo: string | null = null;
      if (this.deps.escalate && row.departmentId !== null) {
        const picked = await this.deps.escalate(em, row, roster);
        if (picked !== null && picked !== previousAssignee) escalatedTo = picked;
      }
      const updated = await em.execute<Record<string, unknown>[]>(
        `UPDATE requests SET sla_breached_at = ?, version = version + 1,
           assignee_id = COALESCE(?::uuid, assignee_id),
           state = CASE WHEN ?::uuid IS NULL THEN state ELSE 'assigned' END
         WHERE tenant_id = ? AND id = ? RETURNING *`,
        [now, escalatedTo, escalatedTo, p.tenantId, p.requestId],
      );
      const after = em.map(RequestSchema, updated[0]!);
      await history(em, p.tenantId, p.requestId, now, 'sla_breached_at', null, now.toISOString(), 'sla_breached', { due_at: p.dueAt });
      const heads = row.departmentId ? (roster?.departments.get(row.departmentId)?.headUserIds ?? []) : [];
      const notify = [...new Set([...(after.assigneeId ? [after.assigneeId] : []), ...(previousAssignee ? [previousAssignee] : []), ...heads])];
      const request = toProtoRequest(after);
      enqueueEvent(em, {
        topic: REQUEST_TOPIC,
        type: REQUEST_SLA_BREACHED,
        codec: RequestSlaBreached,
        payload: { request, dueAt: p.dueAt, breachedAt: now.toISOString(), notifyUserIds: notify, reassignedFrom: escalatedTo !== null ? (previousAssignee ?? '') : '' },
        subject: p.requestId,
        tenantId: p.tenantId,
        source: EVENT_SOURCE,
      });
      if (escalatedTo !== null) {
        await history(em, p.tenantId, p.requestId, now, 'assignee_id', previousAssignee, escalatedTo, 'escalation');
        if (row.state !== after.state) await history(em, p.tenantId, p.requestId, now, 'state', row.state, after.state, 'escalation');
        enqueueEvent(em, {
          topic: REQUEST_TOPIC,
          type: REQUEST_ASSIGNED,
          codec: RequestAssigned,
          payload: {
            request,
            previousAssigneeId: previousAssignee ?? '',
            previousDepartmentId: row.departmentId ?? '',
            actor: TIMER_ACTOR,
            cause: 'escalation',
            at: now.toISOString(),
          },
          subject: p.requestId,
          tenantId: p.tenantId,
          source: EVENT_SOURCE,
        });
      }
      return 'fired';
    });
    if (outcome === 'fired') this.deps.onFired?.(JOB.slaBreach, p.requestId, new Date());
    return outcome;
  }

  /**
   * The revisit date of a deferred request came: back to `new` in its department, the assignee cleared,
   * its open revisit task done. Overdue jobs run when the runner starts, so a date that passed while
   * intake was down fires at the next start — once.
   */
  async revisit(raw: unknown): Promise<Outcome | 'malformed'> {
    const p = parse<RevisitPayload>(raw, ['tenantId', 'requestId', 'revisitAt'], 'requestId');
    if (!p) return 'malformed';
    const outcome = await this.deps.orm.em.fork().transactional(async (em): Promise<Outcome> => {
      const raw = await lockRequest(em, p.tenantId, p.requestId);
      if (!raw) return 'stale';
      // A snapshot: mapping the updated row below refreshes the same managed entity.
      const row: RequestRow = { ...em.map(RequestSchema, raw) };
      if (row.state !== 'deferred' || !sameInstant(row.revisitAt, p.revisitAt)) return 'stale';
      const now = new Date();
      const updated = await em.execute<Record<string, unknown>[]>(
        `UPDATE requests SET state = 'new', assignee_id = NULL, state_changed_at = ?, state_reason = 'revisit', version = version + 1
         WHERE tenant_id = ? AND id = ? RETURNING *`,
        [now, p.tenantId, p.requestId],
      );
      const after = em.map(RequestSchema, updated[0]!);
      const request = toProtoRequest(after);
      await history(em, p.tenantId, p.requestId, now, 'state', 'deferred', 'new', 'revisit', { revisit_at: p.revisitAt });
      enqueueEvent(em, {
        topic: REQUEST_TOPIC,
        type: REQUEST_STATE_CHANGED,
        codec: RequestStateChanged,
        payload: {
          request,
          from: RequestState.REQUEST_STATE_DEFERRED,
          to: RequestState.REQUEST_STATE_NEW,
          actor: TIMER_ACTOR,
          reason: 'revisit',
          at: now.toISOString(),
        },
        subject: p.requestId,
        tenantId: p.tenantId,
        source: EVENT_SOURCE,
      });
      if (row.assigneeId !== null) {
        await history(em, p.tenantId, p.requestId, now, 'assignee_id', row.assigneeId, null, 'revisit');
        enqueueEvent(em, {
          topic: REQUEST_TOPIC,
          type: REQUEST_ASSIGNED,
          codec: RequestAssigned,
          payload: { request, previousAssigneeId: row.assigneeId, previousDepartmentId: row.departmentId ?? '', actor: TIMER_ACTOR, cause: 'revisit', at: now.toISOString() },
          subject: p.requestId,
          tenantId: p.tenantId,
          source: EVENT_SOURCE,
        });
      }
      // The request's revisit task (made when it was deferred) is done now that it is back.
      const tasks = await em.execute<Record<string, unknown>[]>(
        `UPDATE tasks SET status = 'done', done_at = ?, updated_at = ?, version = version + 1
         WHERE tenant_id = ? AND request_id = ? AND kind = 'revisit' AND status = 'open' AND deleted_at IS NULL RETURNING *`,
        [now, now, p.tenantId, p.requestId],
      );
      for (const t of tasks.map(taskFromDb)) {
        await cancelTaskReminder(em, t.id);
        enqueueEvent(em, {
          topic: TASK_TOPIC,
          type: TASK_UPDATED,
          codec: TaskUpdated,
          payload: { task: toProtoTask(t, now), deleted: false },
          subject: t.id,
          tenantId: p.tenantId,
          source: EVENT_SOURCE,
        });
      }
      return 'fired';
    });
    if (outcome === 'fired') this.deps.onFired?.(JOB.revisit, p.requestId, new Date());
    return outcome;
  }

  /** A task's reminder time came: once per reminder time, only while the task is open. */
  async taskReminder(raw: unknown): Promise<Outcome | 'malformed'> {
    const p = parse<TaskReminderPayload>(raw, ['tenantId', 'taskId', 'remindAt'], 'taskId');
    if (!p) return 'malformed';
    const outcome = await this.deps.orm.em.fork().transactional(async (em): Promise<Outcome> => {
      const task = await lockTask(em, p.tenantId, p.taskId);
      if (!task || task.status !== 'open' || task.deletedAt !== null || task.remindedAt !== null) return 'stale';
      if (!sameInstant(remindAtOf(task), p.remindAt)) return 'stale';
      const now = new Date();
      const updated = await em.execute<Record<string, unknown>[]>('UPDATE tasks SET reminded_at = ? WHERE tenant_id = ? AND id = ? RETURNING *', [now, p.tenantId, p.taskId]);
      const after = taskFromDb(updated[0]!);
      enqueueEvent(em, {
        topic: TASK_TOPIC,
        type: TASK_REMINDER,
        codec: TaskReminder,
        payload: { task: toProtoTask(after, now), at: now.toISOString() },
        subject: p.taskId,
        tenantId: p.tenantId,
        source: EVENT_SOURCE,
      });
      return 'fired';
    });
    if (outcome === 'fired') this.deps.onFired?.(JOB.taskReminder, p.taskId, new Date());
    return outcome;
  }
}
