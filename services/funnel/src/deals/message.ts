/**
 * A deal row as the DealService answers it: the stage's name and the current stage's checklist from the
 * definition of the deal's own version, the ticks (who, when) from deal_checklist_items.
 */
import { DealState, type ChecklistItem, type Deal } from '@crm/contracts/crm/funnel/v1/deals';
import type { PipelineDefinition } from '@crm/contracts/crm/funnel/v1/pipelines';
import type { EntityManager } from '@crm/db';
import { DomainError } from '@crm/errors';
import { channelOf } from '../domain/deal-fields';
import { findStage } from '../domain/stages';
import { findDefinition } from '../pipelines/store';
import type { DealRow, DealStateName } from './row';

export const STATE_OF: Record<DealStateName, DealState> = { open: DealState.DEAL_STATE_OPEN, won: DealState.DEAL_STATE_WON, lost: DealState.DEAL_STATE_LOST };
export const STATE_WORD: Partial<Record<DealState, DealStateName>> = { [DealState.DEAL_STATE_OPEN]: 'open', [DealState.DEAL_STATE_WON]: 'won', [DealState.DEAL_STATE_LOST]: 'lost' };

export interface TickRow {
  deal_id: string;
  stage: string;
  item_key: string;
  checked_by: string;
  checked_at: Date;
}

const iso = (d: Date | string | null): string => (d ? new Date(d).toISOString() : '');

/** The definition of the version a deal is on (always there: a foreign key holds it). */
export async function definitionOf(em: EntityManager, row: Pick<DealRow, 'tenant_id' | 'pipeline_id' | 'pipeline_version'>): Promise<PipelineDefinition> {
  const def = await findDefinition(em, row.tenant_id, row.pipeline_id, row.pipeline_version);
  if (!def) throw new DomainError('INTERNAL', `pipeline ${row.pipeline_id} has no version ${row.pipeline_version}`);
  return def;
}

/** The ticks of the deals' current stages, by deal id. */
export async function ticksOf(em: EntityManager, tenantId: string, rows: DealRow[]): Promise<Map<string, TickRow[]>> {
  const out = new Map<string, TickRow[]>();
  if (!rows.length) return out;
  const ticks = await em.execute<TickRow[]>(
    `SELECT t.deal_id, t.stage, t.item_key, t.checked_by, t.checked_at FROM deal_checklist_items t JOIN deals d ON d.id = t.deal_id AND d.stage = t.stage
      WHERE t.tenant_id = ? AND t.deal_id = ANY(?::uuid[])`,
    [tenantId, `{${rows.map((r) => r.id).join(',')}}`],
  );
  for (const t of ticks) out.set(t.deal_id, [...(out.get(t.deal_id) ?? []), t]);
  return out;
}

export function dealMessage(row: DealRow, def: PipelineDefinition, ticks: TickRow[] = []): Deal {
  const stage = findStage(def, row.stage);
  const checklist: ChecklistItem[] = (stage?.checklist ?? []).map((item) => {
    const t = ticks.find((x) => x.item_key === item.key && x.stage === row.stage);
    return { key: item.key, text: item.text, checked: !!t, checkedBy: t?.checked_by ?? '', checkedAt: t ? iso(t.checked_at) : '' };
  });
  const a = row.attribution ?? {};
  return {
    id: row.id,
    tenantId: row.tenant_id,
    title: row.title,
    amountMinor: Number(row.amount_minor),
    currency: row.currency,
    pipelineId: row.pipeline_id,
    pipelineVersion: row.pipeline_version,
    stage: row.stage,
    stageName: stage?.name ?? row.stage,
    state: STATE_OF[row.state],
    lostReason: row.lost_reason ?? '',
    clientCardId: row.client_card_id ?? '',
    companyId: row.company_id ?? '',
    contactIds: row.contact_ids ?? [],
    ownerId: row.owner_id ?? '',
    departmentId: row.department_id ?? '',
    projectId: row.project_id ?? '',
    salesChannel: channelOf(row.sales_channel),
    partnerCardId: row.partner_card_id ?? '',
    attribution: {
      utmSource: a.utm_source ?? '',
      utmMedium: a.utm_medium ?? '',
      utmCampaign: a.utm_campaign ?? '',
      utmContent: a.utm_content ?? '',
      utmTerm: a.utm_term ?? '',
      landingPage: a.landing_page ?? '',
      channel: a.channel ?? '',
      dialedNumberKind: a.dialed_number_kind ?? '',
    },
    originRequestId: row.origin_request_id ?? '',
    customFields: { ...(row.custom_fields ?? {}) },
    expectedCloseDate: row.expected_close_date ?? '',
    checklist,
    version: row.version,
    stageEnteredAt: iso(row.stage_entered_at),
    closedAt: iso(row.closed_at),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    createdBy: row.created_by,
  };
}

/** Deal messages of rows (each with its own version's definition, cached), ticks in one query. */
export async function dealMessages(em: EntityManager, tenantId: string, rows: DealRow[]): Promise<Deal[]> {
  const ticks = await ticksOf(em, tenantId, rows);
  const out: Deal[] = [];
  for (const r of rows) out.push(dealMessage(r, await definitionOf(em, r), ticks.get(r.id)));
  return out;
}
