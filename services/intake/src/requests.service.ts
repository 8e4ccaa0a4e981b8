/**
 * Intake's use cases over PostgreSQL: create (classification, idempotency, outbox), read, the journal,
 * comments. Every statement is scoped by tenant; another tenant's request looks exactly like a missing one.
 */
import { RequestAssigned, RequestCommented, RequestCreated } from '@crm/contracts/crm/intake/events/v1/request_events';
import { uuidv7, type EntityManager, type MikroORM } from '@crm/db';
import { DomainError, NotFoundError } from '@crm/errors';
import { enqueueEvent } from '@crm/kafka';
import type { Logger } from '@crm/logger';
import type { CountryCode } from 'libphonenumber-js';
import type { ContactMatcher } from './contacts';
import { RequestCommentSchema, type RequestCommentRow } from './db/entities/request-comment.entity';
import { RequestSchema, type RequestRow } from './db/entities/request.entity';
import { SEARCH_FROM, SEARCH_TO } from './db/migrations/intake_0005_journal';
import { classifyOnArrival } from './domain/axes';
import { prepareComment, prepareId } from './domain/comment';
import { prepareCreate, type CreateRequestInput, type PreparedCreate } from './domain/create-request';
import { encodeCursor } from './domain/cursor';
import { encodeWorkCursor, escapeLike, prepareListFilter, type ListFilter, type ListRequestsInput } from './domain/list-filter';
import { EVENT_SOURCE, REQUEST_ASSIGNED, REQUEST_COMMENTED, REQUEST_CREATED, REQUEST_TOPIC } from './events';
import { toProtoComment, toProtoRequest } from './mappers';
import type { RoutePlan, RoutedRequest, RoutingService } from './routing/routing.service';
import { scheduleSlaBreach } from './timers/scheduler';
import { visibilitySql, type Visibility } from './workflow/visibility';

export const IDEMPOTENCY_MISMATCH = 'Idempotency-Key was already used with a different body';

function idempotencyMismatch(idempotencyKey: string): DomainError {
  return new DomainError('FAILED_PRECONDITION', IDEMPOTENCY_MISMATCH, { details: { idempotencyKey, reason: 'idempotency_key_reused' } });
}

/** What MatchOrCreate gave a new request. */
interface ContactLink {
  contactId: string | null;
  verified: boolean;
  /** contacts refused the points (the backfill leaves the request alone). */
  unlinkable: string | null;
  /** The contact's personal client card for routing (`none` without a contact or card) and its owner. */
  clientState: string;
  ownerId: string | null;
}

export interface CreateResult {
  request: RequestRow;
  /** True when an earlier call with the same idempotency key and body created it. */
  replayed: boolean;
}

export interface ListResult {
  requests: RequestRow[];
  nextCursor: string;
}

/** Takes a transaction-scoped advisory lock on a string key (released at commit or rollback). */
async function lock(em: EntityManager, key: string): Promise<void> {
  await em.execute('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [key]);
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

export class RequestsService {
  constructor(
    private readonly orm: MikroORM,
    /** Country for phones written without a +country code when the call names none. */
    private readonly defaultCountry: CountryCode,
    /** contacts' MatchOrCreate; without one (never in production) requests are classified by their points only. */
    private readonly contacts?: ContactMatcher,
    private readonly logger?: Logger,
    /** Routing at creation (department, assignee, SLA); without it requests stay `new` with no department. */
    readonly routing?: RoutingService,
  ) {}

  async create(tenantId: string, input: CreateRequestInput): Promise<CreateResult> {
    const prepared = prepareCreate(input, this.defaultCountry);
    // A replay keeps the contact of the first call: answer it before asking contacts anything.
    const replay = await this.findReplay(tenantId, prepared);
    if (replay) return replay;
    const id = uuidv7();
    // Routing's inputs (published version, roster) before the transaction. With a project, first: an
    // unknown project is refused before contacts is asked (nothing written); without, alongside contacts.
    const projectId = prepared.request.projectId;
    let plan: RoutePlan | null;
    let contact: ContactLink;
    if (!this.routing) [plan, contact] = [null, await this.matchContact(tenantId, id, prepared)];
    else if (projectId !== null) {
      plan = await this.routing.prepare(tenantId, projectId, { decided: prepared.decided !== null });
      contact = await this.matchContact(tenantId, id, prepared);
    } else [plan, contact] = await Promise.all([this.routing.prepare(tenantId, null, { decided: prepared.decided !== null }), this.matchContact(tenantId, id, prepared)]);
    try {
      return await this.createOnce(tenantId, prepared, id, contact, plan);
    } catch (err) {
      // Backstop for the unique (tenant, idempotency_key) index: the advisory lock below already
      // serialises callers with the same key, but if another writer ever won the race, answer as a replay.
      if (prepared.idempotencyKey !== null && isUniqueViolation(err)) return this.createOnce(tenantId, prepared, id, contact, plan);
      throw err;
    }
  }

  /** The first request of this idempotency key, when there is one (read without a lock; the transaction checks again). */
  private async findReplay(tenantId: string, prepared: PreparedCreate): Promise<CreateResult | null> {
    if (prepared.idempotencyKey === null) return null;
    const existing = await this.orm.em.fork().findOne(RequestSchema, { tenantId, idempotencyKey: prepared.idempotencyKey });
    if (!existing) return null;
    if (existing.fingerprint !== prepared.fingerprint) throw idempotencyMismatch(prepared.idempotencyKey);
    return { request: existing, replayed: true };
  }

  /**
   * MatchOrCreate before the transaction (no connection is held while contacts answers). Contacts down
   * or slow: null, the request is created without a contact and the backfill links it later. A refusal
   * (contacts rejects the points) is remembered on the row so the backfill does not retry it.
   */
  private async matchContact(tenantId: string, requestId: string, prepared: PreparedCreate): Promise<ContactLink> {
    const { phone, email, name } = prepared.request;
    if (!this.contacts || (phone === null && email === null)) return { contactId: null, verified: false, unlinkable: null, clientState: 'none', ownerId: null };
    const outcome = await this.contacts.match(tenantId, { requestId, name, phone, email, country: prepared.country });
    if (outcome.kind === 'matched')
      return { contactId: outcome.contactId, verified: outcome.verified, unlinkable: null, clientState: outcome.clientState ?? 'none', ownerId: outcome.ownerId ?? null };
    this.logger?.warn({ tenantId, requestId, outcome }, 'request created without a contact');
    return { contactId: null, verified: false, unlinkable: outcome.kind === 'refused' ? outcome.reason : null, clientState: 'none', ownerId: null };
  }

  private createOnce(tenantId: string, prepared: PreparedCreate, id: string, contact: ContactLink, plan: RoutePlan | null): Promise<CreateResult> {
    const { request: input, idempotencyKey, fingerprint } = prepared;
    return this.orm.em.fork().transactional(async (em) => {
      // Lock order is fixed to avoid deadlocks: the idempotency key first, then the contact (or its points, sorted).
      if (idempotencyKey !== null) {
        await lock(em, `intake:idempotency:${tenantId}:${idempotencyKey}`);
        const existing = await em.findOne(RequestSchema, { tenantId, idempotencyKey });
        if (existing) {
          if (existing.fingerprint !== fingerprint) throw idempotencyMismatch(idempotencyKey);
          return { request: existing, replayed: true };
        }
      }
      // Primary/repeat under concurrency: two first requests of one person must not both be primary, so
      // everyone creating for that contact (or, without one, with that contact point) queues here before looking.
      let seenContactBefore = false;
      if (contact.contactId !== null) {
        await lock(em, `intake:contact:${tenantId}:${contact.contactId}`);
        seenContactBefore = await this.hasEarlierRequest(em, tenantId, input.phone, input.email, contact.contactId);
      } else if (input.phone !== null || input.email !== null) {
        const contactKeys: string[] = [];
        if (input.phone !== null) contactKeys.push(`intake:phone:${tenantId}:${input.phone}`);
        if (input.email !== null) contactKeys.push(`intake:email:${tenantId}:${input.email}`);
        for (const key of contactKeys.sort()) await lock(em, key);
        seenContactBefore = await this.hasEarlierRequest(em, tenantId, input.phone, input.email, null);
      }

      const axes = classifyOnArrival({ channel: input.channel, phone: input.phone, email: input.email, seenContactBefore, verified: contact.verified, dialedNumberKind: input.dialedNumberKind });
      const createdAt = new Date();
      // Routing last (its pointer row lock is held until commit: the shortest time possible).
      // A channel service's decision when it still holds, else routing decides.
      const decided = prepared.decided && plan && this.routing ? this.routing.fromDecision(plan, prepared.decided, createdAt) : null;
      const routed: RoutedRequest | null = decided
        ? decided
        : plan && this.routing
          ? await this.routing.route(em, tenantId, plan, {
              channel: axes.channel,
              dialedNumberKind: input.dialedNumberKind ?? 'none',
              projectId: input.projectId,
              utmSource: input.attribution.utmSource?.toLowerCase() ?? null,
              clientState: contact.clientState,
              ownerId: contact.ownerId,
              at: createdAt,
            })
          : null;
      const assigneeId = routed?.assignment?.assigneeId ?? null;
      const row = em.create(RequestSchema, {
        id,
        tenantId,
        state: assigneeId !== null ? 'assigned' : 'new',
        numberAxis: axes.number,
        meaningAxis: axes.meaning,
        contactAxis: axes.contact,
        qualificationAxis: axes.qualification,
        channel: axes.channel,
        name: input.name,
        searchName: input.name === null ? null : input.name.toLowerCase(),
        phone: input.phone,
        email: input.email,
        message: input.message,
        ...input.attribution,
        publicFormId: input.publicFormId,
        extraFields: input.extraFields,
        extraFieldsTruncated: input.extraFieldsTruncated,
        idempotencyKey,
        fingerprint,
        createdAt,
        commentCount: 0,
        contactId: contact.contactId,
        contactUnlinkable: contact.unlinkable,
        version: 1,
        missed: input.missed,
        projectId: input.projectId,
        dialedNumberKind: input.dialedNumberKind,
        departmentId: routed?.assignment?.departmentId ?? null,
        assigneeId,
        routingVersion: routed?.match?.version ?? null,
        // Empty rule id (NULL): the fallback decided (request.proto).
        routingRuleId: routed?.match?.rule?.id ?? null,
        slaDueAt: routed?.slaDueAt ?? null,
        stateChangedAt: createdAt,
      });
      enqueueEvent(em, {
        topic: REQUEST_TOPIC,
        type: REQUEST_CREATED,
        codec: RequestCreated,
        payload: { request: toProtoRequest(row) },
        subject: row.id,
        tenantId,
        source: EVENT_SOURCE,
      });
      if (routed?.match) await this.recordRouting(em, row, routed);
      return { request: row, replayed: false };
    });
  }

  /**
   * The routing decision's trace on a new request: a `routed` history row, the SLA timer (same
   * transaction) and, when someone was assigned, RequestAssigned (cause `routing`) for their notification.
   */
  private async recordRouting(em: EntityManager, row: RequestRow, routed: RoutedRequest): Promise<void> {
    const { match, assignment } = routed;
    // The history row references the request: insert the request first.
    await em.flush();
    await em.execute(
      `INSERT INTO request_history (id, tenant_id, request_id, at, actor_kind, actor_id, field, from_value, to_value, reason, details)
       VALUES (?, ?, ?, ?, 'system', 'routing', 'routing', NULL, ?, 'routed', ?::jsonb)`,
      [
        uuidv7(),
        row.tenantId,
        row.id,
        row.createdAt,
        row.routingRuleId ?? 'fallback',
        JSON.stringify({
          version: match!.version,
          rule_id: match!.rule?.id ?? '',
          department_id: row.departmentId,
          assignee_id: row.assigneeId,
          strategy: assignment?.strategy ?? match!.strategy,
          assigned_by: assignment?.assignedBy ?? 'none',
          overflow_path: assignment?.overflowPath ?? [],
          unassigned_reason: assignment?.unassignedReason ?? '',
          sla_due_at: row.slaDueAt?.toISOString() ?? null,
        }),
      ],
    );
    if (row.slaDueAt !== null) await scheduleSlaBreach(em, row.tenantId, row.id, row.slaDueAt);
    if (row.assigneeId !== null)
      enqueueEvent(em, {
        topic: REQUEST_TOPIC,
        type: REQUEST_ASSIGNED,
        codec: RequestAssigned,
        payload: { request: toProtoRequest(row), previousAssigneeId: '', previousDepartmentId: '', actor: { kind: 'system', id: 'routing' }, cause: 'routing', at: row.createdAt.toISOString() },
        subject: row.id,
        tenantId: row.tenantId,
        source: EVENT_SOURCE,
      });
  }

  /**
   * Has this person written before? With a contact: an earlier request linked to it, or one not linked
   * to any contact yet (arrived while contacts was unreachable, or before contacts existed) with the same
   * phone or e-mail. Without a contact: an earlier request with the same phone or e-mail.
   */
  private async hasEarlierRequest(em: EntityManager, tenantId: string, phone: string | null, email: string | null, contactId: string | null): Promise<boolean> {
    const matches: string[] = [];
    const params: unknown[] = [tenantId];
    if (phone !== null) {
      matches.push('phone = ?');
      params.push(phone);
    }
    if (email !== null) {
      matches.push('email = ?');
      params.push(email);
    }
    const byPoints = matches.length ? `(${matches.join(' OR ')})` : 'false';
    if (contactId === null) {
      const rows = await em.execute(`SELECT 1 FROM requests WHERE tenant_id = ? AND ${byPoints} LIMIT 1`, params);
      return rows.length > 0;
    }
    // Two probes, each on its own index; the second only for requests still waiting for their contact.
    const linked = await em.execute('SELECT 1 FROM requests WHERE tenant_id = ? AND contact_id = ? LIMIT 1', [tenantId, contactId]);
    if (linked.length) return true;
    const unlinked = await em.execute(`SELECT 1 FROM requests WHERE tenant_id = ? AND contact_id IS NULL AND ${byPoints} LIMIT 1`, params);
    return unlinked.length > 0;
  }

  /** One request the caller may see (`visibility`, workflow/visibility.ts); else NOT_FOUND like a missing one. */
  async get(tenantId: string, rawId: string, visibility: Visibility): Promise<RequestRow> {
    const id = prepareId('GetRequest', 'id', rawId);
    const em = this.orm.em.fork();
    const vis = visibilitySql(visibility);
    const raw = await em.execute<Record<string, unknown>[]>(`SELECT * FROM requests WHERE tenant_id = ? AND id = ? AND ${vis.sql}`, [tenantId, id, ...vis.params]);
    if (!raw.length) throw new NotFoundError('request', id);
    return em.map(RequestSchema, raw[0]);
  }

  /** The journal over what the caller may see; the order `created_desc` (default) or `my_work`, keyset-paginated. */
  async list(tenantId: string, input: ListRequestsInput, visibility: Visibility): Promise<ListResult> {
    const filter = prepareListFilter(input, this.defaultCountry);
    const em = this.orm.em.fork();
    const { sql, params } = listSql(tenantId, filter, visibility);
    const raw = await em.execute<Record<string, unknown>[]>(sql, params);
    const rows = raw.map((r) => em.map(RequestSchema, r));
    const page = rows.slice(0, filter.pageSize);
    const last = page[page.length - 1];
    let nextCursor = '';
    if (rows.length > filter.pageSize && last) {
      nextCursor =
        filter.order === 'my_work'
          ? encodeWorkCursor({ notBreached: last.slaBreachedAt === null, dueAt: last.slaDueAt ? truncMs(last.slaDueAt) : null, createdAt: last.createdAt.toISOString(), id: last.id })
          : encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id });
    }
    return { requests: page, nextCursor };
  }

  async addComment(tenantId: string, authorId: string, rawRequestId: string, rawText: string, visibility: Visibility): Promise<RequestCommentRow> {
    const { requestId, text } = prepareComment(rawRequestId, rawText);
    const vis = visibilitySql(visibility);
    return this.orm.em.fork().transactional(async (em) => {
      // Counts the comment and proves the request is this tenant's (and visible to the caller) in one
      // statement, and locks the row, so concurrent comments on one request are counted exactly. The
      // state is never touched.
      const found = await em.execute(`UPDATE requests SET comment_count = comment_count + 1 WHERE tenant_id = ? AND id = ? AND ${vis.sql} RETURNING id`, [
        tenantId,
        requestId,
        ...vis.params,
      ]);
      if (!found.length) throw new NotFoundError('request', requestId);
      const comment = em.create(RequestCommentSchema, { id: uuidv7(), tenantId, requestId, authorId, text, createdAt: new Date() });
      enqueueEvent(em, {
        topic: REQUEST_TOPIC,
        type: REQUEST_COMMENTED,
        codec: RequestCommented,
        payload: { comment: toProtoComment(comment) },
        subject: requestId,
        tenantId,
        source: EVENT_SOURCE,
      });
      return comment;
    });
  }

  async listComments(tenantId: string, rawRequestId: string, visibility: Visibility): Promise<RequestCommentRow[]> {
    const requestId = prepareId('ListComments', 'request_id', rawRequestId);
    const em = this.orm.em.fork();
    const vis = visibilitySql(visibility);
    const found = await em.execute(`SELECT 1 FROM requests WHERE tenant_id = ? AND id = ? AND ${vis.sql}`, [tenantId, requestId, ...vis.params]);
    if (!found.length) throw new NotFoundError('request', requestId);
    return em.find(RequestCommentSchema, { tenantId, requestId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }
}

/**
 * The filter alone keeps the caller inside what they may see: only departments of theirs, or only
 * their own requests. Then the visibility OR is left out, so the planner walks one index (a seller's
 * department queue) instead of sorting every visible match.
 */
function filterImpliesVisibility(f: ListFilter, v: Visibility): boolean {
  if (v.all) return true;
  const mine = new Set(v.departmentIds.map((d) => d.toLowerCase()));
  if (f.departmentIds.length && f.departmentIds.every((d) => mine.has(d))) return true;
  const me = v.userId.toLowerCase();
  return f.assigneeFilter && !f.includeUnassigned && f.assigneeIds.length > 0 && f.assigneeIds.every((a) => a === me);
}

const TRANSLIT = new Map([...SEARCH_FROM].map((c, i) => [c, SEARCH_TO[i]]));

/** The search key of intake_0005's name index (translate() in SQL): Cyrillic letters to ASCII ones. */
function transliterate(text: string): string {
  return [...text].map((c) => TRANSLIT.get(c) ?? c).join('');
}

/** RFC 3339 with milliseconds of a timestamp truncated to milliseconds (the `my_work` cursor compares at that precision). */
function truncMs(d: Date): string {
  return new Date(Math.floor(d.getTime())).toISOString();
}

function inList(where: string[], params: unknown[], column: string, values: readonly string[], cast = ''): void {
  if (!values.length) return;
  where.push(`${column} IN (${values.map(() => `?${cast}`).join(', ')})`);
  params.push(...values);
}

/**
 * The journal's WHERE over `requests` (tenant, visibility, every filter; not the cursor), shared by the
 * list and the counters (CountRequests).
 */
export function listWhere(tenantId: string, f: ListFilter, visibility: Visibility): { where: string[]; params: unknown[] } {
  const where = ['tenant_id = ?'];
  const params: unknown[] = [tenantId];
  const vis = visibilitySql(visibility);
  if (vis.sql !== 'true' && !filterImpliesVisibility(f, visibility)) {
    where.push(vis.sql);
    params.push(...vis.params);
  }
  inList(where, params, 'state', f.states);
  inList(where, params, 'channel', f.channels);
  if (f.createdFrom !== null) {
    where.push('created_at >= ?::timestamptz');
    params.push(f.createdFrom);
  }
  if (f.createdTo !== null) {
    where.push('created_at < ?::timestamptz');
    params.push(f.createdTo);
  }
  if (f.query !== null) {
    const text = `%${escapeLike(f.query.text)}%`;
    // The name through its transliterated trigram index (intake_0005), then exactly.
    const any = [`(translate(search_name, '${SEARCH_FROM}', '${SEARCH_TO}') LIKE ? AND search_name LIKE ?)`, 'email LIKE ?'];
    params.push(transliterate(text), text, text);
    if (f.query.digits !== null) {
      any.push('phone LIKE ?');
      params.push(`%${f.query.digits}%`);
    }
    if (f.query.phone !== null) {
      any.push('phone = ?');
      params.push(f.query.phone);
    }
    where.push(`(${any.join(' OR ')})`);
  }
  if (f.contactId !== null) {
    where.push('contact_id = ?::uuid');
    params.push(f.contactId);
  }
  inList(where, params, 'department_id', f.departmentIds, '::uuid');
  if (f.assigneeFilter) {
    const any: string[] = [];
    if (f.assigneeIds.length) {
      any.push(`assignee_id IN (${f.assigneeIds.map(() => '?::uuid').join(', ')})`);
      params.push(...f.assigneeIds);
    }
    if (f.includeUnassigned) any.push('assignee_id IS NULL');
    where.push(any.length ? `(${any.join(' OR ')})` : 'false');
  }
  inList(where, params, 'project_id', f.projectIds, '::uuid');
  inList(where, params, 'meaning_axis', f.meanings);
  inList(where, params, 'qualification_axis', f.qualifications);
  inList(where, params, 'contact_axis', f.contactAxes);
  inList(where, params, 'number_axis', f.numberAxes);
  if (f.utmSource !== null) {
    where.push('lower(utm_source) = ?');
    params.push(f.utmSource);
  }
  if (f.slaBreached !== null) where.push(f.slaBreached ? 'sla_breached_at IS NOT NULL' : 'sla_breached_at IS NULL');
  if (f.missed !== null) {
    where.push('missed = ?');
    params.push(f.missed);
  }
  return { where, params };
}

/** The `my_work` order's key: breached first, then by SLA due (none last), then oldest. */
const WORK_KEY = "(sla_breached_at IS NULL), coalesce(date_trunc('milliseconds', sla_due_at), 'infinity'::timestamptz), created_at, id";

/**
 * The journal query: filters and visibility, then keyset pagination on (created_at desc, id desc) or
 * on the `my_work` key; one row extra to know if there is a next page.
 */
export function listSql(tenantId: string, f: ListFilter, visibility: Visibility): { sql: string; params: unknown[] } {
  const { where, params } = listWhere(tenantId, f, visibility);
  if (f.order === 'my_work') {
    if (f.afterWork !== null) {
      where.push(`(${WORK_KEY}) > (?::boolean, coalesce(?::timestamptz, 'infinity'::timestamptz), ?::timestamptz, ?::uuid)`);
      params.push(f.afterWork.notBreached, f.afterWork.dueAt, f.afterWork.createdAt, f.afterWork.id);
    }
    params.push(f.pageSize + 1);
    return { sql: `SELECT * FROM requests WHERE ${where.join(' AND ')} ORDER BY ${WORK_KEY} LIMIT ?`, params };
  }
  if (f.after !== null) {
    where.push('(created_at, id) < (?::timestamptz, ?::uuid)');
    params.push(f.after.createdAt, f.after.id);
  }
  params.push(f.pageSize + 1);
  return { sql: `SELECT * FROM requests WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`, params };
}
