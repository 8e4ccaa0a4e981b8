/**
 * Intake's use cases over PostgreSQL: create (classification, idempotency, outbox), read, the journal,
 * comments. Every statement is scoped by tenant; another tenant's request looks exactly like a missing one.
 */
import { RequestCommented, RequestCreated } from '@crm/contracts/crm/intake/events/v1/request_events';
import { uuidv7, type EntityManager, type MikroORM } from '@crm/db';
import { DomainError, NotFoundError } from '@crm/errors';
import { enqueueEvent } from '@crm/kafka';
import type { Logger } from '@crm/logger';
import type { CountryCode } from 'libphonenumber-js';
import type { ContactMatcher } from './contacts';
import { RequestCommentSchema, type RequestCommentRow } from './db/entities/request-comment.entity';
import { RequestSchema, type RequestRow } from './db/entities/request.entity';
import { classifyOnArrival } from './domain/axes';
import { prepareComment, prepareId } from './domain/comment';
import { prepareCreate, type CreateRequestInput, type PreparedCreate } from './domain/create-request';
import { encodeCursor } from './domain/cursor';
import { escapeLike, prepareListFilter, type ListFilter, type ListRequestsInput } from './domain/list-filter';
import { EVENT_SOURCE, REQUEST_COMMENTED, REQUEST_CREATED, REQUEST_TOPIC } from './events';
import { toProtoComment, toProtoRequest } from './mappers';

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
  ) {}

  async create(tenantId: string, input: CreateRequestInput): Promise<CreateResult> {
    const prepared = prepareCreate(input, this.defaultCountry);
    // A replay keeps the contact of the first call: answer it before asking contacts anything.
    const replay = await this.findReplay(tenantId, prepared);
    if (replay) return replay;
    const id = uuidv7();
    const contact = await this.matchContact(tenantId, id, prepared);
    try {
      return await this.createOnce(tenantId, prepared, id, contact);
    } catch (err) {
      // Backstop for the unique (tenant, idempotency_key) index: the advisory lock below already
      // serialises callers with the same key, but if another writer ever won the race, answer as a replay.
      if (prepared.idempotencyKey !== null && isUniqueViolation(err)) return this.createOnce(tenantId, prepared, id, contact);
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
    if (!this.contacts || (phone === null && email === null)) return { contactId: null, verified: false, unlinkable: null };
    const outcome = await this.contacts.match(tenantId, { requestId, name, phone, email, country: prepared.country });
    if (outcome.kind === 'matched') return { contactId: outcome.contactId, verified: outcome.verified, unlinkable: null };
    this.logger?.warn({ tenantId, requestId, outcome }, 'request created without a contact');
    return { contactId: null, verified: false, unlinkable: outcome.kind === 'refused' ? outcome.reason : null };
  }

  private createOnce(tenantId: string, prepared: PreparedCreate, id: string, contact: ContactLink): Promise<CreateResult> {
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

      const axes = classifyOnArrival({ channel: input.channel, phone: input.phone, email: input.email, seenContactBefore, verified: contact.verified });
      const row = em.create(RequestSchema, {
        id,
        tenantId,
        state: 'new',
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
        createdAt: new Date(),
        commentCount: 0,
        contactId: contact.contactId,
        contactUnlinkable: contact.unlinkable,
        version: 1,
        missed: false,
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
      return { request: row, replayed: false };
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

  async get(tenantId: string, rawId: string): Promise<RequestRow> {
    const id = prepareId('GetRequest', 'id', rawId);
    const row = await this.orm.em.fork().findOne(RequestSchema, { id, tenantId });
    if (!row) throw new NotFoundError('request', id);
    return row;
  }

  async list(tenantId: string, input: ListRequestsInput): Promise<ListResult> {
    const filter = prepareListFilter(input, this.defaultCountry);
    const em = this.orm.em.fork();
    const { sql, params } = listSql(tenantId, filter);
    const raw = await em.execute<Record<string, unknown>[]>(sql, params);
    const rows = raw.map((r) => em.map(RequestSchema, r));
    const page = rows.slice(0, filter.pageSize);
    const last = page[page.length - 1];
    const nextCursor = rows.length > filter.pageSize && last ? encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id }) : '';
    return { requests: page, nextCursor };
  }

  async addComment(tenantId: string, authorId: string, rawRequestId: string, rawText: string): Promise<RequestCommentRow> {
    const { requestId, text } = prepareComment(rawRequestId, rawText);
    return this.orm.em.fork().transactional(async (em) => {
      // Counts the comment and proves the request is this tenant's in one statement (and locks the row,
      // so concurrent comments on one request are counted exactly). The state is never touched.
      const found = await em.execute('UPDATE requests SET comment_count = comment_count + 1 WHERE tenant_id = ? AND id = ? RETURNING id', [tenantId, requestId]);
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

  async listComments(tenantId: string, rawRequestId: string): Promise<RequestCommentRow[]> {
    const requestId = prepareId('ListComments', 'request_id', rawRequestId);
    const em = this.orm.em.fork();
    const request = await em.findOne(RequestSchema, { id: requestId, tenantId }, { fields: ['id'] });
    if (!request) throw new NotFoundError('request', requestId);
    return em.find(RequestCommentSchema, { tenantId, requestId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }
}

/** The journal query: filters, then keyset pagination on (created_at desc, id desc); one row extra to know if there is a next page. */
export function listSql(tenantId: string, f: ListFilter): { sql: string; params: unknown[] } {
  const where = ['tenant_id = ?'];
  const params: unknown[] = [tenantId];
  if (f.states.length) {
    where.push(`state IN (${f.states.map(() => '?').join(', ')})`);
    params.push(...f.states);
  }
  if (f.channels.length) {
    where.push(`channel IN (${f.channels.map(() => '?').join(', ')})`);
    params.push(...f.channels);
  }
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
    const any = ['search_name LIKE ?', 'email LIKE ?'];
    params.push(text, text);
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
  if (f.after !== null) {
    where.push('(created_at, id) < (?::timestamptz, ?::uuid)');
    params.push(f.after.createdAt, f.after.id);
  }
  params.push(f.pageSize + 1);
  return { sql: `SELECT * FROM requests WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`, params };
}
