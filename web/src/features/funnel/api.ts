/**
 * The funnel part of the gateway's REST API as the board and the deal page use it: pipelines (read),
 * deals, stage moves, reopen, checklists, history and the board. Paths, parameters, bodies and answers
 * are typed by `gen/api.ts` (generated from the gateway's OpenAPI document) and called through the
 * typed client; `Complete<…>` because a schema shared with a request body (`Stage`) marks what the
 * gateway always answers as optional. The pipeline editor's calls live in `editor-api.ts`.
 */
import { client, unwrap, type Complete } from '../../api';
import type { components } from '../../gen/api';

type S = components['schemas'];

export type Pipeline = Complete<S['Pipeline']>;
export type Stage = Pipeline['stages'][number];
export type FieldDefinition = Pipeline['fields'][number];
export type Deal = Complete<S['Deal']>;
export type DealWithRequests = Complete<S['DealDetail']>;
export type LinkedRequest = DealWithRequests['requests'][number];
export type ChecklistItem = Deal['checklist'][number];
export type StageChange = Complete<S['StageChange']>;
export type Board = Complete<S['Board']>;
export type BoardColumn = Board['columns'][number];
export type Money = BoardColumn['totals'][number];
export type StageOutcome = Stage['outcome'];
export type DealState = Deal['state'];
export type FieldType = FieldDefinition['type'];
export type SalesChannel = NonNullable<Deal['sales_channel']>;
/**
 * What `PATCH /v1/deals/{id}` takes besides `expected_version` (only the fields that change; the
 * document's `UpdateDeal` is an "at least one of" union, so the fields the page edits are spelled here).
 */
export interface DealPatch {
  title?: string;
  amount_minor?: number;
  currency?: string;
  owner_id?: string | null;
  sales_channel?: SalesChannel | null;
  expected_close_date?: string | null;
  custom_fields?: Record<string, string>;
}

// Every value once (a missing or unknown value is a compile error).
const CHANNEL_SET: Record<SalesChannel, true> = { agents: true, ad_agencies: true, inbound_leadgen: true, cold_sales: true, tech_partners: true };
export const SALES_CHANNELS = Object.keys(CHANNEL_SET) as readonly SalesChannel[];

export interface BoardFilters {
  owner_id?: string;
  department_id?: string;
  sales_channel?: string;
}

export interface Paged<T> {
  items: T[];
  next_cursor: string | null;
}

const BOARD_LIMIT = 20;

export const funnelApi = {
  listPipelines: async (signal?: AbortSignal): Promise<Pipeline[]> => (await unwrap(client.GET('/v1/pipelines', { signal }), signal)).items,
  /** A pipeline at its current version, or at `version` (a deal's own). */
  getPipeline: (id: string, version?: number, signal?: AbortSignal): Promise<Pipeline> =>
    unwrap(client.GET('/v1/pipelines/{id}', { params: { path: { id }, query: { version } }, signal }), signal),
  board: (pipelineId: string, f: BoardFilters, signal?: AbortSignal): Promise<Board> =>
    unwrap(client.GET('/v1/pipelines/{id}/board', { params: { path: { id: pipelineId }, query: { ...filterQuery(f), limit: BOARD_LIMIT } }, signal }), signal),
  column: (pipelineId: string, stage: string, f: BoardFilters, cursor: string, signal?: AbortSignal): Promise<Paged<Deal>> =>
    unwrap(client.GET('/v1/pipelines/{id}/board/{stage}', { params: { path: { id: pipelineId, stage }, query: { ...filterQuery(f), limit: BOARD_LIMIT, cursor } }, signal }), signal),
  getDeal: (id: string, signal?: AbortSignal): Promise<DealWithRequests> => unwrap(client.GET('/v1/deals/{id}', { params: { path: { id } }, signal }), signal),
  updateDeal: (id: string, expectedVersion: number, patch: DealPatch): Promise<Deal> =>
    unwrap(client.PATCH('/v1/deals/{id}', { params: { path: { id } }, body: { ...patch, expected_version: expectedVersion } })),
  move: (id: string, body: S['MoveDeal']): Promise<Deal> => unwrap(client.POST('/v1/deals/{id}/move', { params: { path: { id } }, body })),
  reopen: (id: string, body: S['ReopenDeal']): Promise<Deal> => unwrap(client.POST('/v1/deals/{id}/reopen', { params: { path: { id } }, body })),
  setChecklistItem: (id: string, key: string, checked: boolean): Promise<Deal> =>
    unwrap(client.PUT('/v1/deals/{id}/checklist/{item_key}', { params: { path: { id, item_key: key } }, body: { checked } })),
  history: async (id: string, signal?: AbortSignal): Promise<StageChange[]> => (await unwrap(client.GET('/v1/deals/{id}/history', { params: { path: { id } }, signal }), signal)).items,
};

/** The board's filters as its query (a channel the API does not know is left out rather than sent). */
function filterQuery(f: BoardFilters) {
  const channel = SALES_CHANNELS.find((c) => c === f.sales_channel);
  return { owner_id: f.owner_id || undefined, department_id: f.department_id || undefined, sales_channel: channel };
}
