/**
 * What the deal tests share: pipelines written straight into the tables (so the deal tests do not depend
 * on PipelineService; every definition is checked with validateDefinition first), callers of every kind,
 * the error details a refusal carries, and a CreateDealRequest with defaults.
 */
import { CreateDealRequest } from '@crm/contracts/crm/funnel/v1/deals';
import { FieldType, StageOutcome, type PipelineDefinition, type StageDefinition } from '@crm/contracts/crm/funnel/v1/pipelines';
import { uuidv7 } from '@crm/db';
import type { ServiceError, TenantContext } from '@crm/grpc';
import { validateDefinition } from '../src/domain/validate';
import { definitionToJson } from '../src/pipelines/store';
import type { FunnelHarness } from './harness';

export const OPEN = StageOutcome.STAGE_OUTCOME_OPEN;
export const WON = StageOutcome.STAGE_OUTCOME_WON;
export const LOST = StageOutcome.STAGE_OUTCOME_LOST;

export function st(key: string, outcome: StageOutcome, to: string[] = [], over: Partial<StageDefinition> = {}): StageDefinition {
  return {
    key,
    name: key.charAt(0).toUpperCase() + key.slice(1),
    outcome,
    to,
    guard: { requiredFields: [], checklistComplete: false, questionnaireId: '' },
    checklist: [],
    probability: 0,
    ...over,
  };
}

/**
 * lead → qualify → proposal → won | lost; lead → lost. qualify has a checklist (need, budget) that
 * proposal requires complete; proposal requires an amount and the custom `tier`; won requires a client card.
 */
export function salesPipeline(name = 'Sales'): PipelineDefinition {
  return {
    name,
    defaultCurrency: 'RUB',
    lostReasons: ['Too expensive', 'Chose a competitor'],
    fields: [
      { key: 'tier', label: 'Tier', type: FieldType.FIELD_TYPE_ENUM, options: ['gold', 'silver'] },
      { key: 'seats', label: 'Seats', type: FieldType.FIELD_TYPE_INTEGER, options: [] },
      { key: 'note', label: 'Note', type: FieldType.FIELD_TYPE_TEXT, options: [] },
    ],
    stages: [
      st('lead', OPEN, ['qualify', 'lost']),
      st('qualify', OPEN, ['proposal', 'lead', 'lost'], {
        checklist: [
          { key: 'need', text: 'Learn the need' },
          { key: 'budget', text: 'Confirm the budget' },
        ],
      }),
      st('proposal', OPEN, ['won', 'lost', 'qualify'], { guard: { requiredFields: ['amount', 'tier'], checklistComplete: true, questionnaireId: '' } }),
      st('won', WON, [], { guard: { requiredFields: ['client_card_id'], checklistComplete: false, questionnaireId: '' } }),
      st('lost', LOST),
    ],
  };
}

/** Writes a pipeline at version 1 (or more versions: defs[i] is version i + 1); returns its id. */
export async function seedPipeline(h: FunnelHarness, tenantId: string, defs: PipelineDefinition | PipelineDefinition[], opts: { archived?: boolean } = {}): Promise<string> {
  const versions = Array.isArray(defs) ? defs : [defs];
  for (const d of versions) {
    const problems = validateDefinition(d);
    if (problems.length) throw new Error(`test pipeline is invalid: ${JSON.stringify(problems)}`);
  }
  const id = uuidv7();
  const now = new Date();
  await h.sql('INSERT INTO pipelines (id, tenant_id, name, current_version, archived, created_at, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
    id, tenantId, versions[versions.length - 1]!.name, versions.length, opts.archived ?? false, now, now, 'test',
  ]);
  for (const [i, d] of versions.entries()) {
    await h.sql('INSERT INTO pipeline_versions (pipeline_id, version, tenant_id, definition, created_at, created_by) VALUES (?, ?, ?, ?::jsonb, ?, ?)', [
      id, i + 1, tenantId, JSON.stringify(definitionToJson(d)), now, 'test',
    ]);
  }
  return id;
}

/** Adds the next version of a pipeline and makes it current (deals stay on theirs). */
export async function addVersion(h: FunnelHarness, tenantId: string, pipelineId: string, def: PipelineDefinition): Promise<number> {
  const [row] = await h.sql<{ v: number }>('UPDATE pipelines SET current_version = current_version + 1 WHERE id = ? RETURNING current_version AS v', [pipelineId]);
  await h.sql('INSERT INTO pipeline_versions (pipeline_id, version, tenant_id, definition, created_at, created_by) VALUES (?, ?, ?, ?::jsonb, ?, ?)', [
    pipelineId, row!.v, tenantId, JSON.stringify(definitionToJson(def)), new Date(), 'test',
  ]);
  return row!.v;
}

export function deal(pipelineId: string, over: Partial<CreateDealRequest> = {}): CreateDealRequest {
  return CreateDealRequest.fromPartial({ pipelineId, title: 'Поставка серверов', ...over });
}

export function seller(tenantId: string, userId: string, departmentIds: string[] = []): TenantContext {
  return { tenantId, callerId: userId, callerKind: 'user', roles: ['seller'], departmentIds };
}

export function head(tenantId: string, userId: string, headed: string[] = []): TenantContext {
  return { tenantId, callerId: userId, callerKind: 'user', roles: ['head_of_sales'], departmentIds: [], headedDepartmentIds: headed };
}

export function analyst(tenantId: string): TenantContext {
  return { tenantId, callerId: uuidv7(), callerKind: 'user', roles: ['analyst'] };
}

/** The public details of a refusal (x-error-details), lists parsed from their JSON text. */
export function details(err: ServiceError): Record<string, unknown> {
  const raw = err.metadata?.get('x-error-details')[0];
  if (!raw) return {};
  const d = JSON.parse(raw.toString()) as Record<string, string>;
  const out: Record<string, unknown> = { ...d };
  for (const k of ['allowed', 'missing']) if (typeof d[k] === 'string') out[k] = JSON.parse(d[k]!);
  return out;
}

export const reason = (err: ServiceError): string | undefined => err.metadata?.get('x-error-reason')[0]?.toString();
export const violations = (err: ServiceError): { field: string; message: string }[] => {
  const raw = err.metadata?.get('x-error-violations')[0];
  return raw ? JSON.parse(raw.toString()) : [];
};

/** deal_open_totals as the trigger keeps it, and the same sums over deals: equal when it is right. */
export async function openTotalsDrift(h: FunnelHarness, tenantId: string): Promise<{ kept: string[]; live: string[] }> {
  const kept = await h.sql<{ k: string }>(
    `SELECT concat_ws('|', pipeline_id, stage, currency, owner_id, department_id, n, amount) AS k FROM deal_open_totals WHERE tenant_id = ? AND n <> 0 ORDER BY 1`,
    [tenantId],
  );
  const live = await h.sql<{ k: string }>(
    `SELECT concat_ws('|', pipeline_id, stage, currency, owner_id, department_id, count(*), sum(amount_minor)) AS k FROM deals WHERE tenant_id = ? AND state = 'open'
      GROUP BY pipeline_id, stage, currency, owner_id, department_id ORDER BY 1`,
    [tenantId],
  );
  return { kept: kept.map((r) => r.k), live: live.map((r) => r.k) };
}
