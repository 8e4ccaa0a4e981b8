/**
 * Between the funnel's REST JSON (routes/funnel.ts, routes/conversion.ts) and funnel's protobuf messages
 * (PipelineService, DealService): snake_case, enums as words (`STAGE_OUTCOME_WON` → `won`,
 * `SALES_CHANNEL_COLD_SALES` → `cold_sales`), '' ↔ null for absent references and values, int64 amounts
 * as JSON integers; and the members a funnel error adds to its problem (a refused move's `stage` /
 * `allowed`, a failing guard's `guard` / `missing`, a rejected definition's `violations`).
 */
import {
  BoardColumn,
  ChecklistItem,
  CreateDealRequest,
  Deal,
  DealState,
  LinkedRequest,
  SalesChannel,
  StageChange,
  UpdateDealRequest,
  type BoardFilter,
  type CurrencyTotal,
  type GetBoardResponse,
} from '@crm/contracts/crm/funnel/v1/deals';
import {
  FieldType,
  Pipeline,
  StageOutcome,
  type FieldDefinition,
  type MigrationMove,
  type PipelineDefinition,
  type PreviewMigrationResponse,
  type StageDefinition,
  type StageMapping,
  type Violation,
} from '@crm/contracts/crm/funnel/v1/pipelines';
import { words } from './enum-words';

export const STAGE_OUTCOMES = words([
  [StageOutcome.STAGE_OUTCOME_OPEN, 'open'],
  [StageOutcome.STAGE_OUTCOME_WON, 'won'],
  [StageOutcome.STAGE_OUTCOME_LOST, 'lost'],
]);
export const FIELD_TYPES = words([
  [FieldType.FIELD_TYPE_TEXT, 'text'],
  [FieldType.FIELD_TYPE_NUMBER, 'number'],
  [FieldType.FIELD_TYPE_INTEGER, 'integer'],
  [FieldType.FIELD_TYPE_BOOLEAN, 'boolean'],
  [FieldType.FIELD_TYPE_DATE, 'date'],
  [FieldType.FIELD_TYPE_ENUM, 'enum'],
]);
export const DEAL_STATES = words([
  [DealState.DEAL_STATE_OPEN, 'open'],
  [DealState.DEAL_STATE_WON, 'won'],
  [DealState.DEAL_STATE_LOST, 'lost'],
]);
/** How a deal was sourced (DOMAIN.md's sales channels). */
export const SALES_CHANNELS = words([
  [SalesChannel.SALES_CHANNEL_AGENTS, 'agents'],
  [SalesChannel.SALES_CHANNEL_AD_AGENCIES, 'ad_agencies'],
  [SalesChannel.SALES_CHANNEL_INBOUND_LEADGEN, 'inbound_leadgen'],
  [SalesChannel.SALES_CHANNEL_COLD_SALES, 'cold_sales'],
  [SalesChannel.SALES_CHANNEL_TECH_PARTNERS, 'tech_partners'],
]);
/** What a guard that failed checked (FAILED_PRECONDITION details `guard`). */
export const GUARDS = ['required_fields', 'checklist_complete'] as const;
/** A stage's, field's or checklist item's key. */
export const KEY_RE = /^[a-z][a-z0-9_]{0,39}$/;

const orNull = (s: string | undefined) => (s ? s : null);
/** A word of a table, or null for UNSPECIFIED (a deal with no sales channel). */
const wordOrNull = (table: { out: (e: number) => string }, e: number) => {
  const w = table.out(e);
  return w === 'unspecified' ? null : w;
};

// ---- pipelines -----------------------------------------------------------------------------------------

export interface StageBody {
  key: string;
  name: string;
  outcome?: string;
  to?: string[];
  guard?: { required_fields?: string[]; checklist_complete?: boolean };
  checklist?: { key: string; text: string }[];
  probability?: number;
}

export interface FieldBody {
  key: string;
  label: string;
  type: string;
  options?: string[];
}

export interface DefinitionBody {
  name: string;
  stages: StageBody[];
  lost_reasons?: string[];
  fields?: FieldBody[];
  default_currency?: string;
}

export function definitionIn(b: DefinitionBody): PipelineDefinition {
  return {
    name: b.name,
    stages: b.stages.map(
      (s): StageDefinition => ({
        key: s.key,
        name: s.name,
        outcome: STAGE_OUTCOMES.in(s.outcome ?? ''),
        to: s.to ?? [],
        guard: { requiredFields: s.guard?.required_fields ?? [], checklistComplete: s.guard?.checklist_complete ?? false, questionnaireId: '' },
        checklist: (s.checklist ?? []).map((c) => ({ key: c.key, text: c.text })),
        probability: s.probability ?? 0,
      }),
    ),
    lostReasons: b.lost_reasons ?? [],
    fields: (b.fields ?? []).map((f): FieldDefinition => ({ key: f.key, label: f.label, type: FIELD_TYPES.in(f.type), options: f.options ?? [] })),
    defaultCurrency: b.default_currency ?? '',
  };
}

export function stageOut(s: StageDefinition) {
  return {
    key: s.key,
    name: s.name,
    outcome: STAGE_OUTCOMES.out(s.outcome),
    to: s.to,
    guard: { required_fields: s.guard?.requiredFields ?? [], checklist_complete: s.guard?.checklistComplete ?? false },
    checklist: s.checklist.map((c) => ({ key: c.key, text: c.text })),
    probability: s.probability,
  };
}

export function pipelineOut(p: Pipeline) {
  const d = p.definition;
  return {
    id: p.id,
    version: p.version,
    name: d?.name ?? '',
    stages: (d?.stages ?? []).map(stageOut),
    lost_reasons: d?.lostReasons ?? [],
    fields: (d?.fields ?? []).map((f) => ({ key: f.key, label: f.label, type: FIELD_TYPES.out(f.type), options: f.options })),
    default_currency: d?.defaultCurrency || 'RUB',
    archived: p.archived,
    deals_on_old_versions: p.dealsOnOldVersions,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    updated_by: orNull(p.updatedBy),
  };
}

export const violationOut = (v: Violation) => ({ field: v.field, code: v.code, message: v.message });

export interface MappingBody {
  from_stage: string;
  to_stage: string;
}
export const mappingIn = (m: MappingBody[]): StageMapping[] => m.map((x) => ({ fromStage: x.from_stage, toStage: x.to_stage }));

export function previewOut(p: PreviewMigrationResponse) {
  return {
    moves: p.moves.map((m: MigrationMove) => ({ from_version: m.fromVersion, from_stage: m.fromStage, to_stage: m.toStage, deals: m.deals })),
    total: p.total,
    unmapped_stages: p.unmappedStages,
  };
}

// ---- deals -------------------------------------------------------------------------------------------------

export function checklistItemOut(c: ChecklistItem) {
  return { key: c.key, text: c.text, checked: c.checked, checked_by: orNull(c.checkedBy), checked_at: orNull(c.checkedAt) };
}

export function dealOut(d: Deal) {
  const a = d.attribution;
  return {
    id: d.id,
    title: d.title,
    amount_minor: d.amountMinor,
    currency: d.currency,
    pipeline_id: d.pipelineId,
    pipeline_version: d.pipelineVersion,
    stage: d.stage,
    stage_name: d.stageName,
    state: DEAL_STATES.out(d.state),
    lost_reason: orNull(d.lostReason),
    client_card_id: orNull(d.clientCardId),
    company_id: orNull(d.companyId),
    contact_ids: d.contactIds,
    owner_id: orNull(d.ownerId),
    department_id: orNull(d.departmentId),
    project_id: orNull(d.projectId),
    sales_channel: wordOrNull(SALES_CHANNELS, d.salesChannel),
    partner_card_id: orNull(d.partnerCardId),
    attribution: {
      utm_source: orNull(a?.utmSource),
      utm_medium: orNull(a?.utmMedium),
      utm_campaign: orNull(a?.utmCampaign),
      utm_content: orNull(a?.utmContent),
      utm_term: orNull(a?.utmTerm),
      landing_page: orNull(a?.landingPage),
      channel: orNull(a?.channel),
      dialed_number_kind: orNull(a?.dialedNumberKind),
    },
    origin_request_id: orNull(d.originRequestId),
    custom_fields: { ...d.customFields },
    expected_close_date: orNull(d.expectedCloseDate),
    checklist: d.checklist.map(checklistItemOut),
    version: d.version,
    stage_entered_at: d.stageEnteredAt,
    closed_at: orNull(d.closedAt),
    created_at: d.createdAt,
    updated_at: d.updatedAt,
    created_by: orNull(d.createdBy),
  };
}

export const linkedRequestOut = (r: LinkedRequest) => ({ request_id: r.requestId, kind: r.kind, linked_at: r.linkedAt, linked_by: orNull(r.linkedBy) });

export function stageChangeOut(c: StageChange) {
  return {
    seq: c.seq,
    kind: c.kind,
    from_stage: orNull(c.fromStage),
    to_stage: c.toStage,
    from_stage_name: orNull(c.fromStageName),
    to_stage_name: c.toStageName,
    pipeline_version: c.pipelineVersion,
    seconds_in_stage: c.secondsInStage,
    lost_reason: orNull(c.lostReason),
    comment: orNull(c.comment),
    changed_by: orNull(c.changedBy),
    changed_at: c.changedAt,
  };
}

const totalOut = (t: CurrencyTotal) => ({ currency: t.currency, amount_minor: t.amountMinor });

export function columnOut(c: BoardColumn) {
  return {
    stage: c.stage,
    name: c.name,
    outcome: STAGE_OUTCOMES.out(c.outcome),
    count: c.count,
    totals: c.totals.map(totalOut),
    items: c.deals.map(dealOut),
    next_cursor: orNull(c.nextCursor),
  };
}

export const boardOut = (b: GetBoardResponse) => ({ pipeline: b.pipeline ? pipelineOut(b.pipeline) : null, columns: b.columns.map(columnOut) });

export interface DealBody {
  pipeline_id: string;
  title: string;
  amount_minor?: number;
  currency?: string;
  stage?: string;
  client_card_id?: string;
  company_id?: string;
  contact_ids?: string[];
  owner_id?: string;
  department_id?: string;
  project_id?: string;
  sales_channel?: string;
  partner_card_id?: string;
  custom_fields?: Record<string, string>;
  expected_close_date?: string;
}

export function dealCreateIn(b: DealBody, idempotencyKey: string): CreateDealRequest {
  return CreateDealRequest.fromPartial({
    pipelineId: b.pipeline_id,
    title: b.title,
    amountMinor: b.amount_minor ?? 0,
    currency: b.currency ?? '',
    stage: b.stage ?? '',
    clientCardId: b.client_card_id ?? '',
    companyId: b.company_id ?? '',
    contactIds: b.contact_ids ?? [],
    ownerId: b.owner_id ?? '',
    departmentId: b.department_id ?? '',
    projectId: b.project_id ?? '',
    salesChannel: b.sales_channel ? SALES_CHANNELS.in(b.sales_channel) : SalesChannel.SALES_CHANNEL_UNSPECIFIED,
    partnerCardId: b.partner_card_id ?? '',
    customFields: b.custom_fields ?? {},
    expectedCloseDate: b.expected_close_date ?? '',
    idempotencyKey,
  });
}

export interface DealChangeBody {
  expected_version?: number;
  title?: string;
  amount_minor?: number;
  currency?: string;
  client_card_id?: string | null;
  company_id?: string | null;
  contact_ids?: string[];
  owner_id?: string | null;
  department_id?: string | null;
  project_id?: string | null;
  sales_channel?: string | null;
  partner_card_id?: string | null;
  custom_fields?: Record<string, string | null>;
  expected_close_date?: string | null;
}

/** A field left out stays as it is; null clears it ('' to funnel); a custom field set to null (or '') is removed. */
export function dealUpdateIn(id: string, b: DealChangeBody): UpdateDealRequest {
  const ref = (v: string | null | undefined) => (v === undefined ? undefined : (v ?? ''));
  return UpdateDealRequest.fromPartial({
    id,
    expectedVersion: b.expected_version ?? 0,
    title: b.title,
    amountMinor: b.amount_minor,
    currency: b.currency,
    clientCardId: ref(b.client_card_id),
    companyId: ref(b.company_id),
    contactIds: b.contact_ids ?? [],
    setContactIds: b.contact_ids !== undefined,
    ownerId: ref(b.owner_id),
    departmentId: ref(b.department_id),
    projectId: ref(b.project_id),
    salesChannel: b.sales_channel === undefined ? undefined : b.sales_channel === null ? SalesChannel.SALES_CHANNEL_UNSPECIFIED : SALES_CHANNELS.in(b.sales_channel),
    partnerCardId: ref(b.partner_card_id),
    expectedCloseDate: ref(b.expected_close_date),
    customFields: Object.fromEntries(Object.entries(b.custom_fields ?? {}).map(([k, v]) => [k, v ?? ''])),
  });
}

export interface BoardQuery {
  owner_id?: string;
  department_id?: string;
  sales_channel?: string;
  q?: string;
  project_id?: string;
}

/** The board's (and the deal list's) filter; `owner_id=me` is the caller. */
export function boardFilterIn(q: BoardQuery, callerId: string): BoardFilter {
  return {
    ownerIds: q.owner_id ? [q.owner_id === 'me' ? callerId : q.owner_id] : [],
    departmentIds: q.department_id ? [q.department_id] : [],
    salesChannels: q.sales_channel ? [SALES_CHANNELS.in(q.sales_channel)] : [],
    q: q.q ?? '',
    projectId: q.project_id ?? '',
  };
}

// ---- problems ------------------------------------------------------------------------------------------------

function parseMaybe(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** A list detail: a JSON array (as an array or its text) or a comma-separated text. */
function listOf(v: unknown): unknown[] | undefined {
  const raw = parseMaybe(v);
  if (Array.isArray(raw)) return raw;
  if (typeof raw === 'string') return raw.split(',').map((s) => s.trim()).filter(Boolean);
  return undefined;
}

const isKey = (v: unknown): v is string => typeof v === 'string' && KEY_RE.test(v);

/**
 * What a funnel error adds to its problem, keyed on the details' shape (intake's transitions say `state`,
 * funnel's moves say `stage`): a move the definition forbids → `stage` and `allowed` (stage keys); a guard
 * that fails → `stage`, `guard` and `missing` (field or checklist item keys); a rejected definition →
 * `violations` ({field, code, message}). Empty when the details are not a funnel's.
 */
export function funnelProblemMembers(details: Record<string, unknown>): Record<string, unknown> {
  const members: Record<string, unknown> = {};
  const violations = listOf(details.violations);
  if (violations) {
    const out = violations
      .filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null)
      .map((v) => ({ field: String(v.field ?? ''), code: String(v.code ?? 'invalid'), message: String(v.message ?? '') }));
    if (out.length) members.violations = out;
  }
  if (!isKey(details.stage)) return members;
  members.stage = details.stage;
  const guard = details.guard;
  if (typeof guard === 'string' && (GUARDS as readonly string[]).includes(guard)) {
    members.guard = guard;
    members.missing = (listOf(details.missing) ?? []).filter(isKey);
  } else {
    const allowed = listOf(details.allowed);
    if (allowed) members.allowed = allowed.filter(isKey);
  }
  return members;
}

/** The REST JSON of a funnel `current` (protobuf JSON of a Deal or a Pipeline), undefined when it is neither. */
export function funnelCurrentOut(obj: object): unknown {
  if ('pipelineId' in obj && 'stage' in obj) return dealOut(Deal.fromJSON(obj));
  if ('definition' in obj && 'version' in obj) return pipelineOut(Pipeline.fromJSON(obj));
  return undefined;
}
