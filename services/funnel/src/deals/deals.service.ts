/**
 * DealService's use cases over PostgreSQL (raw SQL in transactions; history and events in the same
 * transaction through ./row.ts). Every statement is scoped by tenant and by what the caller may see
 * (./visibility.ts): another tenant's or an invisible deal is NOT_FOUND like a missing one.
 *
 * A change locks the deal row (`SELECT … FOR UPDATE`), checks it against the definition of the deal's
 * own version, then writes one UPDATE with `version = version + 1`, its history entry and its event.
 * CreateDeal is exactly-once twice over: an idempotency key (key + sha256 of the request) and one deal
 * per originating request (advisory locks, key first then request, so no two creates wait in a cycle;
 * the unique indexes back them and a lost race is retried).
 */
import {
  DealAttribution,
  CreateDealRequest,
  Deal,
  type CreateDealResponse,
  type GetDealHistoryResponse,
  type GetDealResponse,
  type LinkRequestRequest,
  type LinkRequestResponse,
  type ListDealsOfRequestResponse,
  type ListDealsRequest,
  type ListDealsResponse,
  type MoveDealRequest,
  type ReopenDealRequest,
  type SetChecklistItemRequest,
  type StageChange,
  type UpdateDealRequest,
} from '@crm/contracts/crm/funnel/v1/deals';
import { DealCreated, DealLost, DealReopened, DealRequestLinked, DealStageChanged, DealUpdated, DealWon } from '@crm/contracts/crm/funnel/events/v1/deal_events';
import type { PipelineDefinition, StageDefinition } from '@crm/contracts/crm/funnel/v1/pipelines';
import { isUuid, uuidv7, type EntityManager, type MikroORM } from '@crm/db';
import { DomainError, NotFoundError, ValidationError } from '@crm/errors';
import type { TenantContext } from '@crm/grpc';
import { createHash } from 'node:crypto';
import {
  channelWord,
  closeDate,
  COMMENT_MAX,
  CONTACT_IDS_MAX,
  customFields,
  dealTitle,
  freeText,
  keyArg,
  missingFields,
} from '../domain/deal-fields';
import { amountMinor, currency, DEFAULT_CURRENCY } from '../domain/money';
import { allowedTargets, findStage, firstStage, outcomeOf } from '../domain/stages';
import { DEAL_CREATED, DEAL_LOST, DEAL_REOPENED, DEAL_REQUEST_LINKED, DEAL_STAGE_CHANGED, DEAL_UPDATED, DEAL_WON } from '../events';
import { findDefinition, findPipeline } from '../pipelines/store';
import { decodeKeyset, page, pageSize, tsKeySql } from './keyset';
import { dealMessage, dealMessages, definitionOf, STATE_WORD, ticksOf } from './message';
import { appendHistory, DEAL_COLUMNS, enqueueDealEvent, snapshotOf, type DealRow } from './row';
import { requireWriter, visibilityFor, visibilitySql } from './visibility';

export const IDEMPOTENCY_KEY_MAX = 200;
export const IDEMPOTENCY_MISMATCH = 'the idempotency key was already used with a different deal';
export const LIST_PAGE_DEFAULT = 50;
export const LIST_PAGE_MAX = 200;
const FILTER_LIST_MAX = 100;
const ATTEMPTS = 8;
const ATTRIBUTION_MAX = { utm: 500, landing_page: 2000, word: 40 } as const;

// ---- arguments ------------------------------------------------------------------------------------------

const refuse = (field: string, message: string): never => {
  throw new ValidationError(`${field} ${message}`, [{ field, message }]);
};

/** A caller's id: a UUID, lower-cased; anything else INVALID_ARGUMENT (never a database error). */
export function idArg(field: string, raw: string | undefined): string {
  if (!raw || !isUuid(raw)) refuse(field, 'must be a UUID');
  return raw!.toLowerCase();
}

/** '' is null, else a UUID. */
export function optionalId(field: string, raw: string | undefined): string | null {
  return raw ? idArg(field, raw) : null;
}

function idList(field: string, raw: string[] | undefined, max: number): string[] {
  const list = raw ?? [];
  if (list.length > max) refuse(field, `must have at most ${max} items`);
  return [...new Set(list.map((v, i) => idArg(`${field}[${i}]`, v)))];
}

function idempotencyKeyArg(raw: string | undefined): string | null {
  const v = raw ?? '';
  if (!v) return null;
  if (v.length > IDEMPOTENCY_KEY_MAX || !/^[\x21-\x7e]+$/.test(v)) refuse('idempotency_key', `must be 1..${IDEMPOTENCY_KEY_MAX} printable ASCII characters`);
  return v;
}

function attributionArg(a: DealAttribution | undefined): Record<string, string> {
  if (!a) return {};
  const out: Record<string, string> = {};
  const put = (key: string, v: string, max: number) => {
    const t = freeText(`attribution.${key}`, v, max);
    if (t !== null) out[key] = t;
  };
  put('utm_source', a.utmSource, ATTRIBUTION_MAX.utm);
  put('utm_medium', a.utmMedium, ATTRIBUTION_MAX.utm);
  put('utm_campaign', a.utmCampaign, ATTRIBUTION_MAX.utm);
  put('utm_content', a.utmContent, ATTRIBUTION_MAX.utm);
  put('utm_term', a.utmTerm, ATTRIBUTION_MAX.utm);
  put('landing_page', a.landingPage, ATTRIBUTION_MAX.landing_page);
  put('channel', a.channel, ATTRIBUTION_MAX.word);
  put('dialed_number_kind', a.dialedNumberKind, ATTRIBUTION_MAX.word);
  return out;
}

/** JSON with object keys sorted (a map's entries in any order hash the same). */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

const pgArray = (ids: readonly string[]): string => `{${ids.join(',')}}`;

// ---- errors ---------------------------------------------------------------------------------------------

/** FAILED_PRECONDITION: the definition does not allow the move; details {stage, allowed} (allowed as JSON text). */
export function moveNotAllowed(from: string, to: string, allowed: string[]): DomainError {
  const what = allowed.length ? `allowed from ${from}: ${allowed.join(', ')}` : `no move is allowed from ${from}`;
  return new DomainError('FAILED_PRECONDITION', `a deal at ${from} cannot move to ${to}; ${what}`, {
    details: { reason: 'stage_not_allowed', public: { stage: to, allowed: JSON.stringify(allowed) } },
  });
}

/** FAILED_PRECONDITION: the target's guard fails; details {stage, guard, missing} (missing as JSON text). */
export function guardFailed(stage: string, guard: 'required_fields' | 'checklist_complete', missing: string[]): DomainError {
  const what = guard === 'required_fields' ? `needs the fields ${missing.join(', ')}` : `needs the checklist complete (unticked: ${missing.join(', ')})`;
  return new DomainError('FAILED_PRECONDITION', `entering ${stage} ${what}`, {
    details: { reason: 'guard_failed', public: { stage, guard, missing: JSON.stringify(missing) } },
  });
}

const isRetryable = (err: unknown): boolean => {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001' || code === '23505';
};

async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= ATTEMPTS || !isRetryable(err)) throw err;
      await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 10));
    }
  }
}

// ---- the service ----------------------------------------------------------------------------------------

export class DealsService {
  constructor(private readonly orm: MikroORM) {}

  private tx<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    return withRetry(() => this.orm.em.fork().transactional(fn));
  }

  private async message(em: EntityManager, row: DealRow, def?: PipelineDefinition): Promise<Deal> {
    const ticks = await ticksOf(em, row.tenant_id, [row]);
    return dealMessage(row, def ?? (await definitionOf(em, row)), ticks.get(row.id));
  }

  /** The deal the caller may see (FOR UPDATE when changing it), else NOT_FOUND. */
  private async load(em: EntityManager, ctx: TenantContext, id: string, forUpdate: boolean): Promise<DealRow> {
    const vis = visibilitySql(visibilityFor(ctx));
    const rows = await em.execute<DealRow[]>(
      `SELECT ${DEAL_COLUMNS} FROM deals d WHERE d.tenant_id = ? AND d.id = ? AND ${vis.sql}${forUpdate ? ' FOR UPDATE' : ''}`,
      [ctx.tenantId, id, ...vis.params],
    );
    if (!rows[0]) throw new NotFoundError('deal', id);
    return rows[0];
  }

  private async checkVersion(em: EntityManager, row: DealRow, expected: number | undefined): Promise<void> {
    if (!expected || expected === row.version) return;
    const current = await this.message(em, row);
    throw new DomainError('CONFLICT', `the deal is at version ${row.version}, not ${expected}`, {
      details: { reason: 'version_mismatch', public: { current: JSON.stringify(Deal.toJSON(current)), current_version: String(row.version) } },
    });
  }

  // ---- create -------------------------------------------------------------------------------------------

  async create(ctx: TenantContext, req: CreateDealRequest): Promise<CreateDealResponse> {
    requireWriter(ctx);
    const pipelineId = idArg('pipeline_id', req.pipelineId);
    const title = dealTitle(req.title);
    const amount = amountMinor(req.amountMinor);
    const stageKey = req.stage ? keyArg('stage', req.stage) : null;
    const clientCardId = optionalId('client_card_id', req.clientCardId);
    const companyId = optionalId('company_id', req.companyId);
    const contactIds = idList('contact_ids', req.contactIds, CONTACT_IDS_MAX);
    const ownerId = req.ownerId ? idArg('owner_id', req.ownerId) : ctx.callerKind === 'user' && isUuid(ctx.callerId) ? ctx.callerId.toLowerCase() : null;
    const departmentId = optionalId('department_id', req.departmentId);
    const projectId = optionalId('project_id', req.projectId);
    const channel = channelWord(req.salesChannel);
    const partnerCardId = optionalId('partner_card_id', req.partnerCardId);
    const attribution = attributionArg(req.attribution);
    const originRequestId = optionalId('origin_request_id', req.originRequestId);
    const expected = closeDate(req.expectedCloseDate);
    const key = idempotencyKeyArg(req.idempotencyKey);
    if (req.currency) currency(req.currency); // a malformed currency is refused before any lookup
    const bodyHash = createHash('sha256')
      .update(stableJson(CreateDealRequest.toJSON({ ...req, idempotencyKey: '' })))
      .digest('hex');
    const tenantId = ctx.tenantId;

    return this.tx(async (em) => {
      const replay = async (dealId: string): Promise<CreateDealResponse> => {
        const rows = await em.execute<DealRow[]>(`SELECT ${DEAL_COLUMNS} FROM deals d WHERE d.tenant_id = ? AND d.id = ?`, [tenantId, dealId]);
        return { deal: await this.message(em, rows[0]!), replayed: true };
      };
      if (key !== null) {
        await em.execute('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`funnel:deal:key:${tenantId}:${key}`]);
        const [used] = await em.execute<{ body_hash: string; deal_id: string }[]>('SELECT body_hash, deal_id FROM deal_idempotency_keys WHERE tenant_id = ? AND key = ?', [tenantId, key]);
        if (used) {
          if (used.body_hash !== bodyHash) throw new DomainError('FAILED_PRECONDITION', IDEMPOTENCY_MISMATCH, { details: { reason: 'idempotency_key_reused' } });
          return replay(used.deal_id);
        }
      }
      const rememberKey = async (dealId: string) => {
        if (key !== null) {
          await em.execute('INSERT INTO deal_idempotency_keys (tenant_id, key, body_hash, deal_id, created_at) VALUES (?, ?, ?, ?, ?)', [tenantId, key, bodyHash, dealId, new Date()]);
        }
      };
      if (originRequestId !== null) {
        await em.execute('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`funnel:deal:origin:${tenantId}:${originRequestId}`]);
        const [first] = await em.execute<{ id: string }[]>('SELECT id FROM deals WHERE tenant_id = ? AND origin_request_id = ?', [tenantId, originRequestId]);
        if (first) {
          await rememberKey(first.id);
          return replay(first.id);
        }
        const [linked] = await em.execute<{ deal_id: string }[]>('SELECT deal_id FROM deal_requests WHERE tenant_id = ? AND request_id = ?', [tenantId, originRequestId]);
        if (linked) {
          throw new DomainError('ALREADY_EXISTS', `request ${originRequestId} is already linked to deal ${linked.deal_id}`, {
            details: { reason: 'request_linked', public: { deal_id: linked.deal_id } },
          });
        }
      }
      const pipeline = await findPipeline(em, tenantId, pipelineId);
      if (!pipeline) throw new NotFoundError('pipeline', pipelineId);
      if (pipeline.archived) throw new DomainError('FAILED_PRECONDITION', `pipeline ${pipelineId} is archived`, { details: { reason: 'pipeline_archived' } });
      const def = await findDefinition(em, tenantId, pipelineId, pipeline.current_version);
      if (!def) throw new DomainError('INTERNAL', `pipeline ${pipelineId} has no version ${pipeline.current_version}`);
      let stage: StageDefinition;
      if (stageKey !== null) {
        const s = findStage(def, stageKey);
        if (!s) refuse('stage', 'is not a stage of the pipeline');
        if (outcomeOf(s!) !== 'open') refuse('stage', 'must be an open stage (a deal is won or lost by a move)');
        stage = s!;
      } else {
        stage = firstStage(def);
      }
      const cur = currency(req.currency, def.defaultCurrency || DEFAULT_CURRENCY);
      const custom = Object.fromEntries(Object.entries(customFields(def, req.customFields)).filter(([, v]) => v !== null)) as Record<string, string>;
      const draft = {
        amount_minor: amount,
        expected_close_date: expected,
        client_card_id: clientCardId,
        company_id: companyId,
        owner_id: ownerId,
        department_id: departmentId,
        project_id: projectId,
        sales_channel: channel,
        contact_ids: contactIds,
        custom_fields: custom,
      };
      const missing = missingFields(def, stage, draft);
      if (missing.length) throw guardFailed(stage.key, 'required_fields', missing);

      const id = uuidv7();
      const now = new Date();
      const [row] = await em.execute<DealRow[]>(
        `INSERT INTO deals AS d (id, tenant_id, pipeline_id, pipeline_version, stage, state, title, amount_minor, currency, client_card_id, company_id, contact_ids,
           owner_id, department_id, project_id, sales_channel, partner_card_id, attribution, origin_request_id, custom_fields, expected_close_date, version,
           stage_entered_at, created_at, updated_at, created_by)
         VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?::uuid[], ?, ?, ?, ?, ?, ?::jsonb, ?, ?::jsonb, ?::date, 1, ?, ?, ?, ?)
         RETURNING ${DEAL_COLUMNS}`,
        [
          id, tenantId, pipelineId, pipeline.current_version, stage.key, title, amount, cur, clientCardId, companyId, pgArray(contactIds),
          ownerId, departmentId, projectId, channel, partnerCardId, JSON.stringify(attribution), originRequestId, JSON.stringify(custom), expected,
          now, now, now, ctx.callerId,
        ],
      );
      await appendHistory(em, {
        dealId: id, tenantId, kind: 'created', fromStage: null, toStage: stage.key, fromStageName: null, toStageName: stage.name,
        pipelineVersion: row!.pipeline_version, enteredFromAt: null, changedBy: ctx.callerId, at: now,
      });
      const snapshot = snapshotOf(row!, stage.name);
      enqueueDealEvent(em, row!, DEAL_CREATED, DealCreated, { deal: snapshot });
      if (originRequestId !== null) {
        await em.execute('INSERT INTO deal_requests (request_id, tenant_id, deal_id, kind, linked_at, linked_by) VALUES (?, ?, ?, ?, ?, ?)', [originRequestId, tenantId, id, 'converted', now, ctx.callerId]);
        enqueueDealEvent(em, row!, DEAL_REQUEST_LINKED, DealRequestLinked, { deal: snapshot, requestId: originRequestId, kind: 'converted', linkedBy: ctx.callerId });
      }
      await rememberKey(id);
      return { deal: dealMessage(row!, def), replayed: false };
    });
  }

  // ---- reads --------------------------------------------------------------------------------------------

  async get(ctx: TenantContext, rawId: string): Promise<GetDealResponse> {
    const id = idArg('id', rawId);
    const em = this.orm.em.fork();
    const row = await this.load(em, ctx, id, false);
    const links = await em.execute<{ request_id: string; kind: string; linked_at: Date; linked_by: string }[]>(
      'SELECT request_id, kind, linked_at, linked_by FROM deal_requests WHERE tenant_id = ? AND deal_id = ? ORDER BY linked_at DESC, request_id DESC LIMIT 50',
      [ctx.tenantId, id],
    );
    return {
      deal: await this.message(em, row),
      requests: links.map((l) => ({ requestId: l.request_id, kind: l.kind, linkedAt: new Date(l.linked_at).toISOString(), linkedBy: l.linked_by })),
    };
  }

  async list(ctx: TenantContext, req: ListDealsRequest): Promise<ListDealsResponse> {
    const size = pageSize(req.pageSize, LIST_PAGE_DEFAULT, LIST_PAGE_MAX);
    const after = decodeKeyset('deals', req.cursor);
    const where: string[] = ['d.tenant_id = ?'];
    const params: unknown[] = [ctx.tenantId];
    const inList = (column: string, values: readonly unknown[], cast = '') => {
      where.push(`${column} IN (${values.map(() => `?${cast}`).join(', ')})`);
      params.push(...values);
    };
    const bounded = <T>(field: string, list: T[] | undefined): T[] => {
      if ((list ?? []).length > FILTER_LIST_MAX) refuse(field, `must have at most ${FILTER_LIST_MAX} items`);
      return list ?? [];
    };
    if (req.pipelineId) {
      where.push('d.pipeline_id = ?');
      params.push(idArg('pipeline_id', req.pipelineId));
    }
    const stages = bounded('stages', req.stages).map((s, i) => keyArg(`stages[${i}]`, s));
    if (stages.length) inList('d.stage', stages);
    const states = bounded('states', req.states).map((s, i) => STATE_WORD[s] ?? refuse(`states[${i}]`, 'is not a deal state'));
    if (states.length) inList('d.state', states);
    const owners = bounded('owner_ids', req.ownerIds).map((v, i) => idArg(`owner_ids[${i}]`, v));
    if (owners.length) inList('d.owner_id', owners, '::uuid');
    const departments = bounded('department_ids', req.departmentIds).map((v, i) => idArg(`department_ids[${i}]`, v));
    if (departments.length) inList('d.department_id', departments, '::uuid');
    const channels = bounded('sales_channels', req.salesChannels).map((c, i) => channelWord(c, `sales_channels[${i}]`) ?? refuse(`sales_channels[${i}]`, 'is not a sales channel'));
    if (channels.length) inList('d.sales_channel', channels);
    for (const [field, column, raw] of [
      ['client_card_id', 'd.client_card_id', req.clientCardId],
      ['company_id', 'd.company_id', req.companyId],
      ['project_id', 'd.project_id', req.projectId],
    ] as const) {
      if (raw) {
        where.push(`${column} = ?::uuid`);
        params.push(idArg(field, raw));
      }
    }
    if (req.contactId) {
      where.push('?::uuid = ANY(d.contact_ids)');
      params.push(idArg('contact_id', req.contactId));
    }
    const from = closeDate(req.closeFrom, 'close_from');
    const to = closeDate(req.closeTo, 'close_to');
    if (from) {
      where.push('d.expected_close_date >= ?::date');
      params.push(from);
    }
    if (to) {
      where.push('d.expected_close_date <= ?::date');
      params.push(to);
    }
    addTitleSearch(where, params, req.q);
    const vis = visibilitySql(visibilityFor(ctx));
    where.push(vis.sql);
    params.push(...vis.params);
    if (after) {
      where.push('(d.created_at, d.id) < (?::timestamptz, ?::uuid)');
      params.push(after.key, after.id);
    }
    const em = this.orm.em.fork();
    const rows = await em.execute<(DealRow & { k: string })[]>(
      `SELECT ${DEAL_COLUMNS}, ${tsKeySql('d.created_at')} AS k FROM deals d WHERE ${where.join(' AND ')} ORDER BY d.created_at DESC, d.id DESC LIMIT ?`,
      [...params, size + 1],
    );
    const { items, nextCursor } = page(rows, size, 'deals', (r) => ({ key: r.k, id: r.id }));
    return { deals: await dealMessages(em, ctx.tenantId, items), nextCursor };
  }

  async history(ctx: TenantContext, rawId: string): Promise<GetDealHistoryResponse> {
    const id = idArg('deal_id', rawId);
    const em = this.orm.em.fork();
    await this.load(em, ctx, id, false);
    const rows = await em.execute<Record<string, unknown>[]>(
      `SELECT seq, kind, from_stage, to_stage, from_stage_name, to_stage_name, pipeline_version, seconds_in_stage::text AS seconds_in_stage, lost_reason, comment, changed_by, changed_at
         FROM deal_stage_history WHERE tenant_id = ? AND deal_id = ? ORDER BY seq`,
      [ctx.tenantId, id],
    );
    const changes: StageChange[] = rows.map((r) => ({
      seq: Number(r.seq),
      kind: String(r.kind),
      fromStage: (r.from_stage as string | null) ?? '',
      toStage: String(r.to_stage),
      fromStageName: (r.from_stage_name as string | null) ?? '',
      toStageName: String(r.to_stage_name),
      pipelineVersion: Number(r.pipeline_version),
      secondsInStage: Number(r.seconds_in_stage),
      lostReason: (r.lost_reason as string | null) ?? '',
      comment: (r.comment as string | null) ?? '',
      changedBy: String(r.changed_by),
      changedAt: new Date(r.changed_at as Date).toISOString(),
    }));
    return { changes };
  }

  async dealsOfRequest(ctx: TenantContext, rawId: string): Promise<ListDealsOfRequestResponse> {
    const requestId = idArg('request_id', rawId);
    const em = this.orm.em.fork();
    const vis = visibilitySql(visibilityFor(ctx));
    const rows = await em.execute<DealRow[]>(
      `SELECT ${DEAL_COLUMNS} FROM deal_requests r JOIN deals d ON d.id = r.deal_id AND d.tenant_id = r.tenant_id
        WHERE r.tenant_id = ? AND r.request_id = ? AND ${vis.sql} ORDER BY r.linked_at DESC`,
      [ctx.tenantId, requestId, ...vis.params],
    );
    return { deals: await dealMessages(em, ctx.tenantId, rows) };
  }

  // ---- changes ------------------------------------------------------------------------------------------

  async update(ctx: TenantContext, req: UpdateDealRequest): Promise<Deal> {
    requireWriter(ctx);
    const id = idArg('id', req.id);
    // Everything that does not depend on the deal is checked before any lock.
    const set: Record<string, unknown> = {};
    if (req.title !== undefined) set.title = dealTitle(req.title);
    if (req.amountMinor !== undefined) set.amount_minor = amountMinor(req.amountMinor);
    if (req.currency !== undefined) set.currency = currency(req.currency);
    if (req.clientCardId !== undefined) set.client_card_id = optionalId('client_card_id', req.clientCardId);
    if (req.companyId !== undefined) set.company_id = optionalId('company_id', req.companyId);
    if (req.setContactIds) set.contact_ids = idList('contact_ids', req.contactIds, CONTACT_IDS_MAX);
    else if (req.contactIds.length) refuse('contact_ids', 'are replaced only with set_contact_ids');
    if (req.ownerId !== undefined) set.owner_id = optionalId('owner_id', req.ownerId);
    if (req.departmentId !== undefined) set.department_id = optionalId('department_id', req.departmentId);
    if (req.projectId !== undefined) set.project_id = optionalId('project_id', req.projectId);
    if (req.salesChannel !== undefined) set.sales_channel = channelWord(req.salesChannel);
    if (req.partnerCardId !== undefined) set.partner_card_id = optionalId('partner_card_id', req.partnerCardId);
    if (req.expectedCloseDate !== undefined) set.expected_close_date = closeDate(req.expectedCloseDate);

    return this.tx(async (em) => {
      const row = await this.load(em, ctx, id, true);
      await this.checkVersion(em, row, req.expectedVersion);
      const def = await definitionOf(em, row);
      const customChanges = customFields(def, req.customFields, { allowEmpty: true });
      const changed: string[] = [];
      const assignments: string[] = [];
      const params: unknown[] = [];
      const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
      const current: Record<string, unknown> = { ...row, amount_minor: Number(row.amount_minor) };
      for (const [column, value] of Object.entries(set)) {
        if (same(current[column], value)) continue;
        changed.push(column === 'amount_minor' ? 'amount' : column);
        if (column === 'contact_ids') {
          assignments.push('contact_ids = ?::uuid[]');
          params.push(pgArray(value as string[]));
        } else if (column === 'expected_close_date') {
          assignments.push('expected_close_date = ?::date');
          params.push(value);
        } else {
          assignments.push(`${column} = ?`);
          params.push(value);
        }
      }
      const custom = { ...(row.custom_fields ?? {}) };
      for (const [k, v] of Object.entries(customChanges)) {
        if ((custom[k] ?? null) === v) continue;
        changed.push(`custom_fields.${k}`);
        if (v === null) delete custom[k];
        else custom[k] = v;
      }
      if (changed.some((c) => c.startsWith('custom_fields.'))) {
        assignments.push('custom_fields = ?::jsonb');
        params.push(JSON.stringify(custom));
      }
      if (!changed.length) return this.message(em, row, def);
      const [next] = await em.execute<DealRow[]>(
        `UPDATE deals d SET ${assignments.join(', ')}, version = d.version + 1, updated_at = ? WHERE d.tenant_id = ? AND d.id = ? RETURNING ${DEAL_COLUMNS}`,
        [...params, new Date(), ctx.tenantId, id],
      );
      enqueueDealEvent(em, next!, DEAL_UPDATED, DealUpdated, { deal: snapshotOf(next!, findStage(def, next!.stage)?.name ?? next!.stage), changed, changedBy: ctx.callerId });
      return this.message(em, next!, def);
    });
  }

  async move(ctx: TenantContext, req: MoveDealRequest): Promise<Deal> {
    requireWriter(ctx);
    const id = idArg('id', req.id);
    const to = keyArg('to_stage', req.toStage);
    const comment = freeText('comment', req.comment, COMMENT_MAX);
    return this.tx(async (em) => {
      const row = await this.load(em, ctx, id, true);
      await this.checkVersion(em, row, req.expectedVersion);
      const def = await definitionOf(em, row);
      const from = findStage(def, row.stage);
      const allowed = row.state === 'open' ? allowedTargets(def, row.stage) : [];
      if (!from || !allowed.includes(to)) throw moveNotAllowed(row.stage, to, allowed);
      const target = findStage(def, to)!;
      const outcome = outcomeOf(target);
      let lostReason: string | null = null;
      if (outcome === 'lost') {
        const reason = (req.lostReason ?? '').trim();
        if (!reason) refuse('lost_reason', `is required for a lost stage (one of: ${def.lostReasons.join(', ')})`);
        if (!def.lostReasons.includes(reason)) refuse('lost_reason', `must be one of the pipeline's lost reasons: ${def.lostReasons.join(', ')}`);
        lostReason = reason;
      } else if (req.lostReason) {
        refuse('lost_reason', 'is only for a lost stage');
      }
      const missing = missingFields(def, target, row);
      if (missing.length) throw guardFailed(to, 'required_fields', missing);
      if (target.guard?.checklistComplete && from.checklist.length) {
        const ticks = (await ticksOf(em, row.tenant_id, [row])).get(row.id) ?? [];
        const unticked = from.checklist.filter((item) => !ticks.some((t) => t.item_key === item.key)).map((item) => item.key);
        if (unticked.length) throw guardFailed(to, 'checklist_complete', unticked);
      }
      const now = new Date();
      const [next] = await em.execute<DealRow[]>(
        `UPDATE deals d SET stage = ?, state = ?, lost_reason = ?, closed_at = ?, stage_entered_at = ?, updated_at = ?, version = d.version + 1
          WHERE d.tenant_id = ? AND d.id = ? RETURNING ${DEAL_COLUMNS}`,
        [to, outcome, lostReason, outcome === 'open' ? null : now, now, now, ctx.tenantId, id],
      );
      const kind = outcome === 'open' ? 'moved' : outcome;
      await appendHistory(em, {
        dealId: id, tenantId: row.tenant_id, kind, fromStage: row.stage, toStage: to, fromStageName: from.name, toStageName: target.name,
        pipelineVersion: row.pipeline_version, enteredFromAt: new Date(row.stage_entered_at), lostReason, comment, changedBy: ctx.callerId, at: now,
      });
      const deal = snapshotOf(next!, target.name);
      if (outcome === 'won') enqueueDealEvent(em, next!, DEAL_WON, DealWon, { deal, changedBy: ctx.callerId });
      else if (outcome === 'lost') enqueueDealEvent(em, next!, DEAL_LOST, DealLost, { deal, reason: lostReason!, changedBy: ctx.callerId });
      else enqueueDealEvent(em, next!, DEAL_STAGE_CHANGED, DealStageChanged, { deal, fromStageId: row.stage, toStageId: to, changedBy: ctx.callerId });
      return this.message(em, next!, def);
    });
  }

  async reopen(ctx: TenantContext, req: ReopenDealRequest): Promise<Deal> {
    requireWriter(ctx);
    const id = idArg('id', req.id);
    const toKey = req.toStage ? keyArg('to_stage', req.toStage) : null;
    const comment = freeText('comment', req.comment, COMMENT_MAX);
    return this.tx(async (em) => {
      const row = await this.load(em, ctx, id, true);
      await this.checkVersion(em, row, req.expectedVersion);
      const def = await definitionOf(em, row);
      const open = def.stages.filter((s) => outcomeOf(s) === 'open').map((s) => s.key);
      if (row.state === 'open') {
        throw new DomainError('FAILED_PRECONDITION', `the deal is open (at ${row.stage}): only a won or lost deal is reopened`, { details: { reason: 'deal_open' } });
      }
      const target = toKey === null ? firstStage(def) : findStage(def, toKey);
      if (!target || outcomeOf(target) !== 'open') throw moveNotAllowed(row.stage, toKey ?? '', open);
      const missing = missingFields(def, target, row);
      if (missing.length) throw guardFailed(target.key, 'required_fields', missing);
      const now = new Date();
      const [next] = await em.execute<DealRow[]>(
        `UPDATE deals d SET stage = ?, state = 'open', lost_reason = NULL, closed_at = NULL, stage_entered_at = ?, updated_at = ?, version = d.version + 1
          WHERE d.tenant_id = ? AND d.id = ? RETURNING ${DEAL_COLUMNS}`,
        [target.key, now, now, ctx.tenantId, id],
      );
      await appendHistory(em, {
        dealId: id, tenantId: row.tenant_id, kind: 'reopened', fromStage: row.stage, toStage: target.key, fromStageName: findStage(def, row.stage)?.name ?? row.stage,
        toStageName: target.name, pipelineVersion: row.pipeline_version, enteredFromAt: new Date(row.stage_entered_at), comment, changedBy: ctx.callerId, at: now,
      });
      enqueueDealEvent(em, next!, DEAL_REOPENED, DealReopened, { deal: snapshotOf(next!, target.name), fromStageId: row.stage, changedBy: ctx.callerId });
      return this.message(em, next!, def);
    });
  }

  async setChecklistItem(ctx: TenantContext, req: SetChecklistItemRequest): Promise<Deal> {
    requireWriter(ctx);
    const id = idArg('deal_id', req.dealId);
    const key = keyArg('item_key', req.itemKey);
    return this.tx(async (em) => {
      const row = await this.load(em, ctx, id, true);
      const def = await definitionOf(em, row);
      const stage = findStage(def, row.stage);
      if (!stage?.checklist.some((i) => i.key === key)) throw new NotFoundError('checklist item', `${row.stage}.${key}`);
      const now = new Date();
      const touched = req.checked
        ? await em.execute<{ item_key: string }[]>(
            'INSERT INTO deal_checklist_items (deal_id, stage, item_key, tenant_id, checked_by, checked_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING item_key',
            [id, row.stage, key, row.tenant_id, ctx.callerId, now],
          )
        : await em.execute<{ item_key: string }[]>('DELETE FROM deal_checklist_items WHERE deal_id = ? AND stage = ? AND item_key = ? RETURNING item_key', [id, row.stage, key]);
      if (!touched.length) return this.message(em, row, def);
      const [next] = await em.execute<DealRow[]>(`UPDATE deals d SET version = d.version + 1, updated_at = ? WHERE d.tenant_id = ? AND d.id = ? RETURNING ${DEAL_COLUMNS}`, [now, ctx.tenantId, id]);
      enqueueDealEvent(em, next!, DEAL_UPDATED, DealUpdated, { deal: snapshotOf(next!, stage.name), changed: [`checklist.${key}`], changedBy: ctx.callerId });
      return this.message(em, next!, def);
    });
  }

  async linkRequest(ctx: TenantContext, req: LinkRequestRequest): Promise<LinkRequestResponse> {
    requireWriter(ctx);
    const dealId = idArg('deal_id', req.dealId);
    const requestId = idArg('request_id', req.requestId);
    return this.tx(async (em) => {
      const row = await this.load(em, ctx, dealId, true);
      const def = await definitionOf(em, row);
      await em.execute('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`funnel:deal:origin:${ctx.tenantId}:${requestId}`]);
      const [linked] = await em.execute<{ deal_id: string }[]>('SELECT deal_id FROM deal_requests WHERE tenant_id = ? AND request_id = ?', [ctx.tenantId, requestId]);
      if (linked) {
        if (linked.deal_id === dealId) return { deal: await this.message(em, row, def), replayed: true };
        throw new DomainError('ALREADY_EXISTS', `request ${requestId} is already linked to deal ${linked.deal_id}`, { details: { reason: 'request_linked', public: { deal_id: linked.deal_id } } });
      }
      if (row.state !== 'open') throw new DomainError('FAILED_PRECONDITION', `the deal is ${row.state}: a request is attached to an open deal`, { details: { reason: 'deal_closed' } });
      await em.execute('INSERT INTO deal_requests (request_id, tenant_id, deal_id, kind, linked_at, linked_by) VALUES (?, ?, ?, ?, ?, ?)', [requestId, ctx.tenantId, dealId, 'attached', new Date(), ctx.callerId]);
      enqueueDealEvent(em, row, DEAL_REQUEST_LINKED, DealRequestLinked, {
        deal: snapshotOf(row, findStage(def, row.stage)?.name ?? row.stage),
        requestId,
        kind: 'attached',
        linkedBy: ctx.callerId,
      });
      return { deal: await this.message(em, row, def), replayed: false };
    });
  }
}

/** Every word of `q` in the title (case-insensitive, ё read as е), as LIKE conditions. */
export function addTitleSearch(where: string[], params: unknown[], raw: string | undefined): void {
  const q = raw ?? '';
  if (q.length > 200) refuse('q', 'must be at most 200 characters');
  const words = [...new Set(q.toLowerCase().replace(/ё/g, 'е').split(/\s+/).filter(Boolean))].slice(0, 10);
  for (const w of words) {
    where.push(`replace(lower(d.title), 'ё', 'е') LIKE ? ESCAPE '\\'`);
    params.push(`%${w.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  }
}

