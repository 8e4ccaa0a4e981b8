/**
 * Follow-up tasks (tasks.proto): CRUD, complete/reopen, the list (open by due time, done newest first,
 * keyset cursor), an idempotency key on create, reminders scheduled on graphile-worker in the same
 * transaction as the change (due_at − remind_before; rescheduled on a change, cancelled when done or
 * deleted), TaskCreated / TaskUpdated through the outbox.
 *
 * Who sees what: admin, analyst, API key, service — every task of the tenant; a seller — tasks assigned to
 * them and tasks on requests they may see (workflow/visibility.ts); a head — also the tasks of their
 * departments' members (the roster). Anything else is NOT_FOUND, like another tenant's task.
 */
import { TaskCreated, TaskUpdated } from '@crm/contracts/crm/intake/events/v1/task_events';
import {
  Task,
  type CompleteTaskRequest,
  type CreateTaskRequest,
  type ListTasksRequest,
  type UpdateTaskRequest,
} from '@crm/contracts/crm/intake/v1/tasks';
import { uuidv7, type EntityManager, type MikroORM } from '@crm/db';
import { DomainError, NotFoundError, ValidationError, type FieldViolation } from '@crm/errors';
import { visibilityOf, type TenantContext, type Visibility } from '@crm/grpc';
import { enqueueEvent } from '@crm/kafka';
import type { ContactMatcher } from '../contacts';
import type { Logger } from '@crm/logger';
import { EVENT_SOURCE, TASK_CREATED, TASK_TOPIC, TASK_UPDATED } from '../events';
import type { TeamDirectory } from '../team';
import { cancelTaskReminder, scheduleTaskReminder } from '../timers/scheduler';
import { visibilitySql } from '../workflow/visibility';
import { remindAtOf, taskFromDb, toProtoTask, type TaskRow } from './task-row';

export const TITLE_MAX = 200;
export const NOTE_MAX = 2000;
export const REMIND_MAX_MINUTES = 10_080;
export const PAGE_DEFAULT = 50;
export const PAGE_MAX = 200;
const DAY_MS = 86_400_000;
const DUE_PAST_MS = DAY_MS;
const DUE_AHEAD_MS = 2 * 366 * DAY_MS;
const IDEMPOTENCY_KEY_RE = /^[\x21-\x7e]{1,128}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const MAX_CURSOR = 512;

export const TASK_IDEMPOTENCY_MISMATCH = 'Idempotency-Key was already used with a different task';

function invalid(what: string, violations: FieldViolation[]): void {
  if (violations.length) throw new ValidationError(`${what} is invalid: ${violations.map((v) => `${v.field} ${v.message}`).join('; ')}`, violations);
}

function checkTitle(v: FieldViolation[], title: string): string {
  const t = title.trim();
  if (t.length < 1 || [...t].length > TITLE_MAX) v.push({ field: 'title', message: `must be 1..${TITLE_MAX} characters` });
  return t;
}

function checkNote(v: FieldViolation[], note: string): string | null {
  if ([...note].length > NOTE_MAX) v.push({ field: 'note', message: `must be at most ${NOTE_MAX} characters` });
  return note === '' ? null : note;
}

function checkDue(v: FieldViolation[], raw: string, now: Date): Date {
  const t = RFC3339_RE.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(t)) {
    v.push({ field: 'due_at', message: 'must be an RFC 3339 time' });
    return now;
  }
  if (t < now.getTime() - DUE_PAST_MS) v.push({ field: 'due_at', message: 'must not be more than 1 day in the past' });
  else if (t > now.getTime() + DUE_AHEAD_MS) v.push({ field: 'due_at', message: 'must not be more than 2 years ahead' });
  return new Date(t);
}

function checkRemind(v: FieldViolation[], minutes: number): number {
  if (!Number.isInteger(minutes) || minutes < 0 || minutes > REMIND_MAX_MINUTES) v.push({ field: 'remind_before_minutes', message: `must be 0..${REMIND_MAX_MINUTES}` });
  return minutes;
}

function checkUuid(v: FieldViolation[], field: string, raw: string): string | null {
  if (raw === '') return null;
  if (!UUID_RE.test(raw)) {
    v.push({ field, message: 'must be a UUID' });
    return null;
  }
  return raw.toLowerCase();
}

function checkId(method: string, raw: string): string {
  const v: FieldViolation[] = [];
  if (raw === '') v.push({ field: 'id', message: 'is required' });
  else checkUuid(v, 'id', raw);
  invalid(method, v);
  return raw.toLowerCase();
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

interface Cursor {
  /** The phase of the list the last item was in. */
  s: 'open' | 'done';
  t: string;
  i: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify({ v: 1, ...c }), 'utf8').toString('base64url');
}

function decodeCursor(raw: string): Cursor {
  const bad = () => new ValidationError('cursor is malformed: pass the next_cursor of the previous page unchanged', [{ field: 'cursor', message: 'is malformed' }]);
  if (raw.length > MAX_CURSOR || !/^[A-Za-z0-9_-]+$/.test(raw)) throw bad();
  let c: { v?: unknown; s?: unknown; t?: unknown; i?: unknown } | null;
  try {
    c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as typeof c;
  } catch {
    throw bad();
  }
  if (!c || c.v !== 1 || (c.s !== 'open' && c.s !== 'done') || typeof c.t !== 'string' || Number.isNaN(Date.parse(c.t)) || typeof c.i !== 'string' || !UUID_RE.test(c.i)) throw bad();
  return { s: c.s, t: c.t, i: c.i };
}

export interface CreateTaskResult {
  task: TaskRow;
  replayed: boolean;
}

export class TasksService {
  constructor(
    private readonly orm: MikroORM,
    private readonly team: TeamDirectory,
    private readonly logger: Logger,
    /** Confirms a task's contact_id is one of the tenant's contacts. */
    private readonly contacts?: ContactMatcher,
  ) {}

  /** Another tenant's (or an unknown) contact is NOT_FOUND, like everywhere; contacts down: UNAVAILABLE, nothing written. */
  private async checkContact(ctx: TenantContext, contactId: string): Promise<void> {
    if (!this.contacts?.exists) return;
    const found = await this.contacts.exists(ctx.tenantId, contactId);
    if (found === false) throw new NotFoundError('contact', contactId);
    if (found === null) throw new DomainError('UNAVAILABLE', 'contacts cannot confirm contact_id right now; retry');
  }

  /** The roster's user ids in the caller's departments (a head sees their tasks); [] for others. */
  private async membersOf(ctx: TenantContext, v: Visibility): Promise<string[]> {
    if (v.all || !v.head || v.departmentIds.length === 0) return [];
    try {
      const roster = await this.team.roster(ctx.tenantId);
      const mine = new Set(v.departmentIds.map((d) => d.toLowerCase()));
      return [...roster.users.values()].filter((u) => u.departmentIds.some((d) => mine.has(d.toLowerCase()))).map((u) => u.id);
    } catch (err) {
      this.logger.warn({ err, tenantId: ctx.tenantId }, 'tasks: roster unavailable, a head sees only their own tasks and those on visible requests');
      return [];
    }
  }

  /** The visibility fragment over `tasks t`. */
  private async visibleSql(ctx: TenantContext, v: Visibility): Promise<{ sql: string; params: unknown[] }> {
    if (v.all) return { sql: 'true', params: [] };
    const req = visibilitySql(v, 'r');
    const members = await this.membersOf(ctx, v);
    const parts = ['t.assignee_id = ?', `t.request_id IN (SELECT r.id FROM requests r WHERE r.tenant_id = t.tenant_id AND ${req.sql})`];
    const params: unknown[] = [v.userId, ...req.params];
    if (members.length) {
      parts.push(`t.assignee_id IN (${members.map(() => '?').join(', ')})`);
      params.push(...members);
    }
    return { sql: `(${parts.join(' OR ')})`, params };
  }

  /** The task, locked, when the caller may see it (else NOT_FOUND, as for another tenant's or a deleted one). */
  private async lockVisible(em: EntityManager, ctx: TenantContext, id: string): Promise<TaskRow> {
    const v = visibilityOf(ctx);
    const vis = await this.visibleSql(ctx, v);
    const rows = await em.execute<Record<string, unknown>[]>(
      `SELECT t.* FROM tasks t WHERE t.tenant_id = ? AND t.id = ? AND t.deleted_at IS NULL AND ${vis.sql} FOR UPDATE OF t`,
      [ctx.tenantId, id, ...vis.params],
    );
    if (!rows[0]) throw new NotFoundError('task', id);
    return taskFromDb(rows[0]);
  }

  /** The request exists in the tenant and the caller may see it (else NOT_FOUND). */
  private async checkRequest(em: EntityManager, ctx: TenantContext, requestId: string): Promise<void> {
    const vis = visibilitySql(visibilityOf(ctx));
    const rows = await em.execute('SELECT 1 FROM requests WHERE tenant_id = ? AND id = ? AND ' + vis.sql, [ctx.tenantId, requestId, ...vis.params]);
    if (!rows.length) throw new NotFoundError('request', requestId);
  }

  /**
   * The assignee is an active user of the team (identity's roster, asked fresh), and the caller may give
   * them a task: anyone may assign to themselves; a seller to someone else only on a request they see;
   * a head also to their departments' members; admins and integrations to anyone.
   */
  private async checkAssignee(ctx: TenantContext, assigneeId: string, requestId: string | null): Promise<void> {
    const self = ctx.callerKind === 'user' && assigneeId === ctx.callerId;
    if (self) return;
    let roster;
    try {
      roster = await this.team.roster(ctx.tenantId, { fresh: true });
    } catch (err) {
      throw new DomainError('UNAVAILABLE', 'the team directory (identity) is unavailable: the assignee cannot be checked, try again', { cause: err });
    }
    if (!roster.users.has(assigneeId)) throw new ValidationError('the task is invalid: assignee_id is not an active user of the team', [{ field: 'assignee_id', message: 'is not an active user of the team' }]);
    const v = visibilityOf(ctx);
    if (v.all || requestId !== null) return;
    const members = await this.membersOf(ctx, v);
    if (!members.includes(assigneeId)) throw new DomainError('PERMISSION_DENIED', 'a seller gives tasks to others only on a request they may see');
  }

  private schedule(em: EntityManager, t: TaskRow, now: Date): Promise<void> {
    // An open task not yet due gets its reminder (a reminder time already past fires at once); an overdue one none.
    if (t.status === 'open' && t.deletedAt === null && t.dueAt.getTime() > now.getTime()) return scheduleTaskReminder(em, t.tenantId, t.id, remindAtOf(t));
    return cancelTaskReminder(em, t.id);
  }

  private publish(em: EntityManager, t: TaskRow, type: typeof TASK_CREATED | typeof TASK_UPDATED, now: Date, deleted = false): void {
    const task = toProtoTask(t, now);
    if (type === TASK_CREATED) enqueueEvent(em, { topic: TASK_TOPIC, type, codec: TaskCreated, payload: { task }, subject: t.id, tenantId: t.tenantId, source: EVENT_SOURCE });
    else enqueueEvent(em, { topic: TASK_TOPIC, type, codec: TaskUpdated, payload: { task, deleted }, subject: t.id, tenantId: t.tenantId, source: EVENT_SOURCE });
  }

  async create(ctx: TenantContext, req: CreateTaskRequest): Promise<CreateTaskResult> {
    const now = new Date();
    const v: FieldViolation[] = [];
    const title = checkTitle(v, req.title);
    const note = checkNote(v, req.note);
    const dueAt = checkDue(v, req.dueAt, now);
    const remind = checkRemind(v, req.remindBeforeMinutes);
    let assigneeId = req.assigneeId;
    if (assigneeId === '') {
      if (ctx.callerKind === 'user') assigneeId = ctx.callerId;
      else v.push({ field: 'assignee_id', message: 'is required when the caller is not a user' });
    } else if (!UUID_RE.test(assigneeId)) v.push({ field: 'assignee_id', message: 'must be a UUID' });
    else assigneeId = assigneeId.toLowerCase();
    const requestId = checkUuid(v, 'request_id', req.requestId);
    const contactId = checkUuid(v, 'contact_id', req.contactId);
    const dealId = checkUuid(v, 'deal_id', req.dealId);
    const key = req.idempotencyKey === '' ? null : req.idempotencyKey;
    if (key !== null && !IDEMPOTENCY_KEY_RE.test(key)) v.push({ field: 'idempotency_key', message: 'must be 1..128 printable ASCII characters' });
    invalid('CreateTask', v);

    const same = (t: TaskRow) =>
      t.title === title &&
      (t.note ?? null) === note &&
      t.dueAt.getTime() === dueAt.getTime() &&
      t.remindBeforeMinutes === remind &&
      t.assigneeId === assigneeId &&
      t.requestId === requestId &&
      t.contactId === contactId &&
      t.dealId === dealId;
    const replayOf = async (em: EntityManager): Promise<CreateTaskResult | null> => {
      if (key === null) return null;
      const rows = await em.execute<Record<string, unknown>[]>('SELECT * FROM tasks WHERE tenant_id = ? AND created_by = ? AND idempotency_key = ?', [ctx.tenantId, ctx.callerId, key]);
      if (!rows[0]) return null;
      const t = taskFromDb(rows[0]);
      if (!same(t)) throw new DomainError('FAILED_PRECONDITION', TASK_IDEMPOTENCY_MISMATCH, { details: { idempotencyKey: key, reason: 'idempotency_key_reused' } });
      return { task: t, replayed: true };
    };
    const early = await replayOf(this.orm.em.fork());
    if (early) return early;
    await this.checkAssignee(ctx, assigneeId, requestId);
    if (contactId !== null) await this.checkContact(ctx, contactId);

    const insert = () =>
      this.orm.em.fork().transactional(async (em): Promise<CreateTaskResult> => {
        if (key !== null) {
          await em.execute('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`intake:task-idempotency:${ctx.tenantId}:${ctx.callerId}:${key}`]);
          const replay = await replayOf(em);
          if (replay) return replay;
        }
        if (requestId !== null) await this.checkRequest(em, ctx, requestId);
        const rows = await em.execute<Record<string, unknown>[]>(
          `INSERT INTO tasks (id, tenant_id, title, note, due_at, remind_before_minutes, assignee_id, request_id, contact_id, deal_id,
             status, kind, idempotency_key, version, created_at, created_by, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', 'manual', ?, 1, ?, ?, ?) RETURNING *`,
          [uuidv7(), ctx.tenantId, title, note, dueAt, remind, assigneeId, requestId, contactId, dealId, key, now, ctx.callerId, now],
        );
        const t = taskFromDb(rows[0]!);
        await this.schedule(em, t, now);
        this.publish(em, t, TASK_CREATED, now);
        return { task: t, replayed: false };
      });
    try {
      return await insert();
    } catch (err) {
      // The unique index is the backstop of the advisory lock: answer as a replay.
      if (key !== null && isUniqueViolation(err)) {
        const replay = await replayOf(this.orm.em.fork());
        if (replay) return replay;
      }
      throw err;
    }
  }

  async update(ctx: TenantContext, req: UpdateTaskRequest): Promise<TaskRow> {
    const id = checkId('UpdateTask', req.id);
    const now = new Date();
    const v: FieldViolation[] = [];
    const title = req.title === undefined ? undefined : checkTitle(v, req.title);
    const note = req.note === undefined ? undefined : checkNote(v, req.note);
    const dueAt = req.dueAt === undefined ? undefined : checkDue(v, req.dueAt, now);
    const remind = req.remindBeforeMinutes === undefined ? undefined : checkRemind(v, req.remindBeforeMinutes);
    let assigneeId = req.assigneeId;
    if (assigneeId !== undefined) {
      if (!UUID_RE.test(assigneeId)) v.push({ field: 'assignee_id', message: 'must be a UUID' });
      else assigneeId = assigneeId.toLowerCase();
    }
    if (!Number.isInteger(req.expectedVersion) || req.expectedVersion < 0) v.push({ field: 'expected_version', message: 'must be 0 (no check) or the version read' });
    invalid('UpdateTask', v);
    if (assigneeId !== undefined) {
      // The request link decides what a seller may do; read it first (the transaction re-checks the task).
      const current = await this.get(ctx, id);
      if (current.assigneeId !== assigneeId) await this.checkAssignee(ctx, assigneeId, current.requestId);
    }
    return this.orm.em.fork().transactional(async (em) => {
      const t = await this.lockVisible(em, ctx, id);
      if (req.expectedVersion > 0 && req.expectedVersion !== t.version)
        throw new DomainError('CONFLICT', `task ${id} is at version ${t.version}, not ${req.expectedVersion}`, {
          // details.public values travel as strings (x-error-details): the task as JSON text.
          details: { reason: 'version_mismatch', public: { current: JSON.stringify(Task.toJSON(toProtoTask(t, now))) } },
        });
      const next: TaskRow = {
        ...t,
        title: title ?? t.title,
        note: note === undefined ? t.note : note,
        dueAt: dueAt ?? t.dueAt,
        remindBeforeMinutes: remind ?? t.remindBeforeMinutes,
        assigneeId: assigneeId ?? t.assigneeId,
      };
      const remindMoved = remindAtOf(next).getTime() !== remindAtOf(t).getTime();
      const changed = next.title !== t.title || next.note !== t.note || remindMoved || next.dueAt.getTime() !== t.dueAt.getTime() || next.assigneeId !== t.assigneeId;
      if (!changed) return t;
      const rows = await em.execute<Record<string, unknown>[]>(
        `UPDATE tasks SET title = ?, note = ?, due_at = ?, remind_before_minutes = ?, assignee_id = ?,
           reminded_at = CASE WHEN ? THEN NULL ELSE reminded_at END, version = version + 1, updated_at = ?
         WHERE tenant_id = ? AND id = ? RETURNING *`,
        [next.title, next.note, next.dueAt, next.remindBeforeMinutes, next.assigneeId, remindMoved, now, ctx.tenantId, id],
      );
      const after = taskFromDb(rows[0]!);
      if (remindMoved) await this.schedule(em, after, now);
      this.publish(em, after, TASK_UPDATED, now);
      return after;
    });
  }

  /** done = true marks it done (its reminder cancelled); false reopens it (reminded again when not yet due). */
  async complete(ctx: TenantContext, req: CompleteTaskRequest): Promise<TaskRow> {
    const id = checkId('CompleteTask', req.id);
    return this.orm.em.fork().transactional(async (em) => {
      const t = await this.lockVisible(em, ctx, id);
      const want = req.done ? 'done' : 'open';
      if (t.status === want) return t;
      const now = new Date();
      const rows = await em.execute<Record<string, unknown>[]>(
        `UPDATE tasks SET status = ?, done_at = ?, reminded_at = CASE WHEN ? = 'open' THEN NULL ELSE reminded_at END,
           version = version + 1, updated_at = ? WHERE tenant_id = ? AND id = ? RETURNING *`,
        [want, req.done ? now : null, want, now, ctx.tenantId, id],
      );
      const after = taskFromDb(rows[0]!);
      await this.schedule(em, after, now);
      this.publish(em, after, TASK_UPDATED, now);
      return after;
    });
  }

  async delete(ctx: TenantContext, rawId: string): Promise<void> {
    const id = checkId('DeleteTask', rawId);
    await this.orm.em.fork().transactional(async (em) => {
      await this.lockVisible(em, ctx, id);
      const now = new Date();
      const rows = await em.execute<Record<string, unknown>[]>('UPDATE tasks SET deleted_at = ?, version = version + 1, updated_at = ? WHERE tenant_id = ? AND id = ? RETURNING *', [
        now,
        now,
        ctx.tenantId,
        id,
      ]);
      const after = taskFromDb(rows[0]!);
      await cancelTaskReminder(em, id);
      this.publish(em, after, TASK_UPDATED, now, true);
    });
  }

  async get(ctx: TenantContext, rawId: string): Promise<TaskRow> {
    const id = checkId('GetTask', rawId);
    const vis = await this.visibleSql(ctx, visibilityOf(ctx));
    const rows = await this.orm.em
      .fork()
      .execute<Record<string, unknown>[]>(`SELECT t.* FROM tasks t WHERE t.tenant_id = ? AND t.id = ? AND t.deleted_at IS NULL AND ${vis.sql}`, [ctx.tenantId, id, ...vis.params]);
    if (!rows[0]) throw new NotFoundError('task', id);
    return taskFromDb(rows[0]);
  }

  async list(ctx: TenantContext, req: ListTasksRequest): Promise<{ tasks: TaskRow[]; nextCursor: string }> {
    const v: FieldViolation[] = [];
    const status = req.status === '' ? 'open' : req.status;
    if (status !== 'open' && status !== 'done' && status !== 'all') v.push({ field: 'status', message: 'must be open, done or all' });
    let pageSize = PAGE_DEFAULT;
    if (req.pageSize !== 0) {
      if (!Number.isInteger(req.pageSize) || req.pageSize < 1 || req.pageSize > PAGE_MAX) v.push({ field: 'page_size', message: `must be between 1 and ${PAGE_MAX} (0 means ${PAGE_DEFAULT})` });
      else pageSize = req.pageSize;
    }
    let assignee: string | null = null;
    if (req.assigneeId === '') {
      if (ctx.callerKind === 'user') assignee = ctx.callerId;
    } else if (req.assigneeId !== 'any') {
      if (!UUID_RE.test(req.assigneeId)) v.push({ field: 'assignee_id', message: 'must be a UUID, empty (mine) or any' });
      else assignee = req.assigneeId.toLowerCase();
    }
    const requestId = checkUuid(v, 'request_id', req.requestId);
    let dueBefore: Date | null = null;
    if (req.dueBefore !== '') {
      const t = RFC3339_RE.test(req.dueBefore) ? Date.parse(req.dueBefore) : NaN;
      if (Number.isNaN(t)) v.push({ field: 'due_before', message: 'must be an RFC 3339 time' });
      else dueBefore = new Date(t);
    }
    invalid('ListTasks', v);
    const cursor = req.cursor === '' ? null : decodeCursor(req.cursor);
    const now = new Date();

    const vis = await this.visibleSql(ctx, visibilityOf(ctx));
    const where = ['t.tenant_id = ?', 't.deleted_at IS NULL', vis.sql];
    const params: unknown[] = [ctx.tenantId, ...vis.params];
    if (assignee !== null) {
      where.push('t.assignee_id = ?');
      params.push(assignee);
    }
    if (requestId !== null) {
      where.push('t.request_id = ?');
      params.push(requestId);
    }
    if (dueBefore !== null) {
      where.push('t.due_at < ?');
      params.push(dueBefore);
    }
    if (req.overdueOnly) {
      where.push(`t.status = 'open' AND t.due_at < ?`);
      params.push(now);
    }
    const em = this.orm.em.fork();
    const page = async (phase: 'open' | 'done', after: Cursor | null, limit: number): Promise<TaskRow[]> => {
      const w = [...where, 't.status = ?'];
      const p = [...params, phase];
      if (after) {
        w.push(phase === 'open' ? '(t.due_at, t.id) > (?::timestamptz, ?::uuid)' : '(t.done_at, t.id) < (?::timestamptz, ?::uuid)');
        p.push(after.t, after.i);
      }
      const order = phase === 'open' ? 't.due_at ASC, t.id ASC' : 't.done_at DESC, t.id DESC';
      const rows = await em.execute<Record<string, unknown>[]>(`SELECT t.* FROM tasks t WHERE ${w.join(' AND ')} ORDER BY ${order} LIMIT ?`, [...p, limit]);
      return rows.map(taskFromDb);
    };
    const phases: ('open' | 'done')[] = status === 'all' ? ['open', 'done'] : [status as 'open' | 'done'];
    const out: TaskRow[] = [];
    let started = cursor === null;
    for (const phase of phases) {
      if (!started && cursor!.s !== phase) continue;
      const after = !started && cursor!.s === phase ? cursor : null;
      started = true;
      out.push(...(await page(phase, after, pageSize + 1 - out.length)));
      if (out.length > pageSize) break;
    }
    const tasks = out.slice(0, pageSize);
    const last = tasks[tasks.length - 1];
    let nextCursor = '';
    if (last && out.length > pageSize) nextCursor = encodeCursor({ s: last.status, t: (last.status === 'open' ? last.dueAt : last.doneAt!).toISOString(), i: last.id });
    return { tasks, nextCursor };
  }
}
