/**
 * The funnel's REST API as the pipelines list, the pipeline editor and the convert/attach dialogs use it
 * (paths and shapes of the contract, `/work/briefs/9/funnel.md`): pipelines (list, get a version,
 * validate as you edit, create, update with the version shown, archive), the migration of deals on older
 * versions (preview, apply), convert a request into a deal, attach a request to a deal or a client card,
 * and the deals a request led to. The calls go through `apiFetch` (the same session, CSRF and problem
 * rules as the generated client) with the types below; once the gateway's document describes these
 * routes the generated client can take over call by call.
 */
import { apiFetch, ApiError, type CrmRequest } from '../../api';

export type StageOutcome = 'open' | 'won' | 'lost';
export type FieldType = 'text' | 'number' | 'integer' | 'boolean' | 'date' | 'enum';

export interface StageGuard {
  required_fields: string[];
  checklist_complete: boolean;
}

export interface ChecklistItemDefinition {
  key: string;
  text: string;
}

export interface StageDefinition {
  key: string;
  name: string;
  /** Absent: not labelled (a terminal without a label is a violation the editor shows). */
  outcome?: StageOutcome;
  to: string[];
  guard: StageGuard;
  checklist: ChecklistItemDefinition[];
  probability?: number;
}

export interface FieldDefinition {
  key: string;
  label: string;
  type: FieldType;
  options: string[];
}

/** What the editor sends: the body of validate, create and (with `expected_version`) update. */
export interface PipelineDefinition {
  name: string;
  stages: StageDefinition[];
  lost_reasons: string[];
  fields: FieldDefinition[];
  /** Absent: RUB. */
  default_currency?: string;
}

export interface Pipeline extends PipelineDefinition {
  default_currency: string;
  id: string;
  version: number;
  archived: boolean;
  /** Open deals still on older versions (waiting for a migration). */
  deals_on_old_versions: number;
  created_at: string;
  updated_at: string;
  updated_by: string | null;
}

export interface Violation {
  /** A path into the definition, e.g. `stages[2].to[0]`, `fields[1].key`, `name`. */
  field: string;
  code: string;
  message: string;
}

export interface StageMapping {
  from_stage: string;
  to_stage: string;
}

export interface MigrationMove {
  from_version: number;
  from_stage: string;
  to_stage: string;
  deals: number;
}

export interface MigrationPreview {
  moves: MigrationMove[];
  total: number;
  /** Old stages holding deals that the mapping leaves out (the apply would refuse). */
  unmapped_stages: string[];
}

/** The few deal fields the dialogs show (the board and the deal page have the whole deal). */
export interface DealSummary {
  id: string;
  title: string;
  amount_minor: number;
  currency: string;
  pipeline_id: string;
  stage: string;
  stage_name: string;
  state: StageOutcome;
  client_card_id: string | null;
  updated_at: string;
}

export interface ClientCardSummary {
  id: string;
  display_name: string;
  state: string;
}

/** The problem members a pipeline write answers with: 400 `violations`, 412 `current`. */
export interface PipelineProblem {
  violations?: Violation[];
  current?: Pipeline;
  unmapped_stages?: string[];
}

export function pipelineProblem(err: unknown): PipelineProblem {
  return err instanceof ApiError ? (err.problem as unknown as PipelineProblem) : {};
}

const id = (v: string) => encodeURIComponent(v);

export const editorApi = {
  listPipelines: async (includeArchived: boolean, signal?: AbortSignal): Promise<Pipeline[]> =>
    (await apiFetch<{ items: Pipeline[] }>('GET', '/v1/pipelines', { query: { include_archived: includeArchived || undefined }, signal })).items ?? [],
  getPipeline: (pipelineId: string, version?: number, signal?: AbortSignal): Promise<Pipeline> =>
    apiFetch('GET', `/v1/pipelines/${id(pipelineId)}`, { query: { version: version || undefined }, signal }),
  validate: async (def: PipelineDefinition, signal?: AbortSignal): Promise<Violation[]> =>
    (await apiFetch<{ violations: Violation[] }>('POST', '/v1/pipelines/validate', { json: def, signal })).violations ?? [],
  create: (def: PipelineDefinition): Promise<Pipeline> => apiFetch('POST', '/v1/pipelines', { json: def }),
  update: (pipelineId: string, expectedVersion: number, def: PipelineDefinition): Promise<Pipeline> =>
    apiFetch('PUT', `/v1/pipelines/${id(pipelineId)}`, { json: { expected_version: expectedVersion, ...def } }),
  archive: (pipelineId: string, archived: boolean): Promise<Pipeline> => apiFetch('POST', `/v1/pipelines/${id(pipelineId)}/archive`, { json: { archived } }),
  previewMigration: (pipelineId: string, mapping: StageMapping[], signal?: AbortSignal): Promise<MigrationPreview> =>
    apiFetch('POST', `/v1/pipelines/${id(pipelineId)}/migration/preview`, { json: { mapping }, signal }),
  applyMigration: (pipelineId: string, mapping: StageMapping[], expectedTotal: number): Promise<{ moved: number; pipeline: Pipeline }> =>
    apiFetch('POST', `/v1/pipelines/${id(pipelineId)}/migration`, { json: { mapping, expected_total: expectedTotal } }),

  convert: (
    requestId: string,
    body: { pipeline_id: string; title?: string; amount_minor?: number; currency?: string },
  ): Promise<{ deal: DealSummary; request: CrmRequest }> => apiFetch('POST', `/v1/requests/${id(requestId)}/convert`, { json: body }),
  attach: (requestId: string, to: { deal_id: string } | { client_card_id: string }): Promise<{ deal: DealSummary | null; request: CrmRequest }> =>
    apiFetch('POST', `/v1/requests/${id(requestId)}/attach`, { json: to }),
  dealsOfRequest: async (requestId: string, signal?: AbortSignal): Promise<DealSummary[]> =>
    (await apiFetch<{ items: DealSummary[] }>('GET', `/v1/requests/${id(requestId)}/deals`, { signal })).items ?? [],
  searchOpenDeals: async (q: string, signal?: AbortSignal): Promise<DealSummary[]> =>
    (await apiFetch<{ items: DealSummary[] }>('GET', '/v1/deals', { query: { q: q || undefined, state: 'open', limit: 20 }, signal })).items ?? [],
  cardsOfContact: async (contactId: string, signal?: AbortSignal): Promise<ClientCardSummary[]> =>
    (await apiFetch<{ items: ClientCardSummary[] }>('GET', '/v1/client-cards', { query: { contact_id: contactId }, signal })).items ?? [],
};
