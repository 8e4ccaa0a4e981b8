import { EntitySchema } from '@crm/db';
import type { ChannelName, ContactAxisValue, MeaningAxisValue, NumberAxisValue, QualificationAxisValue, RequestStateName } from '../../domain/types';

/** One inbound request (обращение). Optional text columns are NULL when absent. */
export interface RequestRow {
  id: string;
  tenantId: string;
  state: RequestStateName;
  numberAxis: NumberAxisValue;
  meaningAxis: MeaningAxisValue;
  contactAxis: ContactAxisValue;
  qualificationAxis: QualificationAxisValue;
  channel: ChannelName;
  name: string | null;
  /** lower(name) computed in the application, so search does not depend on the database's locale. */
  searchName: string | null;
  /** E.164. */
  phone: string | null;
  /** Lower-cased. */
  email: string | null;
  message: string | null;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  utmContent: string | null;
  utmTerm: string | null;
  landingPage: string | null;
  referrer: string | null;
  publicFormId: string | null;
  /** Form fields that map to nothing else, in the order sent, as [key, value] pairs (intake_0002). */
  extraFields: [string, string][];
  /** The sender dropped or shortened fields to fit the bounds. */
  extraFieldsTruncated: boolean;
  idempotencyKey: string | null;
  /** sha256 of the normalised input (see domain/create-request.ts). */
  fingerprint: string;
  /** Millisecond precision (set by the application), so the list cursor round-trips exactly. */
  createdAt: Date;
  commentCount: number;
  /** The contact (contacts service) the request's points matched or created (intake_0003); NULL until linked or without points. */
  contactId: string | null;
  /** Why contacts refused the request's points; the backfill never retries such a request (intake_0003). */
  contactUnlinkable?: string | null;
  // Working the request (intake_0004).
  /** Incremented on every change (optimistic concurrency: expected_version). */
  version: number;
  departmentId: string | null;
  assigneeId: string | null;
  projectId: string | null;
  routingVersion: number | null;
  routingRuleId: string | null;
  slaDueAt: Date | null;
  slaBreachedAt: Date | null;
  firstResponseAt: Date | null;
  firstResponseBy: string | null;
  revisitAt: Date | null;
  trashReason: TrashReasonName | null;
  trashNote: string | null;
  dealId: string | null;
  clientCardId: string | null;
  missed: boolean;
  /** A missed call's callback connected then (telephony's SetCallOutcome). */
  missedRecoveredAt: Date | null;
  dialedNumberKind: DialedNumberKind | null;
  stateChangedAt: Date | null;
  stateReason: string | null;
  deferredBy: string | null;
}

export type TrashReasonName = 'spam' | 'wrong_number' | 'not_targeted' | 'duplicate' | 'other';
export type DialedNumberKind = 'advertising' | 'support' | 'sales';

const text = (fieldName: string) => ({ type: 'text', fieldName, nullable: true }) as const;
const at = (fieldName: string) => ({ type: 'datetime', fieldName, columnType: 'timestamptz', nullable: true }) as const;

export const RequestSchema = new EntitySchema<RequestRow>({
  name: 'Request',
  tableName: 'requests',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'text', fieldName: 'tenant_id' },
    state: { type: 'text' },
    numberAxis: { type: 'text', fieldName: 'number_axis' },
    meaningAxis: { type: 'text', fieldName: 'meaning_axis' },
    contactAxis: { type: 'text', fieldName: 'contact_axis' },
    qualificationAxis: { type: 'text', fieldName: 'qualification_axis' },
    channel: { type: 'text' },
    name: text('name'),
    searchName: text('search_name'),
    phone: text('phone'),
    email: text('email'),
    message: text('message'),
    utmSource: text('utm_source'),
    utmMedium: text('utm_medium'),
    utmCampaign: text('utm_campaign'),
    utmContent: text('utm_content'),
    utmTerm: text('utm_term'),
    landingPage: text('landing_page'),
    referrer: text('referrer'),
    publicFormId: text('public_form_id'),
    extraFields: { type: 'json', fieldName: 'extra_fields', columnType: 'jsonb', default: '[]' },
    extraFieldsTruncated: { type: 'boolean', fieldName: 'extra_fields_truncated', default: false },
    idempotencyKey: text('idempotency_key'),
    fingerprint: { type: 'text' },
    createdAt: { type: 'datetime', fieldName: 'created_at', columnType: 'timestamptz' },
    commentCount: { type: 'integer', fieldName: 'comment_count', default: 0 },
    contactId: { type: 'uuid', fieldName: 'contact_id', nullable: true },
    contactUnlinkable: { type: 'text', fieldName: 'contact_unlinkable', nullable: true },
    version: { type: 'integer', default: 1 },
    departmentId: { type: 'uuid', fieldName: 'department_id', nullable: true },
    assigneeId: { type: 'uuid', fieldName: 'assignee_id', nullable: true },
    projectId: { type: 'uuid', fieldName: 'project_id', nullable: true },
    routingVersion: { type: 'integer', fieldName: 'routing_version', nullable: true },
    routingRuleId: text('routing_rule_id'),
    slaDueAt: at('sla_due_at'),
    slaBreachedAt: at('sla_breached_at'),
    firstResponseAt: at('first_response_at'),
    firstResponseBy: { type: 'uuid', fieldName: 'first_response_by', nullable: true },
    revisitAt: at('revisit_at'),
    trashReason: text('trash_reason'),
    trashNote: text('trash_note'),
    dealId: { type: 'uuid', fieldName: 'deal_id', nullable: true },
    clientCardId: { type: 'uuid', fieldName: 'client_card_id', nullable: true },
    missed: { type: 'boolean', default: false },
    missedRecoveredAt: at('missed_recovered_at'),
    dialedNumberKind: text('dialed_number_kind'),
    stateChangedAt: at('state_changed_at'),
    stateReason: text('state_reason'),
    deferredBy: { type: 'uuid', fieldName: 'deferred_by', nullable: true },
  },
});
