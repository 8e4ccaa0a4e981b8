/**
 * Working the request (crm.intake.v1.WorkflowService): the lifecycle, assignment, first response, the
 * axes a person sets, department moves, history, bulk actions, counters, "my work" and saved views.
 *
 * Every change is one transaction: the row is locked (`FOR UPDATE`) scoped by tenant and by what the
 * caller may see (workflow/visibility.ts; invisible = NOT_FOUND), `expected_version` is compared
 * (ABORTED with the current request), the change is applied with `version = version + 1`, every changed
 * field gets a `request_history` row, the events go through the outbox and the timers (SLA, revisit)
 * are added or removed — all committed together or not at all.
 */
import {
  RequestAssigned,
  RequestAxisChanged,
  RequestFirstResponse,
  RequestStateChanged,
} from '@crm/contracts/crm/intake/events/v1/request_events';
import { TaskCreated, TaskUpdated } from '@crm/contracts/crm/intake/events/v1/task_events';
import { Request } from '@crm/contracts/crm/intake/v1/request';
import type { GetMyWorkResponse, HistoryEntry, SavedView } from '@crm/contracts/crm/intake/v1/workflow';
import { uuidv7, type EntityManager, type MikroORM } from '@crm/db';
import { DomainError, NotFoundError, ValidationError, type FieldViolation } from '@crm/errors';
import type { TenantContext } from '@crm/grpc';
import { enqueueEvent, type Codec } from '@crm/kafka';
import type { Logger } from '@crm/logger';
import { instantOf, localDay } from '@crm/schedule';
import type { CountryCode } from 'libphonenumber-js';
import { RequestSchema, type RequestRow } from '../db/entities/request.entity';
import { prepareId } from '../domain/comment';
import { prepareListFilter, type ListRequestsInput } from '../domain/list-filter';
import { REQUEST_STATES, charLength, type MeaningAxisValue, type QualificationAxisValue, type RequestStateName } from '../domain/types';
import {
  EVENT_SOURCE,
  REQUEST_ASSIGNED,
  REQUEST_AXIS_CHANGED,
  REQUEST_FIRST_RESPONSE,
  REQUEST_STATE_CHANGED,
  REQUEST_TOPIC,
  TASK_CREATED,
  TASK_TOPIC,
  TASK_UPDATED,
} from '../events';
import { toProtoRequest } from '../mappers';
import { listWhere } from '../requests.service';
import { taskFromDb, toProtoTask } from '../tasks/task-row';
import type { Roster, TeamDirectory } from '../team';
import { cancelRevisit, cancelSlaBreach, scheduleRevisit } from '../timers/scheduler';
import { readHistory, writeHistory, type Actor, type HistoryChange } from './history';
import { illegalMove, OPEN_STATES, plan, reasonOf, refusalError, TRANSITIONS, type PlannedChange } from './machine';
import { stateEnum } from './names';
import { visibilityFor, visibilitySql, type Visibility } from './visibility';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

export const BULK_MAX = 200;
export const VIEW_NAME_MAX = 100;
export const VIEW_QUERY_MAX = 2000;
export const VIEWS_PER_USER_MAX = 100;
const FIRST_RESPONSE_VIA = ['call', 'chat', 'email', 'manual'] as const;
const MEANINGS: readonly MeaningAxisValue[] = ['unknown', 'targeted', 'non_targeted'];
const QUALIFICATIONS: readonly QualificationAxisValue[] = ['pending', 'lead', 'not_lead'];

/** What a transition call brings (state and trash reason as names; '' for unspecified). */
export interface TransitionInput {
  id: string;
  expectedVersion: number;
  to: string;
  reason?: string;
  trashReason?: string;
  trashNote?: string;
  revisitAt?: string;
  dealId?: string;
  clientCardId?: string;
  assigneeId?: string;
}

export interface AssignInput {
  id: string;
  expectedVersion: number;
  assigneeId: string;
  take: boolean;
}

export type AssignCause = 'manual' | 'take' | 'bulk';

export interface BulkItem {
  id: string;
  ok: boolean;
  code: string;
  message: string;
  request?: RequestRow;
}

export interface Counts {
  counts: { state: RequestStateName; count: number }[];
  total: number;
  slaBreachedOpen: number;
}

/** A change being built inside the locked transaction. */
class Change {
  readonly patch: Partial<RequestRow> = {};
  readonly history: HistoryChange[] = [];
  /** Outbox events, made from the row after the change. */
  readonly events: ((em: EntityManager, after: RequestRow) => void)[] = [];
  /** Timer and task statements, run after the row was updated. */
  readonly effects: ((em: EntityManager, after: RequestRow) => Promise<void>)[] = [];

  constructor(
    readonly before: RequestRow,
    readonly actor: Actor,
    readonly at: Date,
  ) {}

  set<K extends keyof RequestRow>(key: K, value: RequestRow[K]): void {
    this.patch[key] = value;
  }

  get empty(): boolean {
    return Object.keys(this.patch).length === 0;
  }
}

/** The gRPC status name a domain code answers with (bulk results carry it). */
function statusName(code: string): string {
  return code === 'CONFLICT' ? 'ABORTED' : code;
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

function actorOf(ctx: TenantContext): Actor {
  return { kind: ctx.callerKind, id: ctx.callerId };
}

function asUuid(v: string): string | null {
  return UUID_RE.test(v) ? v.toLowerCase() : null;
}

/** The request as proto JSON (Request.toJSON), the `current` of a version conflict. */
export function currentJson(row: RequestRow): string {
  return JSON.stringify(Request.toJSON(toProtoRequest(row)));
}

function versionOf(what: string, v: number): number {
  if (!Number.isInteger(v) || v < 0) throw new ValidationError(`${what} is invalid: expected_version must be 0 (no check) or a version`, [{ field: 'expected_version', message: 'must be 0 (no check) or a version' }]);
  return v;
}

function column(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

export class WorkflowService {
  constructor(
    private readonly orm: MikroORM,
    private readonly team: TeamDirectory,
    private readonly defaultCountry: CountryCode = 'RU',
    private readonly logger?: Logger,
  ) {}

  /** Maps a raw row without attaching it to any unit of work (nothing is flushed from it). */
  private mapRow(raw: Record<string, unknown>): RequestRow {
    return { ...this.orm.em.fork({ clear: true }).map(RequestSchema, raw) };
  }

  /** identity's roster, asked now (a person's explicit action): unreachable is UNAVAILABLE and nothing is written. */
  private async freshRoster(tenantId: string): Promise<Roster> {
    try {
      return await this.team.roster(tenantId, { fresh: true });
    } catch (err) {
      this.logger?.warn({ err, tenantId }, 'identity unreachable: the assignment cannot be checked');
      throw new DomainError('UNAVAILABLE', 'identity is unavailable, so the assignee cannot be checked; nothing was changed — retry later', { cause: err });
    }
  }

  /**
   * The assignee guard: an active user of the tenant (deactivated users are not in the roster), not
   * away, working in the request's department (when it has one). Off shift is allowed for a person's
   * explicit choice and refused in bulk.
   */
  private checkAssignee(roster: Roster, assigneeId: string, departmentId: string | null, bulk: boolean): void {
    const user = roster.users.get(assigneeId);
    const refuse = (message: string) => {
      throw new ValidationError(`assignee_id ${message}`, [{ field: 'assignee_id', message }]);
    };
    if (!user) return refuse('is not an active user of the tenant (unknown or deactivated)');
    if (user.away) return refuse('is away');
    if (departmentId !== null && !user.departmentIds.includes(departmentId)) return refuse("does not work in the request's department");
    if (bulk && !user.onShift) return refuse('is off shift (bulk assignment picks only people on shift)');
  }

  /**
   * The one write path: lock the visible row, compare the version, let `build` describe the change,
   * then update, history, events and timers in the same transaction. A change that sets nothing
   * returns the row as it is (no version bump, no event).
   */
  private mutate(
    ctx: TenantContext,
    what: string,
    rawId: string,
    expectedVersion: number,
    build: (c: Change) => void | Promise<void>,
    /** The caller's transaction (a consumer's): the change runs in a savepoint of it. */
    outer?: EntityManager,
  ): Promise<RequestRow> {
    const id = prepareId(what, 'id', rawId);
    const expected = versionOf(what, expectedVersion);
    const vis = visibilitySql(visibilityFor(ctx));
    return (outer ?? this.orm.em.fork()).transactional(async (em) => {
      const raw = await em.execute<Record<string, unknown>[]>(`SELECT * FROM requests WHERE tenant_id = ? AND id = ? AND ${vis.sql} FOR UPDATE`, [ctx.tenantId, id, ...vis.params]);
      if (!raw.length) throw new NotFoundError('request', id);
      const before = this.mapRow(raw[0]);
      if (expected !== 0 && before.version !== expected) {
        throw new DomainError('CONFLICT', `request ${id} is at version ${before.version}, not ${expected}: reload it and try again`, {
          details: { reason: 'version_mismatch', public: { current: currentJson(before) } },
        });
      }
      const change = new Change(before, actorOf(ctx), new Date());
      await build(change);
      if (change.empty) return before;
      const keys = Object.keys(change.patch) as (keyof RequestRow)[];
      const sets = keys.map((k) => `${column(k)} = ?`);
      const params = keys.map((k) => {
        const v = change.patch[k];
        return v instanceof Date ? v.toISOString() : v;
      });
      const updated = await em.execute<Record<string, unknown>[]>(
        `UPDATE requests SET ${sets.join(', ')}, version = version + 1 WHERE tenant_id = ? AND id = ? RETURNING *`,
        [...params, ctx.tenantId, id],
      );
      const after = this.mapRow(updated[0]);
      await writeHistory(em, ctx.tenantId, id, change.actor, change.at, change.history);
      for (const e of change.effects) await e(em, after);
      for (const e of change.events) e(em, after);
      return after;
    });
  }

  private event<T>(c: Change, type: string, codec: Codec<T>, payload: (after: RequestRow) => T): void {
    c.events.push((em, after) =>
      enqueueEvent(em, { topic: REQUEST_TOPIC, type, codec, payload: payload(after), subject: after.id, tenantId: after.tenantId, source: EVENT_SOURCE }),
    );
  }

  private stateEvent(c: Change, from: RequestStateName, to: RequestStateName, reason: string | null): void {
    this.event(c, REQUEST_STATE_CHANGED, RequestStateChanged, (after) => ({
      request: toProtoRequest(after),
      from: stateEnum(from),
      to: stateEnum(to),
      actor: c.actor,
      reason: reason ?? '',
      at: c.at.toISOString(),
    }));
  }

  private assignedEvent(c: Change, cause: string): void {
    const { assigneeId, departmentId } = c.before;
    this.event(c, REQUEST_ASSIGNED, RequestAssigned, (after) => ({
      request: toProtoRequest(after),
      previousAssigneeId: assigneeId ?? '',
      previousDepartmentId: departmentId ?? '',
      actor: c.actor,
      cause,
      at: c.at.toISOString(),
    }));
  }

  /** Sets the assignee (history + RequestAssigned) when it differs. */
  private setAssignee(c: Change, assigneeId: string | null, cause: string, reason: string | null = null): void {
    if ((c.before.assigneeId ?? null) === assigneeId) return;
    c.set('assigneeId', assigneeId);
    c.history.push({ field: 'assignee', from: c.before.assigneeId, to: assigneeId, reason, details: { cause } });
    this.assignedEvent(c, cause);
  }

  private setState(c: Change, to: RequestStateName, reason: string | null, details: Record<string, unknown> = {}): void {
    const from = c.before.state;
    c.set('state', to);
    c.set('stateChangedAt', c.at);
    c.set('stateReason', reason);
    c.history.push({ field: 'state', from, to, reason, details });
    this.stateEvent(c, from, to, reason);
  }

  /** The first response (once): history, RequestFirstResponse, the SLA timer removed. */
  private firstResponse(c: Change, at: Date, userId: string | null, via: string): void {
    if (c.before.firstResponseAt !== null) return;
    c.set('firstResponseAt', at);
    c.set('firstResponseBy', userId);
    c.history.push({ field: 'first_response', from: null, to: at.toISOString(), details: { via, user_id: userId ?? '' } });
    c.effects.push((em, after) => cancelSlaBreach(em, after.id));
    const speed = Math.max(0, at.getTime() - c.before.createdAt.getTime());
    this.event(c, REQUEST_FIRST_RESPONSE, RequestFirstResponse, (after) => ({
      request: toProtoRequest(after),
      at: at.toISOString(),
      userId: userId ?? '',
      via,
      speedToLeadMs: speed,
    }));
  }

  /** Applies a planned lifecycle move to the change. */
  private applyPlan(c: Change, p: PlannedChange, ctx: TenantContext): void {
    const details: Record<string, unknown> = {};
    if (p.trashReason) details.trash_reason = p.trashReason;
    if (p.trashNote) details.trash_note = p.trashNote;
    if (p.revisitAt) details.revisit_at = p.revisitAt.toISOString();
    if (p.dealId) details.deal_id = p.dealId;
    if (p.clientCardId) details.client_card_id = p.clientCardId;
    this.setState(c, p.to, p.reason, details);
    if (p.assigneeId !== undefined) this.setAssignee(c, p.assigneeId, p.to === 'new' ? 'manual' : p.from === 'new' && p.to === 'in_progress' ? 'take' : 'manual', p.reason);
    if (p.trashReason !== undefined) c.set('trashReason', p.trashReason);
    if (p.trashNote !== undefined) c.set('trashNote', p.trashNote);
    if (p.dealId !== undefined) c.set('dealId', p.dealId);
    if (p.clientCardId !== undefined) c.set('clientCardId', p.clientCardId);
    if (p.revisitAt !== undefined) {
      c.set('revisitAt', p.revisitAt);
      c.history.push({ field: 'revisit', from: c.before.revisitAt?.toISOString() ?? null, to: p.revisitAt?.toISOString() ?? null });
    }
    if (p.cancelSla) c.effects.push((em, after) => cancelSlaBreach(em, after.id));
    if (p.firstResponse) this.firstResponse(c, c.at, asUuid(ctx.callerId), 'manual');
    if (p.scheduleRevisit && p.revisitAt) {
      const revisitAt = p.revisitAt;
      const deferredBy = ctx.callerKind === 'user' ? asUuid(ctx.callerId) : null;
      c.set('deferredBy', deferredBy);
      // The revisit task goes to the deferring user, else (an API key) to the assignee; nobody: no task.
      const taskAssignee = deferredBy ?? c.before.assigneeId;
      c.effects.push(async (em, after) => {
        await scheduleRevisit(em, after.tenantId, after.id, revisitAt);
        if (taskAssignee) await this.createRevisitTask(em, after, taskAssignee, revisitAt, ctx.callerId);
      });
    }
    if (p.cancelRevisit) {
      c.set('deferredBy', null);
      c.effects.push(async (em, after) => {
        await cancelRevisit(em, after.id);
        await this.closeRevisitTasks(em, after, c.at);
      });
    }
  }

  private async createRevisitTask(em: EntityManager, request: RequestRow, assigneeId: string, dueAt: Date, createdBy: string): Promise<void> {
    const now = new Date();
    const title = `Revisit: ${request.name ?? request.phone ?? request.email ?? request.id}`.slice(0, 200);
    const rows = await em.execute<Record<string, unknown>[]>(
      `INSERT INTO tasks (id, tenant_id, title, note, due_at, remind_before_minutes, assignee_id, request_id, contact_id, status, kind, version, created_at, created_by, updated_at)
       VALUES (?, ?, ?, NULL, ?::timestamptz, 0, ?, ?, ?, 'open', 'revisit', 1, ?::timestamptz, ?, ?::timestamptz) RETURNING *`,
      [uuidv7(), request.tenantId, title, dueAt.toISOString(), assigneeId, request.id, request.contactId, now.toISOString(), createdBy, now.toISOString()],
    );
    const task = taskFromDb(rows[0]);
    enqueueEvent(em, { topic: TASK_TOPIC, type: TASK_CREATED, codec: TaskCreated, payload: { task: toProtoTask(task, now) }, subject: task.id, tenantId: task.tenantId, source: EVENT_SOURCE });
  }

  private async closeRevisitTasks(em: EntityManager, request: RequestRow, at: Date): Promise<void> {
    const rows = await em.execute<Record<string, unknown>[]>(
      `UPDATE tasks SET status = 'done', done_at = ?::timestamptz, updated_at = ?::timestamptz, version = version + 1
       WHERE tenant_id = ? AND request_id = ? AND kind = 'revisit' AND status = 'open' AND deleted_at IS NULL RETURNING *`,
      [at.toISOString(), at.toISOString(), request.tenantId, request.id],
    );
    for (const r of rows) {
      const task = taskFromDb(r);
      enqueueEvent(em, { topic: TASK_TOPIC, type: TASK_UPDATED, codec: TaskUpdated, payload: { task: toProtoTask(task, at), deleted: false }, subject: task.id, tenantId: task.tenantId, source: EVENT_SOURCE });
    }
  }

  // ---- RPCs -------------------------------------------------------------------------------------

  async transition(ctx: TenantContext, input: TransitionInput, opts: { bulk?: boolean; roster?: Roster } = {}): Promise<RequestRow> {
    const to = input.to.trim();
    if (to === '') throw new ValidationError('TransitionRequest is invalid: to is required', [{ field: 'to', message: 'is required (a request state)' }]);
    const roster = to === 'assigned' ? (opts.roster ?? (await this.freshRoster(ctx.tenantId))) : null;
    return this.mutate(ctx, 'TransitionRequest', input.id, input.expectedVersion, (c) => {
      const r = plan(c.before.state, to, { ...input, callerId: ctx.callerId, now: c.at });
      if (!r.ok) throw refusalError(r.refusal);
      if (r.change.checkAssignee && roster && r.change.assigneeId) this.checkAssignee(roster, r.change.assigneeId, c.before.departmentId, opts.bulk ?? false);
      this.applyPlan(c, r.change, ctx);
    });
  }

  /**
   * The conversion saga's second half (funnel's `request_linked`, services/intake/src/kafka/crm.funnel.deal.v1.consumer.ts):
   * moves the request to `converted` / `attached` with the deal through the same plan as TransitionRequest,
   * in `outer` (the consumer's transaction; a savepoint of it, so a refusal leaves it usable). A request
   * already in that state with that deal is left as it is (`changed: false`); any other refusal (a
   * terminal state, trash, deferred, another deal) is thrown as TransitionRequest would answer it.
   */
  async linkDeal(ctx: TenantContext, input: { requestId: string; dealId: string; kind: 'converted' | 'attached' }, outer?: EntityManager): Promise<{ request: RequestRow; changed: boolean }> {
    let changed = false;
    const dealId = input.dealId.trim().toLowerCase();
    const request = await this.mutate(
      ctx,
      'LinkDeal',
      input.requestId,
      0,
      (c) => {
        if (c.before.state === input.kind && c.before.dealId === dealId) return;
        const r = plan(c.before.state, input.kind, { dealId, callerId: ctx.callerId, now: c.at });
        if (!r.ok) throw refusalError(r.refusal);
        this.applyPlan(c, r.change, ctx);
        changed = true;
      },
      outer,
    );
    return { request, changed };
  }

  async assign(ctx: TenantContext, input: AssignInput, cause: AssignCause = input.take ? 'take' : 'manual', roster?: Roster): Promise<RequestRow> {
    const raw = input.assigneeId.trim();
    const violations: FieldViolation[] = [];
    let assigneeId: string | null = null;
    if (input.take && raw !== '') violations.push({ field: 'assignee_id', message: 'must be empty when take is true' });
    else if (input.take) {
      // A caller who cannot take (an API key, a service) is told so once the request is found: another
      // tenant's id answers NOT_FOUND whatever the body says.
      assigneeId = ctx.callerKind === 'user' ? asUuid(ctx.callerId) : null;
    } else if (raw === '') violations.push({ field: 'assignee_id', message: 'is required (or take = true)' });
    else if (!UUID_RE.test(raw)) violations.push({ field: 'assignee_id', message: 'must be a UUID' });
    else assigneeId = raw.toLowerCase();
    // The id is checked first so a malformed one is named with the others.
    if (input.id.trim() === '' || !UUID_RE.test(input.id.trim())) violations.unshift({ field: 'id', message: input.id.trim() === '' ? 'is required' : 'must be a UUID' });
    if (violations.length) throw new ValidationError(`AssignRequest is invalid: ${violations.map((v) => `${v.field} ${v.message}`).join('; ')}`, violations);
    const r = roster ?? (await this.freshRoster(ctx.tenantId));
    return this.mutate(ctx, 'AssignRequest', input.id, input.expectedVersion, (c) => {
      const state = c.before.state;
      if (assigneeId === null) throw new ValidationError('take needs a user caller', [{ field: 'take', message: 'needs a user caller (an API key or a service cannot take a request)' }]);
      if (state !== 'new' && state !== 'assigned' && state !== 'in_progress') throw illegalMove(state, 'assigned');
      if (c.before.assigneeId === assigneeId) return;
      this.checkAssignee(r, assigneeId!, c.before.departmentId, cause === 'bulk');
      if (state === 'new') this.setState(c, 'assigned', null);
      this.setAssignee(c, assigneeId, cause);
    });
  }

  async markAnswered(ctx: TenantContext, input: { id: string; expectedVersion: number }): Promise<RequestRow> {
    return this.mutate(ctx, 'MarkAnswered', input.id, input.expectedVersion, (c) => {
      const state = c.before.state;
      if (state === 'in_progress') {
        this.firstResponse(c, c.at, asUuid(ctx.callerId), 'manual');
        return;
      }
      if (state !== 'new' && state !== 'assigned') throw illegalMove(state, 'in_progress');
      const r = plan(state, 'in_progress', { callerId: ctx.callerId, now: c.at });
      if (!r.ok) throw refusalError(r.refusal);
      this.applyPlan(c, r.change, ctx);
    });
  }

  /** Channel services' first response: idempotent (the first is kept), no version check. */
  async recordFirstResponse(ctx: TenantContext, input: { requestId: string; at: string; userId: string; via: string }): Promise<{ request: RequestRow; recorded: boolean }> {
    const violations: FieldViolation[] = [];
    const now = new Date();
    let at = now;
    const rawAt = input.at.trim();
    if (rawAt !== '') {
      const ms = Date.parse(rawAt);
      if (!RFC3339_RE.test(rawAt) || Number.isNaN(ms)) violations.push({ field: 'at', message: 'must be an RFC 3339 timestamp' });
      else if (ms > now.getTime() + 60_000) violations.push({ field: 'at', message: 'must not be in the future' });
      else at = new Date(ms);
    }
    const rawUser = input.userId.trim();
    const userId = rawUser === '' ? null : asUuid(rawUser);
    if (rawUser !== '' && userId === null) violations.push({ field: 'user_id', message: 'must be a UUID' });
    const via = input.via.trim() || 'manual';
    if (!(FIRST_RESPONSE_VIA as readonly string[]).includes(via)) violations.push({ field: 'via', message: `must be one of ${FIRST_RESPONSE_VIA.join(', ')}` });
    if (input.requestId.trim() === '' || !UUID_RE.test(input.requestId.trim())) violations.unshift({ field: 'request_id', message: input.requestId.trim() === '' ? 'is required' : 'must be a UUID' });
    if (violations.length) throw new ValidationError(`RecordFirstResponse is invalid: ${violations.map((v) => `${v.field} ${v.message}`).join('; ')}`, violations);
    let recorded = false;
    const request = await this.mutate(ctx, 'RecordFirstResponse', input.requestId, 0, (c) => {
      if (c.before.firstResponseAt !== null) return;
      recorded = true;
      const first = at.getTime() < c.before.createdAt.getTime() ? c.before.createdAt : at;
      this.firstResponse(c, first, userId, via);
      const state = c.before.state;
      if (state === 'new' || state === 'assigned') {
        this.setState(c, 'in_progress', `first response (${via})`);
        if (state === 'new' && userId !== null) this.setAssignee(c, userId, 'manual');
      }
    });
    return { request, recorded };
  }

  /**
   * Telephony's outcome of a phone request's call: `missed` (nobody answered) and/or `recoveredAt` (a
   * callback connected; the request stays missed and keeps the first time). Idempotent, no version check:
   * a repeat changes nothing; each real change is a history row and an `axis_changed` event (axis
   * `missed` / `missed_recovered`).
   */
  async setCallOutcome(ctx: TenantContext, input: { requestId: string; missed: boolean; recoveredAt: string }): Promise<{ request: RequestRow; changed: boolean }> {
    const violations: FieldViolation[] = [];
    if (input.requestId.trim() === '' || !UUID_RE.test(input.requestId.trim())) violations.push({ field: 'request_id', message: input.requestId.trim() === '' ? 'is required' : 'must be a UUID' });
    let recoveredAt: Date | null = null;
    const rawAt = input.recoveredAt.trim();
    if (rawAt !== '') {
      const ms = Date.parse(rawAt);
      if (!RFC3339_RE.test(rawAt) || Number.isNaN(ms)) violations.push({ field: 'recovered_at', message: 'must be an RFC 3339 timestamp' });
      else if (ms > Date.now() + 60_000) violations.push({ field: 'recovered_at', message: 'must not be in the future' });
      else recoveredAt = new Date(ms);
    }
    if (!input.missed && recoveredAt === null && !violations.length) violations.push({ field: 'missed', message: 'or recovered_at is required' });
    if (violations.length) throw new ValidationError(`SetCallOutcome is invalid: ${violations.map((v) => `${v.field} ${v.message}`).join('; ')}`, violations);
    let changed = false;
    const request = await this.mutate(ctx, 'SetCallOutcome', input.requestId, 0, (c) => {
      if (c.before.channel !== 'phone') throw new DomainError('FAILED_PRECONDITION', `request ${c.before.id} is not a phone request`, { details: { reason: 'not_a_phone_request' } });
      if (!c.before.missed) {
        changed = true;
        this.axis(c, 'missed', 'false', 'true', null, () => c.set('missed', true));
      }
      if (recoveredAt !== null && c.before.missedRecoveredAt === null) {
        changed = true;
        const at = recoveredAt;
        this.axis(c, 'missed_recovered', '', at.toISOString(), null, () => c.set('missedRecoveredAt', at));
      }
    });
    return { request, changed };
  }

  async setAxes(ctx: TenantContext, input: { id: string; expectedVersion: number; meaning: string; qualification: string; reason: string }): Promise<RequestRow> {
    const violations: FieldViolation[] = [];
    const meaning = input.meaning.trim();
    const qualification = input.qualification.trim();
    if (meaning !== '' && !(MEANINGS as readonly string[]).includes(meaning)) violations.push({ field: 'meaning', message: 'is not a known value' });
    if (qualification !== '' && !(QUALIFICATIONS as readonly string[]).includes(qualification)) violations.push({ field: 'qualification', message: 'is not a known value' });
    if (meaning === '' && qualification === '' && !violations.length) violations.push({ field: 'meaning', message: 'or qualification is required' });
    const reason = reasonOf(input.reason, violations);
    if (violations.length) throw new ValidationError(`SetAxes is invalid: ${violations.map((v) => `${v.field} ${v.message}`).join('; ')}`, violations);
    return this.mutate(ctx, 'SetAxes', input.id, input.expectedVersion, (c) => {
      if (meaning !== '' && meaning !== c.before.meaningAxis) this.axis(c, 'meaning', c.before.meaningAxis, meaning, reason, () => c.set('meaningAxis', meaning as MeaningAxisValue));
      if (qualification !== '' && qualification !== c.before.qualificationAxis)
        this.axis(c, 'qualification', c.before.qualificationAxis, qualification, reason, () => c.set('qualificationAxis', qualification as QualificationAxisValue));
    });
  }

  private axis(c: Change, axis: string, from: string, to: string, reason: string | null, set: () => void): void {
    set();
    c.history.push({ field: axis, from, to, reason });
    this.event(c, REQUEST_AXIS_CHANGED, RequestAxisChanged, (after) => ({ request: toProtoRequest(after), axis, from, to, actor: c.actor, at: c.at.toISOString() }));
  }

  async moveToDepartment(ctx: TenantContext, input: { id: string; expectedVersion: number; departmentId: string; reason: string }): Promise<RequestRow> {
    const violations: FieldViolation[] = [];
    const raw = input.departmentId.trim();
    if (raw === '') violations.push({ field: 'department_id', message: 'is required' });
    else if (!UUID_RE.test(raw)) violations.push({ field: 'department_id', message: 'must be a UUID' });
    const reason = reasonOf(input.reason, violations);
    if (input.id.trim() === '' || !UUID_RE.test(input.id.trim())) violations.unshift({ field: 'id', message: input.id.trim() === '' ? 'is required' : 'must be a UUID' });
    if (violations.length) throw new ValidationError(`MoveToDepartment is invalid: ${violations.map((v) => `${v.field} ${v.message}`).join('; ')}`, violations);
    const departmentId = raw.toLowerCase();
    const roster = await this.freshRoster(ctx.tenantId);
    return this.mutate(ctx, 'MoveToDepartment', input.id, input.expectedVersion, (c) => {
      // Checked once the request is found (another tenant's id is NOT_FOUND whatever the department).
      if (!roster.departments.has(departmentId)) throw new ValidationError('department_id is not a department of the tenant', [{ field: 'department_id', message: 'is not a department of the tenant' }]);
      const state = c.before.state;
      if (!OPEN_STATES.includes(state)) throw illegalMove(state, '', TRANSITIONS[state]);
      if (c.before.departmentId === departmentId && state === 'new' && c.before.assigneeId === null) return;
      c.set('departmentId', departmentId);
      c.history.push({ field: 'department', from: c.before.departmentId, to: departmentId, reason });
      if (c.before.assigneeId !== null) {
        c.set('assigneeId', null);
        c.history.push({ field: 'assignee', from: c.before.assigneeId, to: null, reason, details: { cause: 'department' } });
      }
      // One RequestAssigned names the previous department and assignee.
      this.assignedEvent(c, 'manual');
      if (state !== 'new') this.setState(c, 'new', reason ?? 'moved to another department');
    });
  }

  async history(ctx: TenantContext, rawId: string): Promise<HistoryEntry[]> {
    const id = prepareId('GetRequestHistory', 'id', rawId);
    const em = this.orm.em.fork();
    const vis = visibilitySql(visibilityFor(ctx));
    const found = await em.execute(`SELECT 1 FROM requests WHERE tenant_id = ? AND id = ? AND ${vis.sql}`, [ctx.tenantId, id, ...vis.params]);
    if (!found.length) throw new NotFoundError('request', id);
    return readHistory(em, ctx.tenantId, id);
  }

  private bulkIds(what: string, ids: string[]): string[] {
    const distinct = [...new Set(ids.map((i) => i.trim().toLowerCase()))];
    if (!distinct.length || (distinct.length === 1 && distinct[0] === '')) throw new ValidationError(`${what} is invalid: ids is required`, [{ field: 'ids', message: `must list 1..${BULK_MAX} request ids` }]);
    if (distinct.length > BULK_MAX) throw new ValidationError(`${what} is invalid: at most ${BULK_MAX} distinct ids`, [{ field: 'ids', message: `must list at most ${BULK_MAX} distinct ids` }]);
    return distinct;
  }

  /** Runs `one` per id, each in its own transaction; an id's failure is its result, never the call's. */
  private async bulk(ids: string[], one: (id: string) => Promise<RequestRow>): Promise<{ results: BulkItem[]; succeeded: number; failed: number }> {
    const results: BulkItem[] = [];
    for (const id of ids) {
      try {
        const request = await one(id);
        results.push({ id, ok: true, code: 'OK', message: '', request });
      } catch (err) {
        if (err instanceof DomainError) results.push({ id, ok: false, code: statusName(err.code), message: err.message });
        else {
          this.logger?.error({ err, id }, 'bulk item failed');
          results.push({ id, ok: false, code: 'INTERNAL', message: 'internal error' });
        }
      }
    }
    const succeeded = results.filter((r) => r.ok).length;
    return { results, succeeded, failed: results.length - succeeded };
  }

  async bulkAssign(ctx: TenantContext, input: { ids: string[]; assigneeId: string }): Promise<{ results: BulkItem[]; succeeded: number; failed: number }> {
    const ids = this.bulkIds('BulkAssign', input.ids);
    const raw = input.assigneeId.trim();
    if (!UUID_RE.test(raw)) throw new ValidationError('BulkAssign is invalid: assignee_id must be a UUID', [{ field: 'assignee_id', message: raw === '' ? 'is required' : 'must be a UUID' }]);
    // One roster for the whole call: identity unreachable fails the call before anything is written.
    const roster = await this.freshRoster(ctx.tenantId);
    return this.bulk(ids, (id) => this.assign(ctx, { id, expectedVersion: 0, assigneeId: raw, take: false }, 'bulk', roster));
  }

  async bulkTransition(
    ctx: TenantContext,
    input: { ids: string[]; to: string; reason: string; trashReason: string; trashNote: string; revisitAt: string },
  ): Promise<{ results: BulkItem[]; succeeded: number; failed: number }> {
    const ids = this.bulkIds('BulkTransition', input.ids);
    const to = input.to.trim();
    if (to === '') throw new ValidationError('BulkTransition is invalid: to is required', [{ field: 'to', message: 'is required (a request state)' }]);
    if (to === 'assigned') throw new ValidationError('BulkTransition is invalid: use BulkAssign to assign', [{ field: 'to', message: 'cannot be assigned here: use BulkAssign' }]);
    return this.bulk(ids, (id) => this.transition(ctx, { id, expectedVersion: 0, to, reason: input.reason, trashReason: input.trashReason, trashNote: input.trashNote, revisitAt: input.revisitAt }, { bulk: true }));
  }

  async count(ctx: TenantContext, filter: ListRequestsInput): Promise<Counts> {
    const f = prepareListFilter({ ...filter, states: [], cursor: '', pageSize: 0, order: '', callerId: ctx.callerId }, this.defaultCountry);
    const { where, params } = listWhere(ctx.tenantId, f, visibilityFor(ctx));
    const rows = await this.orm.em
      .fork()
      .execute<{ state: RequestStateName; n: number; breached: number }[]>(
        `SELECT state, count(*)::int AS n, (count(*) FILTER (WHERE sla_breached_at IS NOT NULL AND state IN ('new', 'assigned', 'in_progress')))::int AS breached
         FROM requests WHERE ${where.join(' AND ')} GROUP BY state`,
        params,
      );
    const by = new Map(rows.map((r) => [r.state, r]));
    const counts = REQUEST_STATES.map((state) => ({ state, count: Number(by.get(state)?.n ?? 0) }));
    return { counts, total: counts.reduce((s, c) => s + c.count, 0), slaBreachedOpen: rows.reduce((s, r) => s + Number(r.breached), 0) };
  }

  async myWork(ctx: TenantContext): Promise<GetMyWorkResponse> {
    const me = asUuid(ctx.callerId);
    let timeZone = 'UTC';
    try {
      timeZone = (await this.team.roster(ctx.tenantId)).tenantTimeZone || 'UTC';
    } catch (err) {
      this.logger?.warn({ err, tenantId: ctx.tenantId }, 'identity unreachable: "today" in UTC');
    }
    const now = new Date();
    const day = localDay(timeZone, now);
    const dayStart = instantOf(timeZone, day, 0).toISOString();
    const dayEnd = instantOf(timeZone, nextDay(day), 0).toISOString();
    const em = this.orm.em.fork();
    const v: Visibility = visibilityFor(ctx);
    const departments = v.all ? [...new Set([...(ctx.departmentIds ?? []), ...(ctx.headedDepartmentIds ?? [])])].filter((d) => UUID_RE.test(d)) : v.departmentIds;
    let assignedOpen = 0;
    let breached = 0;
    let revisitsToday = 0;
    if (me !== null) {
      const [mine] = await em.execute<{ open: number; breached: number }[]>(
        `SELECT count(*)::int AS open, (count(*) FILTER (WHERE sla_breached_at IS NOT NULL))::int AS breached
         FROM requests WHERE tenant_id = ? AND assignee_id = ?::uuid AND state IN ('assigned', 'in_progress')`,
        [ctx.tenantId, me],
      );
      assignedOpen = Number(mine.open);
      breached = Number(mine.breached);
      const [rev] = await em.execute<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM requests WHERE tenant_id = ? AND state = 'deferred' AND deferred_by = ?::uuid AND revisit_at >= ?::timestamptz AND revisit_at < ?::timestamptz`,
        [ctx.tenantId, me, dayStart, dayEnd],
      );
      revisitsToday = Number(rev.n);
    }
    const [tasks] = await em.execute<{ overdue: number; today: number }[]>(
      `SELECT (count(*) FILTER (WHERE due_at < ?::timestamptz))::int AS overdue,
              (count(*) FILTER (WHERE due_at >= ?::timestamptz AND due_at < ?::timestamptz))::int AS today
       FROM tasks WHERE tenant_id = ? AND assignee_id = ? AND status = 'open' AND deleted_at IS NULL`,
      [now.toISOString(), dayStart, dayEnd, ctx.tenantId, ctx.callerId],
    );
    let queueNew = 0;
    if (departments.length) {
      const [q] = await em.execute<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM requests WHERE tenant_id = ? AND state = 'new' AND department_id IN (${departments.map(() => '?::uuid').join(', ')})`,
        [ctx.tenantId, ...departments],
      );
      queueNew = Number(q.n);
    } else if (v.all) {
      // An admin with no department of their own: the tenant's whole queue.
      const [q] = await em.execute<{ n: number }[]>(`SELECT count(*)::int AS n FROM requests WHERE tenant_id = ? AND state = 'new'`, [ctx.tenantId]);
      queueNew = Number(q.n);
    }
    return {
      assignedOpen,
      breached,
      overdueTasks: Number(tasks.overdue),
      tasksDueToday: Number(tasks.today),
      revisitsToday,
      queueNew,
    };
  }

  // ---- Saved views ------------------------------------------------------------------------------

  async saveView(ctx: TenantContext, input: { id: string; name: string; query: string }): Promise<SavedView> {
    const violations: FieldViolation[] = [];
    const name = input.name.trim();
    const query = input.query.trim().replace(/^\?/, '');
    const rawId = input.id.trim();
    if (rawId !== '' && !UUID_RE.test(rawId)) violations.push({ field: 'id', message: 'must be a UUID (or empty for a new view)' });
    if (name === '') violations.push({ field: 'name', message: 'is required' });
    else if (name.includes('\u0000')) violations.push({ field: 'name', message: 'must not contain NUL characters' });
    else if (charLength(name) > VIEW_NAME_MAX) violations.push({ field: 'name', message: `must be at most ${VIEW_NAME_MAX} characters` });
    if (query.includes('\u0000')) violations.push({ field: 'query', message: 'must not contain NUL characters' });
    else if (charLength(query) > VIEW_QUERY_MAX) violations.push({ field: 'query', message: `must be at most ${VIEW_QUERY_MAX} characters` });
    if (violations.length) throw new ValidationError(`SaveView is invalid: ${violations.map((v) => `${v.field} ${v.message}`).join('; ')}`, violations);
    const now = new Date().toISOString();
    const em = this.orm.em.fork();
    try {
      if (rawId !== '') {
        const rows = await em.execute<Record<string, unknown>[]>(
          'UPDATE saved_views SET name = ?, query = ?, updated_at = ?::timestamptz WHERE tenant_id = ? AND user_id = ? AND id = ? RETURNING *',
          [name, query, now, ctx.tenantId, ctx.callerId, rawId.toLowerCase()],
        );
        if (!rows.length) throw new NotFoundError('view', rawId);
        return viewOf(rows[0]);
      }
      return await em.transactional(async (tx) => {
        // Serialises one user's saves, so the cap holds under concurrency.
        await tx.execute('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`intake:views:${ctx.tenantId}:${ctx.callerId}`]);
        const [n] = await tx.execute<{ n: number }[]>('SELECT count(*)::int AS n FROM saved_views WHERE tenant_id = ? AND user_id = ?', [ctx.tenantId, ctx.callerId]);
        if (Number(n.n) >= VIEWS_PER_USER_MAX) throw new DomainError('FAILED_PRECONDITION', `at most ${VIEWS_PER_USER_MAX} saved views per user: delete one first`, { details: { reason: 'too_many_views' } });
        const rows = await tx.execute<Record<string, unknown>[]>(
          'INSERT INTO saved_views (id, tenant_id, user_id, name, query, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?::timestamptz, ?::timestamptz) RETURNING *',
          [uuidv7(), ctx.tenantId, ctx.callerId, name, query, now, now],
        );
        return viewOf(rows[0]);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new DomainError('ALREADY_EXISTS', `a view named "${name}" already exists`, { details: { reason: 'view_name_taken' } });
      throw err;
    }
  }

  async listViews(ctx: TenantContext): Promise<SavedView[]> {
    const rows = await this.orm.em
      .fork()
      .execute<Record<string, unknown>[]>('SELECT * FROM saved_views WHERE tenant_id = ? AND user_id = ? ORDER BY lower(name), id', [ctx.tenantId, ctx.callerId]);
    return rows.map(viewOf);
  }

  async deleteView(ctx: TenantContext, rawId: string): Promise<void> {
    const id = prepareId('DeleteView', 'id', rawId);
    const rows = await this.orm.em.fork().execute('DELETE FROM saved_views WHERE tenant_id = ? AND user_id = ? AND id = ? RETURNING id', [ctx.tenantId, ctx.callerId, id]);
    if (!rows.length) throw new NotFoundError('view', id);
  }
}

function viewOf(r: Record<string, unknown>): SavedView {
  const created = r.created_at instanceof Date ? r.created_at : new Date(String(r.created_at));
  return { id: String(r.id), name: String(r.name), query: String(r.query), createdAt: created.toISOString() };
}
