/**
 * PipelineService's use cases: definitions checked as state machines (../domain/validate.ts), stored
 * as immutable versions (./store.ts), read, listed, archived, and the migration of open deals from older
 * versions to the current one by an explicit stage mapping (previewed, then applied in one transaction).
 *
 * Every statement is scoped by tenant; another tenant's pipeline is NOT_FOUND like a missing one. Writes
 * (create, update, archive, migrations — the preview too: it counts every deal of the pipeline) are for
 * admins and heads of sales among users, and for services and API keys (the gateway checked
 * `pipelines:write`); other users get PERMISSION_DENIED. Reads are for every caller of the tenant.
 */
import { DealStageChanged } from '@crm/contracts/crm/funnel/events/v1/deal_events';
import {
  Pipeline,
  PipelineDefinition,
  type MigrationMove,
  type PreviewMigrationResponse,
  type StageMapping,
} from '@crm/contracts/crm/funnel/v1/pipelines';
import { isUuid, uuidv7, type EntityManager, type MikroORM } from '@crm/db';
import { DomainError, NotFoundError } from '@crm/errors';
import type { TenantContext } from '@crm/grpc';
import { appendHistory, DEAL_COLUMNS, enqueueDealEvent, snapshotOf, type DealRow } from '../deals/row';
import { findStage, outcomeOf } from '../domain/stages';
import { normalizeDefinition, validateDefinition, type Violation } from '../domain/validate';
import { DEAL_STAGE_CHANGED } from '../events';
import { definitionToJson, findDefinition, findPipeline, insertVersion, type PipelineRow } from './store';

/**
 * At most this many violations, and about this many bytes of them, travel in an error's metadata (twice:
 * x-error-violations and x-error-details; HTTP/2 refuses header lists over 64 KiB). The message counts
 * the rest; ValidatePipeline answers them in its body.
 */
export const MAX_ERROR_VIOLATIONS = 50;
const MAX_ERROR_VIOLATION_BYTES = 12_000;
/** At most this many violations in a ValidatePipeline answer. */
export const MAX_VALIDATE_VIOLATIONS = 500;
/** At most this many entries in a migration mapping (a pipeline has at most 100 stages per version). */
export const MAX_MAPPING = 1000;

const KEY_RE = /^[a-z][a-z0-9_]{0,39}$/;

const iso = (d: Date | string): string => new Date(d).toISOString();

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

/** Users need the admin or head_of_sales role; services and API keys were checked by scope at the gateway. */
export function requireWriter(ctx: TenantContext): void {
  if (ctx.callerKind !== 'user') return;
  const roles = ctx.roles ?? [];
  if (roles.includes('admin') || roles.includes('head_of_sales')) return;
  throw new DomainError('PERMISSION_DENIED', 'only an admin or a head of sales may change pipelines');
}

function idArg(field: string, raw: string): string {
  if (typeof raw !== 'string' || !isUuid(raw)) throw invalid(`${field} must be a UUID`, [{ field, code: 'invalid', message: 'must be a UUID' }]);
  return raw.toLowerCase();
}

function versionArg(field: string, raw: number, what: string): number {
  if (!Number.isInteger(raw) || raw < 0) throw invalid(`${field} must be 0 (${what}) or a version number`, [{ field, code: 'invalid', message: `must be 0 (${what}) or a version number` }]);
  return raw;
}

/** INVALID_ARGUMENT with violations {field, code, message} in the error's violations and in details `violations`. */
function invalid(message: string, violations: Violation[], reason = 'invalid_argument'): DomainError {
  const shown: Violation[] = [];
  let bytes = 0;
  for (const v of violations.slice(0, MAX_ERROR_VIOLATIONS)) {
    bytes += JSON.stringify(v).length;
    if (shown.length && bytes > MAX_ERROR_VIOLATION_BYTES) break;
    shown.push(v);
  }
  return new DomainError('INVALID_ARGUMENT', message, {
    violations: shown,
    // @crm/grpc forwards string values of details.public (x-error-details): the list as JSON text.
    details: { reason, public: { violations: JSON.stringify(shown) } },
  });
}

/** The definition refused with every violation (the first MAX_ERROR_VIOLATIONS of them in the details). */
function refuseDefinition(violations: Violation[]): DomainError {
  const first = violations[0]!;
  const more = violations.length > 1 ? ` and ${violations.length - 1} more` : '';
  return invalid(`the pipeline definition is invalid: ${first.field}: ${first.message}${more}`, violations, 'invalid_definition');
}

/** The caller's definition normalized and valid, else INVALID_ARGUMENT with its violations. */
function checkedDefinition(raw: PipelineDefinition | undefined): PipelineDefinition {
  const def = normalizeDefinition(raw);
  const violations = validateDefinition(def);
  if (violations.length) throw refuseDefinition(violations);
  return def;
}

function nameTaken(name: string): DomainError {
  return new DomainError('ALREADY_EXISTS', `another pipeline in use is named ${JSON.stringify(name)}; pipeline names are unique among those not archived`, {
    details: { reason: 'name_taken', public: { field: 'name' } },
  });
}

interface Audit {
  at: Date;
  by: string;
}

function toProto(row: PipelineRow, version: number, definition: PipelineDefinition, dealsOnOldVersions: number, audit?: Audit): Pipeline {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    version,
    definition,
    archived: row.archived,
    dealsOnOldVersions,
    createdAt: iso(row.created_at),
    updatedAt: iso(audit?.at ?? row.updated_at),
    updatedBy: audit?.by ?? row.updated_by,
  };
}

async function dealsOnOldVersions(em: EntityManager, row: PipelineRow): Promise<number> {
  const [r] = await em.execute<{ n: number }[]>(
    "SELECT count(*)::int AS n FROM deals WHERE tenant_id = ? AND pipeline_id = ? AND state = 'open' AND pipeline_version < ?",
    [row.tenant_id, row.id, row.current_version],
  );
  return r?.n ?? 0;
}

/** A mapping as the caller sent it, checked: keys, no old stage twice, targets open stages of `def`. */
function checkMapping(mapping: StageMapping[], def: PipelineDefinition): Map<string, string> {
  if (mapping.length > MAX_MAPPING) throw invalid(`at most ${MAX_MAPPING} mapping entries`, [{ field: 'mapping', code: 'too_many', message: `${mapping.length} entries; at most ${MAX_MAPPING}` }]);
  const v: Violation[] = [];
  const out = new Map<string, string>();
  mapping.forEach((m, i) => {
    const at = `mapping[${i}]`;
    const from = typeof m.fromStage === 'string' ? m.fromStage : '';
    const to = typeof m.toStage === 'string' ? m.toStage : '';
    let ok = true;
    if (!KEY_RE.test(from)) {
      v.push({ field: `${at}.from_stage`, code: from ? 'invalid' : 'required', message: from ? 'must be a stage key' : 'is required' });
      ok = false;
    } else if (out.has(from)) {
      v.push({ field: `${at}.from_stage`, code: 'duplicate_key', message: `stage ${JSON.stringify(from)} is mapped twice` });
      ok = false;
    }
    const target = KEY_RE.test(to) ? findStage(def, to) : undefined;
    if (!to) {
      v.push({ field: `${at}.to_stage`, code: 'required', message: 'is required' });
      ok = false;
    } else if (!target) {
      v.push({ field: `${at}.to_stage`, code: 'unknown_stage', message: `the current version has no stage ${JSON.stringify(to.slice(0, 40))}` });
      ok = false;
    } else if (outcomeOf(target) !== 'open') {
      v.push({ field: `${at}.to_stage`, code: 'invalid', message: `stage ${JSON.stringify(to)} is ${outcomeOf(target)}: deals are migrated to open stages (win or lose them afterwards)` });
      ok = false;
    }
    if (ok) out.set(from, to);
  });
  if (v.length) throw invalid(`the mapping is invalid: ${v[0]!.field}: ${v[0]!.message}${v.length > 1 ? ` and ${v.length - 1} more` : ''}`, v);
  return out;
}

/**
 * Where a deal at old stage `stage` goes: the mapping's target, else the stage of the same key when the
 * current version still has it open (a stage kept across versions needs no entry), else nowhere.
 */
function targetOf(mapping: Map<string, string>, def: PipelineDefinition, stage: string): string | undefined {
  const explicit = mapping.get(stage);
  if (explicit) return explicit;
  const same = findStage(def, stage);
  return same && outcomeOf(same) === 'open' ? stage : undefined;
}

interface Group {
  version: number;
  stage: string;
  deals: number;
}

function plan(groups: Group[], mapping: Map<string, string>, def: PipelineDefinition): PreviewMigrationResponse {
  const moves: MigrationMove[] = [];
  const unmapped = new Set<string>();
  let total = 0;
  for (const g of groups) {
    total += g.deals;
    const to = targetOf(mapping, def, g.stage);
    if (to) moves.push({ fromVersion: g.version, fromStage: g.stage, toStage: to, deals: g.deals });
    else unmapped.add(g.stage);
  }
  return { moves, total, unmappedStages: [...unmapped].sort() };
}

function unmappedError(stages: string[]): DomainError {
  return new DomainError('FAILED_PRECONDITION', `deals on older versions are at stages the mapping leaves out: ${stages.join(', ')}; map each to a stage of the current version`, {
    details: { reason: 'unmapped_stages', public: { unmapped_stages: JSON.stringify(stages) } },
  });
}

export class PipelinesService {
  constructor(private readonly orm: MikroORM) {}

  /** ValidatePipeline: the violations of a definition (empty: valid); nothing is stored, no role needed. */
  validate(raw: PipelineDefinition | undefined): Violation[] {
    return validateDefinition(normalizeDefinition(raw)).slice(0, MAX_VALIDATE_VIOLATIONS);
  }

  async create(ctx: TenantContext, raw: PipelineDefinition | undefined): Promise<Pipeline> {
    requireWriter(ctx);
    const def = checkedDefinition(raw);
    const now = new Date();
    const id = uuidv7();
    return this.orm.em.fork().transactional(async (em) => {
      try {
        await em.execute(
          'INSERT INTO pipelines (id, tenant_id, name, current_version, archived, created_at, updated_at, updated_by) VALUES (?, ?, ?, 1, false, ?, ?, ?)',
          [id, ctx.tenantId, def.name, now, now, ctx.callerId],
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw nameTaken(def.name);
        throw err;
      }
      await insertVersion(em, ctx.tenantId, id, 1, def, ctx.callerId, now);
      const row: PipelineRow = { id, tenant_id: ctx.tenantId, name: def.name, current_version: 1, archived: false, created_at: now, updated_at: now, updated_by: ctx.callerId };
      return toProto(row, 1, def, 0);
    });
  }

  /**
   * A new version when the definition differs from the current one (the same definition again — a
   * retry — answers the current version unchanged). expected_version > 0 and not the current → CONFLICT
   * (gRPC ABORTED) with the pipeline as it is now in details `current`.
   */
  async update(ctx: TenantContext, req: { id: string; expectedVersion: number; definition?: PipelineDefinition }): Promise<Pipeline> {
    requireWriter(ctx);
    const id = idArg('id', req.id);
    const expected = versionArg('expected_version', req.expectedVersion, 'no check');
    const def = checkedDefinition(req.definition);
    return this.orm.em.fork().transactional(async (em) => {
      const row = await findPipeline(em, ctx.tenantId, id, { forUpdate: true });
      if (!row) throw new NotFoundError('pipeline', id);
      const current = (await findDefinition(em, ctx.tenantId, id, row.current_version))!;
      const old = await dealsOnOldVersions(em, row);
      if (expected > 0 && expected !== row.current_version) {
        throw new DomainError('CONFLICT', `pipeline ${id} is at version ${row.current_version}, not ${expected}`, {
          details: { reason: 'version_mismatch', public: { current: JSON.stringify(Pipeline.toJSON(toProto(row, row.current_version, current, old))) } },
        });
      }
      if (JSON.stringify(definitionToJson(def)) === JSON.stringify(definitionToJson(current))) return toProto(row, row.current_version, current, old);
      const now = new Date();
      const version = row.current_version + 1;
      await insertVersion(em, ctx.tenantId, id, version, def, ctx.callerId, now);
      try {
        await em.execute('UPDATE pipelines SET name = ?, current_version = ?, updated_at = ?, updated_by = ? WHERE tenant_id = ? AND id = ?', [def.name, version, now, ctx.callerId, ctx.tenantId, id]);
      } catch (err) {
        if (isUniqueViolation(err)) throw nameTaken(def.name);
        throw err;
      }
      const next: PipelineRow = { ...row, name: def.name, current_version: version, updated_at: now, updated_by: ctx.callerId };
      // Every open deal now sits on an older version.
      const [{ n }] = await em.execute<{ n: number }[]>("SELECT count(*)::int AS n FROM deals WHERE tenant_id = ? AND pipeline_id = ? AND state = 'open'", [ctx.tenantId, id]);
      return toProto(next, version, def, n);
    });
  }

  /** The current version (version 0) or that version: its definition, and who made it and when as updated_*. */
  async get(ctx: TenantContext, rawId: string, rawVersion: number): Promise<Pipeline> {
    const id = idArg('id', rawId);
    const version = versionArg('version', rawVersion, 'the current one');
    const em = this.orm.em.fork();
    const row = await findPipeline(em, ctx.tenantId, id);
    if (!row) throw new NotFoundError('pipeline', id);
    const old = await dealsOnOldVersions(em, row);
    if (version === 0 || version === row.current_version) {
      const def = await findDefinition(em, ctx.tenantId, id, row.current_version);
      return toProto(row, row.current_version, def!, old);
    }
    const [v] = await em.execute<{ created_at: Date; created_by: string }[]>('SELECT created_at, created_by FROM pipeline_versions WHERE tenant_id = ? AND pipeline_id = ? AND version = ?', [ctx.tenantId, id, version]);
    const def = v ? await findDefinition(em, ctx.tenantId, id, version) : null;
    if (!v || !def) throw new DomainError('NOT_FOUND', `pipeline ${id} has no version ${version} (the current one is ${row.current_version})`, { details: { entity: 'pipeline version', id } });
    return toProto(row, version, def, old, { at: v.created_at, by: v.created_by });
  }

  /** The tenant's pipelines (oldest first: the first is the board's default), archived ones on request. */
  async list(ctx: TenantContext, includeArchived: boolean): Promise<Pipeline[]> {
    const rows = await this.orm.em.fork().execute<(PipelineRow & { definition: unknown; old: number })[]>(
      `SELECT p.*, v.definition,
         (SELECT count(*)::int FROM deals d WHERE d.tenant_id = p.tenant_id AND d.pipeline_id = p.id AND d.state = 'open' AND d.pipeline_version < p.current_version) AS old
       FROM pipelines p JOIN pipeline_versions v ON v.pipeline_id = p.id AND v.version = p.current_version
       WHERE p.tenant_id = ?${includeArchived ? '' : ' AND NOT p.archived'}
       ORDER BY p.created_at, p.id`,
      [ctx.tenantId],
    );
    return rows.map((r) => toProto(r, r.current_version, PipelineDefinition.fromJSON(r.definition), r.old));
  }

  /** Archives or restores (restoring under a name another active pipeline took → ALREADY_EXISTS). Idempotent. */
  async archive(ctx: TenantContext, rawId: string, archived: boolean): Promise<Pipeline> {
    requireWriter(ctx);
    const id = idArg('id', rawId);
    return this.orm.em.fork().transactional(async (em) => {
      let row = await findPipeline(em, ctx.tenantId, id, { forUpdate: true });
      if (!row) throw new NotFoundError('pipeline', id);
      if (row.archived !== archived) {
        const now = new Date();
        try {
          await em.execute('UPDATE pipelines SET archived = ?, updated_at = ?, updated_by = ? WHERE tenant_id = ? AND id = ?', [archived, now, ctx.callerId, ctx.tenantId, id]);
        } catch (err) {
          if (isUniqueViolation(err)) throw nameTaken(row.name);
          throw err;
        }
        row = { ...row, archived, updated_at: now, updated_by: ctx.callerId };
      }
      const def = await findDefinition(em, ctx.tenantId, id, row.current_version);
      return toProto(row, row.current_version, def!, await dealsOnOldVersions(em, row));
    });
  }

  /** How many open deals of older versions would go where; unmapped_stages lists old stages left out. */
  async previewMigration(ctx: TenantContext, req: { pipelineId: string; mapping: StageMapping[] }): Promise<PreviewMigrationResponse> {
    requireWriter(ctx);
    const id = idArg('pipeline_id', req.pipelineId);
    const em = this.orm.em.fork();
    const row = await findPipeline(em, ctx.tenantId, id);
    if (!row) throw new NotFoundError('pipeline', id);
    const def = (await findDefinition(em, ctx.tenantId, id, row.current_version))!;
    const mapping = checkMapping(req.mapping ?? [], def);
    return plan(await this.groups(em, row), mapping, def);
  }

  /**
   * Moves every open deal of an older version to the current version in one transaction: the pipeline
   * locked (no new version meanwhile), the deals locked, unmapped stages holding deals →
   * FAILED_PRECONDITION, a count other than expected_total → CONFLICT (the preview is stale). Each deal
   * gets the current version and version + 1; one whose stage changes also enters it now, gets a
   * `migrated` history entry and a stage_changed event.
   */
  async applyMigration(ctx: TenantContext, req: { pipelineId: string; mapping: StageMapping[]; expectedTotal: number }): Promise<{ moved: number; pipeline: Pipeline }> {
    requireWriter(ctx);
    const id = idArg('pipeline_id', req.pipelineId);
    if (!Number.isInteger(req.expectedTotal) || req.expectedTotal < 0) throw invalid('expected_total must be the total of the preview', [{ field: 'expected_total', code: 'invalid', message: 'must be the total of the preview (0 or more)' }]);
    return this.orm.em.fork().transactional(async (em) => {
      const row = await findPipeline(em, ctx.tenantId, id, { forUpdate: true });
      if (!row) throw new NotFoundError('pipeline', id);
      const def = (await findDefinition(em, ctx.tenantId, id, row.current_version))!;
      const mapping = checkMapping(req.mapping ?? [], def);
      const before = await em.execute<DealRow[]>(
        `SELECT ${DEAL_COLUMNS} FROM deals d WHERE d.tenant_id = ? AND d.pipeline_id = ? AND d.state = 'open' AND d.pipeline_version < ? ORDER BY d.id FOR UPDATE`,
        [ctx.tenantId, id, row.current_version],
      );
      const counts = new Map<string, Group>();
      for (const d of before) {
        const k = `${d.pipeline_version}\u0000${d.stage}`;
        const g = counts.get(k) ?? { version: d.pipeline_version, stage: d.stage, deals: 0 };
        g.deals++;
        counts.set(k, g);
      }
      const p = plan([...counts.values()], mapping, def);
      if (p.unmappedStages.length) throw unmappedError(p.unmappedStages);
      if (p.total !== req.expectedTotal) {
        throw new DomainError('CONFLICT', `${p.total} deals are on older versions now, not ${req.expectedTotal}: preview the migration again`, {
          details: { reason: 'migration_total_changed', public: { total: String(p.total) } },
        });
      }
      if (!before.length) return { moved: 0, pipeline: toProto(row, row.current_version, def, 0) };

      const now = new Date();
      const pairs = [...new Set(before.map((d) => d.stage))].map((from) => ({ from_stage: from, to_stage: targetOf(mapping, def, from)! }));
      const after = await em.execute<DealRow[]>(
        `UPDATE deals d SET stage = m.to_stage, pipeline_version = ?, version = d.version + 1, updated_at = ?,
           stage_entered_at = CASE WHEN d.stage <> m.to_stage THEN ?::timestamptz ELSE d.stage_entered_at END
         FROM jsonb_to_recordset(?::jsonb) AS m(from_stage text, to_stage text)
         WHERE d.tenant_id = ? AND d.pipeline_id = ? AND d.state = 'open' AND d.pipeline_version < ? AND d.stage = m.from_stage
         RETURNING ${DEAL_COLUMNS}`,
        [row.current_version, now, now, JSON.stringify(pairs), ctx.tenantId, id, row.current_version],
      );
      const old = new Map(before.map((d) => [d.id, d]));
      const oldDefs = new Map<number, PipelineDefinition>();
      for (const d of after.sort((a, b) => (a.id < b.id ? -1 : 1))) {
        const was = old.get(d.id)!;
        if (was.stage === d.stage) continue;
        let oldDef = oldDefs.get(was.pipeline_version);
        if (!oldDef) {
          oldDef = (await findDefinition(em, ctx.tenantId, id, was.pipeline_version))!;
          oldDefs.set(was.pipeline_version, oldDef);
        }
        const toName = findStage(def, d.stage)!.name;
        await appendHistory(em, {
          dealId: d.id,
          tenantId: ctx.tenantId,
          kind: 'migrated',
          fromStage: was.stage,
          toStage: d.stage,
          fromStageName: findStage(oldDef, was.stage)?.name ?? was.stage,
          toStageName: toName,
          pipelineVersion: row.current_version,
          // em.execute gives timestamps as text (MikroORM's type parsers), whatever DealRow says.
          enteredFromAt: new Date(was.stage_entered_at),
          comment: `migrated from version ${was.pipeline_version} to ${row.current_version}`,
          changedBy: ctx.callerId,
          at: now,
        });
        enqueueDealEvent(em, d, DEAL_STAGE_CHANGED, DealStageChanged, DealStageChanged.fromPartial({ deal: snapshotOf(d, toName), fromStageId: was.stage, toStageId: d.stage, changedBy: ctx.callerId }));
      }
      return { moved: after.length, pipeline: toProto(row, row.current_version, def, 0) };
    });
  }

  private async groups(em: EntityManager, row: PipelineRow): Promise<Group[]> {
    const rows = await em.execute<{ version: number; stage: string; deals: number }[]>(
      `SELECT pipeline_version AS version, stage, count(*)::int AS deals FROM deals
       WHERE tenant_id = ? AND pipeline_id = ? AND state = 'open' AND pipeline_version < ?
       GROUP BY pipeline_version, stage ORDER BY pipeline_version, stage`,
      [row.tenant_id, row.id, row.current_version],
    );
    return rows;
  }
}
