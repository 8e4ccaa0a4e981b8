/**
 * gRPC messages of contacts (contacts, companies, client cards, imports) ↔ the REST API's snake_case
 * JSON. Enum values are spoken in DOMAIN.md's words (`PHONE` → `phone`); an empty id is `null`.
 */
import {
  Base,
  ClientKind,
  ClientState,
  type ClientCard,
  type ClientCardChange,
  type Company,
} from '@crm/contracts/crm/contacts/v1/cards';
import {
  PointType,
  ProvenanceKind,
  Verification,
  type Contact,
  type ContactPoint,
  type Duplicate,
  type Merge,
  type PointInput,
  type Provenance,
  type TimelineEntry,
} from '@crm/contracts/crm/contacts/v1/contacts';
import { ExportList, ImportField, ImportStatus, type ColumnMapping, type Import, type SampleRow } from '@crm/contracts/crm/contacts/v1/imports';
import { words } from './enum-words';

export const POINT_TYPES = words([
  [PointType.POINT_TYPE_PHONE, 'phone'],
  [PointType.POINT_TYPE_EMAIL, 'email'],
  [PointType.POINT_TYPE_SOCIAL, 'social'],
]);
export const VERIFICATIONS = words([
  [Verification.VERIFICATION_UNVERIFIED, 'unverified'],
  [Verification.VERIFICATION_VERIFIED, 'verified'],
]);
export const PROVENANCE_KINDS = words([
  [ProvenanceKind.PROVENANCE_KIND_REQUEST, 'request'],
  [ProvenanceKind.PROVENANCE_KIND_IMPORT, 'import'],
  [ProvenanceKind.PROVENANCE_KIND_USER, 'user'],
  [ProvenanceKind.PROVENANCE_KIND_CALL, 'call'],
  [ProvenanceKind.PROVENANCE_KIND_CONVERSATION, 'conversation'],
]);
export const CLIENT_STATES = words([
  [ClientState.CLIENT_STATE_NOT_CLIENT, 'not_client'],
  [ClientState.CLIENT_STATE_POTENTIAL, 'potential'],
  [ClientState.CLIENT_STATE_ACTIVE, 'active'],
  [ClientState.CLIENT_STATE_FORMER, 'former'],
]);
export const CLIENT_KINDS = words([
  [ClientKind.CLIENT_KIND_DIRECT, 'direct'],
  [ClientKind.CLIENT_KIND_VIA_AGENT, 'via_agent'],
  [ClientKind.CLIENT_KIND_AGENT_PARTNER, 'agent_partner'],
]);
export const BASES = words([
  [Base.BASE_COLD, 'cold'],
  [Base.BASE_FREE, 'free'],
  [Base.BASE_DISCONNECTED, 'disconnected'],
]);
export const IMPORT_STATUSES = words([
  [ImportStatus.IMPORT_STATUS_UPLOADING, 'uploading'],
  [ImportStatus.IMPORT_STATUS_ANALYSED, 'analysed'],
  [ImportStatus.IMPORT_STATUS_RUNNING, 'running'],
  [ImportStatus.IMPORT_STATUS_DONE, 'done'],
  [ImportStatus.IMPORT_STATUS_FAILED, 'failed'],
  [ImportStatus.IMPORT_STATUS_CANCELLED, 'cancelled'],
]);
export const IMPORT_FIELDS = words([
  [ImportField.IMPORT_FIELD_IGNORE, 'ignore'],
  [ImportField.IMPORT_FIELD_NAME, 'name'],
  [ImportField.IMPORT_FIELD_FIRST_NAME, 'first_name'],
  [ImportField.IMPORT_FIELD_LAST_NAME, 'last_name'],
  [ImportField.IMPORT_FIELD_PHONE, 'phone'],
  [ImportField.IMPORT_FIELD_EMAIL, 'email'],
  [ImportField.IMPORT_FIELD_COMPANY, 'company'],
  [ImportField.IMPORT_FIELD_TAX_ID, 'tax_id'],
  [ImportField.IMPORT_FIELD_TELEGRAM, 'telegram'],
  [ImportField.IMPORT_FIELD_WHATSAPP, 'whatsapp'],
  [ImportField.IMPORT_FIELD_VK, 'vk'],
]);
/** The lists `GET /v1/exports/{list}.csv` serves, by the path's word. */
export const EXPORT_LISTS = words([
  [ExportList.EXPORT_LIST_CONTACTS, 'contacts'],
  [ExportList.EXPORT_LIST_COLD, 'cold'],
  [ExportList.EXPORT_LIST_FREE, 'free'],
  [ExportList.EXPORT_LIST_DISCONNECTED, 'disconnected'],
  [ExportList.EXPORT_LIST_COMPANIES, 'companies'],
  [ExportList.EXPORT_LIST_CLIENT_CARDS, 'client-cards'],
]);

/** The messengers and social networks a social point may be on. */
export const NETWORKS = ['telegram', 'whatsapp', 'vk', 'viber', 'instagram', 'facebook', 'ok', 'max'] as const;

/** An id that may be empty: left out of the JSON when it is (see contacts-schemas.ts). */
const orAbsent = (s: string | undefined) => (s ? s : undefined);
/** A time that may be empty: null when it is. */
const orNull = (s: string | undefined) => (s ? s : null);

export interface PointBody {
  type: string;
  value: string;
  network?: string;
}

export function pointIn(p: PointBody): PointInput {
  return { type: POINT_TYPES.in(p.type), value: p.value, network: p.network ?? '', verified: false };
}

function provenanceOut(p: Provenance | undefined) {
  return { kind: PROVENANCE_KINDS.out(p?.kind ?? 0), ref_id: orAbsent(p?.refId) };
}

export function pointOut(p: ContactPoint) {
  return {
    id: p.id,
    type: POINT_TYPES.out(p.type),
    value: p.value,
    network: orNull(p.network),
    verification: VERIFICATIONS.out(p.verification),
    verified_by: orAbsent(p.verifiedBy),
    provenance: provenanceOut(p.provenance),
    created_at: p.createdAt,
  };
}

export function contactOut(c: Contact) {
  return {
    id: c.id,
    name: c.name,
    company_id: orAbsent(c.companyId),
    merged_into_id: orAbsent(c.mergedIntoId),
    points: c.points.map(pointOut),
    provenance: provenanceOut(c.provenance),
    request_count: c.requestCount,
    version: c.version,
    created_at: c.createdAt,
    updated_at: c.updatedAt || c.createdAt,
  };
}

export function duplicateOut(d: Duplicate) {
  return { id: d.id, first: contactOut(d.first!), second: contactOut(d.second!), reason: d.reason, status: d.status, created_at: d.createdAt };
}

export function mergeOut(m: Merge) {
  return {
    id: m.id,
    survivor_id: m.survivorId,
    loser_id: m.loserId,
    merged_by: orAbsent(m.mergedBy),
    created_at: m.createdAt,
    undone_at: orNull(m.undoneAt),
    undone_by: orAbsent(m.undoneBy),
    points_moved: m.pointsMoved,
    cards_moved: m.cardsMoved,
    requests_moved: m.requestsMoved,
    timeline_entries_moved: m.timelineEntriesMoved,
  };
}

export function timelineEntryOut(e: TimelineEntry) {
  return {
    id: e.id,
    occurred_at: e.occurredAt,
    kind: e.kind,
    ref_type: e.refType,
    ref_id: orAbsent(e.refId),
    summary: e.summary,
    contact_id: orAbsent(e.contactId),
    client_card_id: orAbsent(e.clientCardId),
    event_type: e.eventType,
  };
}

export function companyOut(c: Company) {
  return {
    id: c.id,
    name: c.name,
    tax_id: c.taxId,
    addresses: c.addresses.map((a) => ({ kind: a.kind, text: a.text })),
    contacts: c.contacts.map((x) => ({ contact_id: x.contactId, role: x.role, contact_name: x.contactName })),
    version: c.version,
    created_at: c.createdAt,
    updated_at: c.updatedAt || c.createdAt,
  };
}

export function clientCardOut(c: ClientCard) {
  return {
    id: c.id,
    contact_id: orAbsent(c.contactId),
    company_id: orAbsent(c.companyId),
    display_name: c.displayName,
    state: CLIENT_STATES.out(c.state),
    kind: CLIENT_KINDS.out(c.kind),
    owner_id: orAbsent(c.ownerId),
    agent_card_id: orAbsent(c.agentCardId),
    open_deals: c.openDeals,
    won_deals: c.wonDeals,
    lost_deals: c.lostDeals,
    version: c.version,
    created_at: c.createdAt,
    updated_at: c.updatedAt || c.createdAt,
  };
}

export function cardChangeOut(c: ClientCardChange) {
  return {
    id: c.id,
    at: c.at,
    field: c.field,
    from_value: c.fromValue,
    to_value: c.toValue,
    reason: c.reason,
    actor_kind: c.actorKind,
    actor_ref: c.actorRef,
  };
}

export interface MappingBody {
  column: number;
  field: string;
}

export const mappingIn = (m: MappingBody): ColumnMapping => ({ column: m.column, field: IMPORT_FIELDS.in(m.field) });
const mappingOut = (m: ColumnMapping) => ({ column: m.column, field: IMPORT_FIELDS.out(m.field) });

export function importOut(i: Import) {
  const n = i.counts;
  return {
    id: i.id,
    status: IMPORT_STATUSES.out(i.status),
    file_name: i.fileName,
    size_bytes: i.sizeBytes,
    encoding: i.encoding,
    delimiter: i.delimiter,
    has_header: i.hasHeader,
    header: i.header,
    mapping: i.mapping.map(mappingOut),
    dry_run: i.dryRun,
    counts: {
      total_rows: n?.totalRows ?? 0,
      processed_rows: n?.processedRows ?? 0,
      created: n?.created ?? 0,
      duplicates: n?.duplicates ?? 0,
      invalid: n?.invalid ?? 0,
      bytes_processed: n?.bytesProcessed ?? 0,
    },
    percent: i.percent,
    rows_per_second: i.rowsPerSecond,
    error: i.error,
    default_country: i.defaultCountry,
    created_by: orAbsent(i.createdBy),
    created_at: i.createdAt,
    started_at: orNull(i.startedAt),
    finished_at: orNull(i.finishedAt),
  };
}

export function analysisOut(i: Import, sample: SampleRow[], suggested: ColumnMapping[]) {
  return { import: importOut(i), sample: sample.map((r) => ({ row_number: r.rowNumber, cells: r.cells })), suggested_mapping: suggested.map(mappingOut) };
}
