/**
 * The contacts part of the gateway's REST API (contacts, points, duplicates, merges, companies, client
 * cards, the bases, the timeline, CSV import and export) as the pages use it. Paths, parameters, bodies
 * and answers are typed by `gen/api.ts` (generated from the gateway's OpenAPI document); only the CSV
 * upload, a raw body, goes through `apiFetch`. The schemas are used as they are: a property the
 * gateway leaves out when empty (`company_id`, `merged_into_id`, `network`, …) stays optional here.
 */
import { apiFetch, client, unwrap, type CrmRequest } from '../../api';
import type { components } from '../../gen/api';

type S = components['schemas'];

export type Contact = S['Contact'];
export type ContactPoint = S['ContactPoint'];
export type Provenance = S['Provenance'];
export type PointInput = S['PointInput'];
export type TimelineEntry = S['TimelineEntry'];
export type Duplicate = S['Duplicate'];
export type Merge = S['Merge'];
export type Company = S['Company'];
export type Address = Company['addresses'][number];
export type ClientCard = S['ClientCard'];
export type ClientCardChange = S['ClientCardChange'];
export type ColumnMapping = S['ColumnMapping'];
export type ImportJob = S['Import'];
export type ImportCounts = ImportJob['counts'];
export type ImportAnalysis = S['ImportAnalysis'];
export type ImportErrorRow = S['ImportErrorPage']['items'][number];

export type PointType = ContactPoint['type'];
export type Verification = ContactPoint['verification'];
export type ClientState = ClientCard['state'];
export type ClientKind = ClientCard['kind'];
export type ImportStatus = ImportJob['status'];
export type ImportFieldName = ColumnMapping['field'];
export type SocialNetwork = NonNullable<PointInput['network']>;
export type BaseName = 'cold' | 'free' | 'disconnected';

// Every value once (a missing or unknown value is a compile error).
const CLIENT_STATE_SET: Record<ClientState, true> = { not_client: true, potential: true, active: true, former: true };
const CLIENT_KIND_SET: Record<ClientKind, true> = { direct: true, via_agent: true, agent_partner: true };
const IMPORT_FIELD_SET: Record<ImportFieldName, true> = {
  ignore: true,
  name: true,
  first_name: true,
  last_name: true,
  phone: true,
  email: true,
  company: true,
  tax_id: true,
  telegram: true,
  whatsapp: true,
  vk: true,
};
const NETWORK_SET: Record<SocialNetwork, true> = { telegram: true, whatsapp: true, vk: true, viber: true, instagram: true, facebook: true, ok: true, max: true };
export const CLIENT_STATES = Object.keys(CLIENT_STATE_SET) as readonly ClientState[];
export const CLIENT_KINDS = Object.keys(CLIENT_KIND_SET) as readonly ClientKind[];
export const IMPORT_FIELDS = Object.keys(IMPORT_FIELD_SET) as readonly ImportFieldName[];
export const SOCIAL_NETWORKS = Object.keys(NETWORK_SET) as readonly SocialNetwork[];
export const BASES: readonly BaseName[] = ['cold', 'free', 'disconnected'];

export interface Paged<T> {
  items: T[];
  next_cursor: string | null;
}

const page = (cursor: string | null) => cursor ?? undefined;
const TIMELINE_PAGE = 20;

export const contactsApi = {
  listContacts: (query: string, cursor: string | null, signal?: AbortSignal): Promise<Paged<Contact>> =>
    unwrap(client.GET('/v1/contacts', { params: { query: { query: query || undefined, cursor: page(cursor) } }, signal }), signal),
  createContact: (body: { name: string; points: PointInput[] }, idempotencyKey: string): Promise<Contact> =>
    unwrap(client.POST('/v1/contacts', { body, params: { header: { 'idempotency-key': idempotencyKey } } })),
  getContact: (id: string, signal?: AbortSignal): Promise<Contact> => unwrap(client.GET('/v1/contacts/{id}', { params: { path: { id } }, signal }), signal),
  updateContact: (id: string, body: { name?: string; company_id?: string | null }, version: number): Promise<Contact> =>
    unwrap(client.PATCH('/v1/contacts/{id}', { params: { path: { id } }, body: { ...body, expected_version: version } })),
  addPoint: (id: string, point: PointInput): Promise<Contact> => unwrap(client.POST('/v1/contacts/{id}/points', { params: { path: { id } }, body: point })),
  removePoint: (id: string, pointId: string): Promise<unknown> => unwrap(client.DELETE('/v1/contacts/{id}/points/{pointId}', { params: { path: { id, pointId } } })),
  setVerification: (id: string, pointId: string, verification: Verification): Promise<unknown> =>
    unwrap(client.PUT('/v1/contacts/{id}/points/{pointId}/verification', { params: { path: { id, pointId } }, body: { verification } })),
  timeline: (id: string, cursor: string | null, signal?: AbortSignal): Promise<Paged<TimelineEntry>> =>
    unwrap(client.GET('/v1/contacts/{id}/timeline', { params: { path: { id }, query: { cursor: page(cursor), page_size: TIMELINE_PAGE } }, signal }), signal),
  contactRequests: (id: string, signal?: AbortSignal): Promise<Paged<CrmRequest>> =>
    unwrap(client.GET('/v1/contacts/{id}/requests', { params: { path: { id } }, signal }), signal),
  merges: async (id: string, signal?: AbortSignal): Promise<Merge[]> => (await unwrap(client.GET('/v1/contacts/{id}/merges', { params: { path: { id } }, signal }), signal)).items,

  listDuplicates: (cursor: string | null, signal?: AbortSignal): Promise<Paged<Duplicate>> =>
    unwrap(client.GET('/v1/duplicates', { params: { query: { status: 'open', cursor: page(cursor) } }, signal }), signal),
  dismissDuplicate: (id: string): Promise<unknown> => unwrap(client.POST('/v1/duplicates/{id}/dismiss', { params: { path: { id } } })),
  merge: (survivorId: string, loserId: string): Promise<{ merge: Merge; survivor: Contact }> =>
    unwrap(client.POST('/v1/merges', { body: { survivor_id: survivorId, loser_id: loserId } })),
  undoMerge: (mergeId: string): Promise<unknown> => unwrap(client.POST('/v1/merges/{id}/undo', { params: { path: { id: mergeId } } })),

  listCompanies: (query: string, cursor: string | null, signal?: AbortSignal): Promise<Paged<Company>> =>
    unwrap(client.GET('/v1/companies', { params: { query: { query: query || undefined, cursor: page(cursor) } }, signal }), signal),
  createCompany: (body: { name: string; tax_id?: string; addresses?: Address[] }, idempotencyKey: string): Promise<Company> =>
    unwrap(client.POST('/v1/companies', { body, params: { header: { 'idempotency-key': idempotencyKey } } })),
  getCompany: (id: string, signal?: AbortSignal): Promise<Company> => unwrap(client.GET('/v1/companies/{id}', { params: { path: { id } }, signal }), signal),

  listCards: (filter: { contact_id?: string; company_id?: string; query?: string }, cursor: string | null, signal?: AbortSignal): Promise<Paged<ClientCard>> =>
    unwrap(client.GET('/v1/client-cards', { params: { query: { ...filter, cursor: page(cursor) } }, signal }), signal),
  getCard: (id: string, signal?: AbortSignal): Promise<ClientCard> => unwrap(client.GET('/v1/client-cards/{id}', { params: { path: { id } }, signal }), signal),
  changeCardState: (id: string, state: ClientState, reason: string): Promise<ClientCard> =>
    unwrap(client.POST('/v1/client-cards/{id}/state', { params: { path: { id } }, body: { state, reason } })),
  cardHistory: async (id: string, signal?: AbortSignal): Promise<ClientCardChange[]> =>
    (await unwrap(client.GET('/v1/client-cards/{id}/history', { params: { path: { id } }, signal }), signal)).items,
  cardTimeline: (id: string, cursor: string | null, signal?: AbortSignal): Promise<Paged<TimelineEntry>> =>
    unwrap(client.GET('/v1/client-cards/{id}/timeline', { params: { path: { id }, query: { cursor: page(cursor), page_size: TIMELINE_PAGE } }, signal }), signal),

  listBase: (base: BaseName, query: string, cursor: string | null, signal?: AbortSignal): Promise<Paged<Contact | ClientCard>> => {
    const params = { query: { query: query || undefined, cursor: page(cursor) } };
    if (base === 'cold') return unwrap(client.GET('/v1/bases/cold', { params, signal }), signal);
    if (base === 'free') return unwrap(client.GET('/v1/bases/free', { params, signal }), signal);
    return unwrap(client.GET('/v1/bases/disconnected', { params, signal }), signal);
  },

  /** The file itself is the body (never JSON, never multipart), streamed by the gateway to contacts. */
  uploadImport: (file: Blob, fileName: string): Promise<ImportAnalysis> => apiFetch('POST', '/v1/imports', { body: file, contentType: 'text/csv', query: { file_name: fileName } }),
  analyseImport: (id: string, overrides: S['AnalyseImport']): Promise<ImportAnalysis> =>
    unwrap(client.POST('/v1/imports/{id}/analyse', { params: { path: { id } }, body: overrides })),
  startImport: (id: string, mapping: ColumnMapping[], dryRun: boolean): Promise<ImportJob> =>
    unwrap(client.POST('/v1/imports/{id}/start', { params: { path: { id } }, body: { mapping, dry_run: dryRun } })),
  listImports: (cursor: string | null, signal?: AbortSignal): Promise<Paged<ImportJob>> =>
    unwrap(client.GET('/v1/imports', { params: { query: { cursor: page(cursor) } }, signal }), signal),
  getImport: (id: string, signal?: AbortSignal): Promise<ImportJob> => unwrap(client.GET('/v1/imports/{id}', { params: { path: { id } }, signal }), signal),
  importErrors: (id: string, signal?: AbortSignal): Promise<{ items: ImportErrorRow[]; total: number }> =>
    unwrap(client.GET('/v1/imports/{id}/errors', { params: { path: { id } }, signal }), signal),
  cancelImport: (id: string): Promise<unknown> => unwrap(client.POST('/v1/imports/{id}/cancel', { params: { path: { id } } })),
};

/** The CSV export of a list (a plain link: the browser downloads it with the session cookie). */
export function exportUrl(list: 'contacts' | BaseName | 'companies' | 'client-cards', query = ''): string {
  const q = query.trim();
  return `/v1/exports/${list}.csv${q ? `?query=${encodeURIComponent(q)}` : ''}`;
}

/** The owner a 409 names (`owner_contact_id`), if the problem carries one. */
export function ownerOf(problem: object): string {
  const p = problem as { owner_contact_id?: unknown; owner?: unknown };
  if (typeof p.owner_contact_id === 'string') return p.owner_contact_id;
  return '';
}

/** Whether a list item of a base is a contact (the cold base) or a card (free, disconnected). */
export function isContact(v: Contact | ClientCard): v is Contact {
  return Array.isArray((v as Contact).points);
}
