/**
 * The board of a pipeline: a column per stage of its current version, each with the count and the amount
 * per currency of the deals at that stage key (deals of older versions included: a stage key is stable
 * across versions; deals at keys the current version dropped wait for a migration and are not shown),
 * and the first page of deals, newest stage change first. Won and lost columns hold the deals closed in
 * the last `closed_days`. Filters and who-sees-what apply to counts and totals as to the pages.
 *
 * The counts and totals of open deals come from deal_open_totals (a trigger on deals keeps it in the
 * writing transaction, per pipeline, stage, currency, owner and department), those of closed deals in
 * the window from deals: a column of 50,000 open deals sums a few hundred rows instead of 50,000. A
 * filter on channel, project or title words aggregates deals themselves. The first page of every
 * column is one LATERAL over the stage keys on deals_board_idx (tenant, pipeline, stage,
 * stage_entered_at DESC, id DESC); a column's next pages are ListStageDeals (keyset on
 * (stage_entered_at, id)).
 */
import type { Pipeline, PipelineDefinition } from '@crm/contracts/crm/funnel/v1/pipelines';
import type { BoardColumn, BoardFilter, GetBoardRequest, GetBoardResponse, ListStageDealsRequest, ListStageDealsResponse } from '@crm/contracts/crm/funnel/v1/deals';
import type { EntityManager, MikroORM } from '@crm/db';
import { DomainError, NotFoundError, ValidationError } from '@crm/errors';
import type { TenantContext } from '@crm/grpc';
import { channelWord, keyArg } from '../domain/deal-fields';
import { findStage } from '../domain/stages';
import { findDefinition, findPipeline, type PipelineRow } from '../pipelines/store';
import { addTitleSearch, idArg } from './deals.service';
import { decodeKeyset, page, pageSize, tsKeySql } from './keyset';
import { dealMessages } from './message';
import { DEAL_COLUMNS, type DealRow } from './row';
import { visibilityFor, visibilitySql } from './visibility';

export const BOARD_PAGE_DEFAULT = 20;
export const BOARD_PAGE_MAX = 100;
export const CLOSED_DAYS_DEFAULT = 30;
export const CLOSED_DAYS_MAX = 3650;
const FILTER_LIST_MAX = 100;

const refuse = (field: string, message: string): never => {
  throw new ValidationError(`${field} ${message}`, [{ field, message }]);
};

function closedDays(raw: number | undefined): number {
  const n = raw ?? 0;
  if (n === 0) return CLOSED_DAYS_DEFAULT;
  if (!Number.isInteger(n) || n < 1 || n > CLOSED_DAYS_MAX) refuse('closed_days', `must be 0..${CLOSED_DAYS_MAX}`);
  return n;
}

interface Where {
  sql: string;
  params: unknown[];
}

interface BoardWhere {
  /** Tenant, pipeline, owners, departments, who-sees-what: columns deal_open_totals has too. */
  base: Where;
  /** Channels, project, title words: only deals have them (counts then aggregate deals live). */
  extra: Where | null;
}

/** The conditions of a board (everything but the stage and the closed-days window), over `d`. */
function boardWhere(ctx: TenantContext, pipelineId: string, filter: BoardFilter | undefined): BoardWhere {
  const base: string[] = ['d.tenant_id = ?', 'd.pipeline_id = ?'];
  const baseParams: unknown[] = [ctx.tenantId, pipelineId];
  const extra: string[] = [];
  const extraParams: unknown[] = [];
  const f = filter ?? { ownerIds: [], departmentIds: [], salesChannels: [], q: '', projectId: '' };
  const bounded = <T>(field: string, list: T[] | undefined): T[] => {
    if ((list ?? []).length > FILTER_LIST_MAX) refuse(field, `must have at most ${FILTER_LIST_MAX} items`);
    return list ?? [];
  };
  const inList = (into: string[], params: unknown[], column: string, values: readonly unknown[], cast = '') => {
    if (!values.length) return;
    into.push(`${column} IN (${values.map(() => `?${cast}`).join(', ')})`);
    params.push(...values);
  };
  inList(base, baseParams, 'd.owner_id', bounded('filter.owner_ids', f.ownerIds).map((v, i) => idArg(`filter.owner_ids[${i}]`, v)), '::uuid');
  inList(base, baseParams, 'd.department_id', bounded('filter.department_ids', f.departmentIds).map((v, i) => idArg(`filter.department_ids[${i}]`, v)), '::uuid');
  const vis = visibilitySql(visibilityFor(ctx));
  base.push(vis.sql);
  baseParams.push(...vis.params);
  inList(
    extra,
    extraParams,
    'd.sales_channel',
    bounded('filter.sales_channels', f.salesChannels).map((c, i) => channelWord(c, `filter.sales_channels[${i}]`) ?? refuse(`filter.sales_channels[${i}]`, 'is not a sales channel')),
  );
  if (f.projectId) {
    extra.push('d.project_id = ?::uuid');
    extraParams.push(idArg('filter.project_id', f.projectId));
  }
  addTitleSearch(extra, extraParams, f.q);
  return { base: { sql: base.join(' AND '), params: baseParams }, extra: extra.length ? { sql: extra.join(' AND '), params: extraParams } : null };
}

/** Deals of the board's columns: the filters and the closed-days window (open deals always). */
function dealsWhere(w: BoardWhere, since: Date): Where {
  return {
    sql: `${w.base.sql} AND (d.closed_at IS NULL OR d.closed_at >= ?)${w.extra ? ` AND ${w.extra.sql}` : ''}`,
    params: [...w.base.params, since, ...(w.extra?.params ?? [])],
  };
}

type TotalRow = { stage: string; currency: string; n: string; total: string };

/**
 * Count and amount per (stage, currency): open deals from deal_open_totals and the closed ones in the
 * window from deals when only owners, departments and visibility filter; else all from deals.
 */
async function columnTotals(em: EntityManager, w: BoardWhere, since: Date, stageArray: string): Promise<TotalRow[]> {
  if (w.extra) {
    const where = dealsWhere(w, since);
    return em.execute<TotalRow[]>(
      `SELECT d.stage, d.currency, count(*)::text AS n, sum(d.amount_minor)::text AS total FROM deals d
        WHERE ${where.sql} AND d.stage = ANY(?::text[]) GROUP BY d.stage, d.currency`,
      [...where.params, stageArray],
    );
  }
  const open = await em.execute<TotalRow[]>(
    `SELECT d.stage, d.currency, sum(d.n)::text AS n, sum(d.amount)::text AS total FROM deal_open_totals d
      WHERE ${w.base.sql} AND d.stage = ANY(?::text[]) GROUP BY d.stage, d.currency HAVING sum(d.n) > 0`,
    [...w.base.params, stageArray],
  );
  const closed = await em.execute<TotalRow[]>(
    `SELECT d.stage, d.currency, count(*)::text AS n, sum(d.amount_minor)::text AS total FROM deals d
      WHERE ${w.base.sql} AND d.stage = ANY(?::text[]) AND d.state <> 'open' AND d.closed_at >= ? GROUP BY d.stage, d.currency`,
    [...w.base.params, stageArray, since],
  );
  const merged = new Map<string, { stage: string; currency: string; n: bigint; total: bigint }>();
  for (const t of [...open, ...closed]) {
    const k = `${t.stage}\u0000${t.currency}`;
    const m = merged.get(k) ?? { stage: t.stage, currency: t.currency, n: 0n, total: 0n };
    m.n += BigInt(t.n);
    m.total += BigInt(t.total);
    merged.set(k, m);
  }
  return [...merged.values()].map((m) => ({ stage: m.stage, currency: m.currency, n: String(m.n), total: String(m.total) }));
}

async function boardPipeline(em: EntityManager, ctx: TenantContext, rawId: string): Promise<{ pipeline: PipelineRow; def: PipelineDefinition }> {
  const id = idArg('pipeline_id', rawId);
  const pipeline = await findPipeline(em, ctx.tenantId, id);
  if (!pipeline) throw new NotFoundError('pipeline', id);
  const def = await findDefinition(em, ctx.tenantId, id, pipeline.current_version);
  if (!def) throw new DomainError('INTERNAL', `pipeline ${id} has no version ${pipeline.current_version}`);
  return { pipeline, def };
}

const columnList = (pipelineId: string, stage: string) => `board:${pipelineId}:${stage}`;

export class BoardService {
  constructor(private readonly orm: MikroORM) {}

  async board(ctx: TenantContext, req: GetBoardRequest): Promise<GetBoardResponse> {
    const size = pageSize(req.pageSize, BOARD_PAGE_DEFAULT, BOARD_PAGE_MAX);
    const since = new Date(Date.now() - closedDays(req.closedDays) * 86_400_000);
    const em = this.orm.em.fork();
    const { pipeline, def } = await boardPipeline(em, ctx, req.pipelineId);
    const w = boardWhere(ctx, pipeline.id, req.filter);
    const where = dealsWhere(w, since);
    const stageArray = `{${def.stages.map((s) => s.key).join(',')}}`;
    const totals = (await columnTotals(em, w, since, stageArray)).sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0));
    const rows = await em.execute<(DealRow & { k: string; rn: number })[]>(
      `SELECT x.* FROM unnest(?::text[]) AS s(stage) CROSS JOIN LATERAL (
         SELECT ${DEAL_COLUMNS}, ${tsKeySql('d.stage_entered_at')} AS k FROM deals d
          WHERE ${where.sql} AND d.stage = s.stage ORDER BY d.stage_entered_at DESC, d.id DESC LIMIT ?) x`,
      [stageArray, ...where.params, size + 1],
    );
    const deals = await dealMessages(em, ctx.tenantId, rows);
    const byId = new Map(deals.map((d) => [d.id, d]));
    const oldVersions = await em.execute<{ n: number }[]>(
      "SELECT count(*)::int AS n FROM deals WHERE tenant_id = ? AND pipeline_id = ? AND pipeline_version < ? AND state = 'open'",
      [ctx.tenantId, pipeline.id, pipeline.current_version],
    );
    const columns: BoardColumn[] = def.stages.map((s) => {
      const mine = totals.filter((t) => t.stage === s.key);
      const { items, nextCursor } = page(
        rows.filter((r) => r.stage === s.key),
        size,
        columnList(pipeline.id, s.key),
        (r) => ({ key: r.k, id: r.id }),
      );
      return {
        stage: s.key,
        name: s.name,
        outcome: s.outcome,
        count: mine.reduce((n, t) => n + Number(t.n), 0),
        totals: mine.map((t) => ({ currency: t.currency, amountMinor: Number(t.total) })),
        deals: items.map((r) => byId.get(r.id)!),
        nextCursor,
      };
    });
    return { pipeline: pipelineMessage(pipeline, def, oldVersions[0]?.n ?? 0), columns };
  }

  async stageDeals(ctx: TenantContext, req: ListStageDealsRequest): Promise<ListStageDealsResponse> {
    const size = pageSize(req.pageSize, BOARD_PAGE_DEFAULT, BOARD_PAGE_MAX);
    const since = new Date(Date.now() - closedDays(req.closedDays) * 86_400_000);
    const stageKey = keyArg('stage', req.stage);
    const em = this.orm.em.fork();
    const { pipeline, def } = await boardPipeline(em, ctx, req.pipelineId);
    if (!findStage(def, stageKey)) refuse('stage', 'is not a stage of the pipeline');
    const list = columnList(pipeline.id, stageKey);
    const after = decodeKeyset(list, req.cursor);
    const where = dealsWhere(boardWhere(ctx, pipeline.id, req.filter), since);
    const rows = await em.execute<(DealRow & { k: string })[]>(
      `SELECT ${DEAL_COLUMNS}, ${tsKeySql('d.stage_entered_at')} AS k FROM deals d
        WHERE ${where.sql} AND d.stage = ?${after ? ' AND (d.stage_entered_at, d.id) < (?::timestamptz, ?::uuid)' : ''}
        ORDER BY d.stage_entered_at DESC, d.id DESC LIMIT ?`,
      [...where.params, stageKey, ...(after ? [after.key, after.id] : []), size + 1],
    );
    const { items, nextCursor } = page(rows, size, list, (r) => ({ key: r.k, id: r.id }));
    return { deals: await dealMessages(em, ctx.tenantId, items), nextCursor };
  }
}

/** The board's pipeline as PipelineService answers it. */
function pipelineMessage(p: PipelineRow, def: PipelineDefinition, dealsOnOldVersions: number): Pipeline {
  return {
    id: p.id,
    tenantId: p.tenant_id,
    version: p.current_version,
    definition: def,
    archived: p.archived,
    dealsOnOldVersions,
    createdAt: new Date(p.created_at).toISOString(),
    updatedAt: new Date(p.updated_at).toISOString(),
    updatedBy: p.updated_by,
  };
}

