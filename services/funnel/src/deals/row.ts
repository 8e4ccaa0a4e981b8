/**
 * A deal as its row reads (timestamps as `em.execute` gives them: strings — wrap in `new Date()`) (the SQL of ./ and ../pipelines/ select DEAL_COLUMNS), its event snapshot, and
 * the two writes every stage change makes: a history entry and an event in the outbox, both in the
 * caller's transaction. Shared by DealService (moves) and PipelineService (migrations).
 */
import { DealSnapshot, DealStatus } from '@crm/contracts/crm/funnel/events/v1/deal_events';
import type { EntityManager } from '@crm/db';
import { enqueueEvent, type Codec } from '@crm/kafka';
import { DEAL_TOPIC, EVENT_SOURCE } from '../events';

export type DealStateName = 'open' | 'won' | 'lost';

export interface DealRow {
  id: string;
  tenant_id: string;
  pipeline_id: string;
  pipeline_version: number;
  stage: string;
  state: DealStateName;
  lost_reason: string | null;
  title: string;
  /** bigint: node-postgres gives a string. */
  amount_minor: string;
  currency: string;
  client_card_id: string | null;
  company_id: string | null;
  contact_ids: string[];
  owner_id: string | null;
  department_id: string | null;
  project_id: string | null;
  sales_channel: string | null;
  partner_card_id: string | null;
  attribution: Record<string, string>;
  origin_request_id: string | null;
  custom_fields: Record<string, string>;
  /** date: YYYY-MM-DD (selected as text). */
  expected_close_date: string | null;
  version: number;
  stage_entered_at: Date | string;
  closed_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
  created_by: string;
}

/** Every column of `deals`, the date as text (no time-zone shifts), for `SELECT ${DEAL_COLUMNS} FROM deals d`. */
export const DEAL_COLUMNS = [
  'd.id', 'd.tenant_id', 'd.pipeline_id', 'd.pipeline_version', 'd.stage', 'd.state', 'd.lost_reason', 'd.title', 'd.amount_minor::text AS amount_minor',
  'd.currency', 'd.client_card_id', 'd.company_id', 'd.contact_ids', 'd.owner_id', 'd.department_id', 'd.project_id', 'd.sales_channel',
  'd.partner_card_id', 'd.attribution', 'd.origin_request_id', 'd.custom_fields', "to_char(d.expected_close_date, 'YYYY-MM-DD') AS expected_close_date",
  'd.version', 'd.stage_entered_at', 'd.closed_at', 'd.created_at', 'd.updated_at', 'd.created_by',
].join(', ');

const STATUS: Record<DealStateName, DealStatus> = { open: DealStatus.DEAL_STATUS_OPEN, won: DealStatus.DEAL_STATUS_WON, lost: DealStatus.DEAL_STATUS_LOST };

const iso = (d: Date | string | null): string => (d ? new Date(d).toISOString() : '');

/** The deal as the events carry it (contacts, intake and reporting read it). */
export function snapshotOf(row: DealRow, stageName: string): DealSnapshot {
  return DealSnapshot.fromPartial({
    id: row.id,
    tenantId: row.tenant_id,
    title: row.title,
    amountMinor: Number(row.amount_minor),
    currency: row.currency,
    pipelineId: row.pipeline_id,
    stageId: row.stage,
    stageName,
    status: STATUS[row.state],
    clientCardId: row.client_card_id ?? '',
    contactIds: row.contact_ids ?? [],
    ownerId: row.owner_id ?? '',
    requestId: row.origin_request_id ?? '',
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    pipelineVersion: row.pipeline_version,
    companyId: row.company_id ?? '',
    departmentId: row.department_id ?? '',
    projectId: row.project_id ?? '',
    salesChannel: row.sales_channel ?? '',
    partnerCardId: row.partner_card_id ?? '',
    lostReason: row.lost_reason ?? '',
    stageEnteredAt: iso(row.stage_entered_at),
    closedAt: iso(row.closed_at),
    expectedCloseDate: row.expected_close_date ?? '',
    version: row.version,
  });
}

/** A deal event in the outbox of the caller's transaction (subject and key: the deal). */
export function enqueueDealEvent<T>(em: EntityManager, row: DealRow, type: string, codec: Codec<T>, payload: T): void {
  enqueueEvent(em, { topic: DEAL_TOPIC, type, codec, payload, subject: row.id, tenantId: row.tenant_id, source: EVENT_SOURCE });
}

export type HistoryKind = 'created' | 'moved' | 'won' | 'lost' | 'reopened' | 'migrated';

export interface HistoryEntry {
  dealId: string;
  tenantId: string;
  kind: HistoryKind;
  fromStage: string | null;
  toStage: string;
  fromStageName: string | null;
  toStageName: string;
  pipelineVersion: number;
  /** When the deal entered from_stage (the time in it is counted from there to `at`); a row's raw value (a string) is fine. */
  enteredFromAt: Date | string | null;
  lostReason?: string | null;
  comment?: string | null;
  changedBy: string;
  at: Date;
}

/** Appends the next history entry of the deal (seq = last + 1) in the caller's transaction. */
export async function appendHistory(em: EntityManager, e: HistoryEntry): Promise<void> {
  const seconds = e.enteredFromAt ? Math.max(0, Math.round((e.at.getTime() - new Date(e.enteredFromAt).getTime()) / 1000)) : 0;
  await em.execute(
    `INSERT INTO deal_stage_history (deal_id, seq, tenant_id, kind, from_stage, to_stage, from_stage_name, to_stage_name, pipeline_version, seconds_in_stage, lost_reason, comment, changed_by, changed_at)
     SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM deal_stage_history WHERE deal_id = ?`,
    [e.dealId, e.tenantId, e.kind, e.fromStage, e.toStage, e.fromStageName, e.toStageName, e.pipelineVersion, seconds, e.lostReason ?? null, e.comment ?? null, e.changedBy, e.at, e.dealId],
  );
}
