/**
 * Named JSON schemas of the contacts API (contacts, points, duplicates, merges, timeline, companies,
 * client cards, bases, imports). Each `$id` is its component name in the OpenAPI document and in the
 * web client (web/src/gen/api.ts): keep them stable. Bodies are closed (additionalProperties: false).
 */
import { BASES, CLIENT_KINDS, CLIENT_STATES, IMPORT_FIELDS, IMPORT_STATUSES, NETWORKS, POINT_TYPES, PROVENANCE_KINDS, VERIFICATIONS } from './contacts-mappers';
import { NO_NUL, NOT_BLANK, str, uuid } from './schemas';

/**
 * An id that may be missing is left out, never null: a client (or a fuzzer following the document's
 * links) can use any id it is given as a path.
 */
const optionalId = uuid;
/** In a change: an id, or null to clear it. */
const uuidOrNull = { anyOf: [uuid, { type: 'null' }] } as const;
/** Text as contacts stores it: no control characters but tab and line breaks. */
const CTRL = '\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f';
const BLANK = '\\t\\n\\v\\f\\r \\u001c-\\u001f\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
const TEXT = `^[^${CTRL}]*$`;
const TEXT_NOT_BLANK = `^[^${CTRL}]*[^${CTRL}${BLANK}][^${CTRL}]*$`;
const text = (minLength: number, maxLength: number) => ({ type: 'string', minLength, maxLength, pattern: minLength > 0 ? TEXT_NOT_BLANK : TEXT }) as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const dateTimeOrNull = { anyOf: [dateTime, { type: 'null' }] } as const;
const version = { type: 'integer', minimum: 0, description: 'Incremented on every change' } as const;
const expectedVersion = {
  type: 'integer',
  minimum: 1,
  maximum: 2147483647,
  description: 'Optimistic concurrency: the change applies only while the record is still at this `version` (else 409)',
} as const;
const nextCursor = { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page' } as const;
const page = (id: string, item: string, description: string) =>
  ({
    $id: id,
    type: 'object',
    description,
    required: ['items', 'next_cursor'],
    properties: { items: { type: 'array', items: { $ref: `${item}#` } }, next_cursor: nextCursor },
  }) as const;

export const provenanceSchema = {
  $id: 'Provenance',
  type: 'object',
  description: 'Where a contact or point came from: a request, an import, a user, a call or a conversation (`ref_id`)',
  required: ['kind'],
  properties: { kind: { type: 'string', enum: [...PROVENANCE_KINDS.words, 'unspecified'] }, ref_id: optionalId },
} as const;

export const contactPointSchema = {
  $id: 'ContactPoint',
  type: 'object',
  description: 'A phone, e-mail or messenger/social identity of a contact. A point belongs to at most one contact of the tenant.',
  required: ['id', 'type', 'value', 'network', 'verification', 'provenance', 'created_at'],
  properties: {
    id: uuid,
    type: { type: 'string', enum: POINT_TYPES.words },
    value: { type: 'string', description: 'Normalised: E.164 for phones, lower case for e-mails, `<network>:<id>` for social points' },
    network: { type: ['string', 'null'], description: 'Social points only (telegram, whatsapp, vk, …)' },
    verification: { type: 'string', enum: VERIFICATIONS.words },
    verified_by: { ...optionalId, description: 'The user who set the verification level last; absent when it came with the point' },
    provenance: { $ref: 'Provenance#' },
    created_at: dateTime,
  },
} as const;

export const contactSchema = {
  $id: 'Contact',
  type: 'object',
  description: 'A person, with the points they are reached through',
  required: ['id', 'name', 'points', 'provenance', 'request_count', 'version', 'created_at', 'updated_at'],
  properties: {
    id: { ...uuid, description: 'UUIDv7' },
    name: { type: 'string', description: "Trimmed; '' when unknown" },
    company_id: { ...optionalId, description: 'The company the person works for; absent when none' },
    merged_into_id: { ...optionalId, description: "Present when this contact was merged into another: the survivor's id" },
    points: { type: 'array', items: { $ref: 'ContactPoint#' } },
    provenance: { $ref: 'Provenance#' },
    request_count: { type: 'integer', minimum: 0, description: 'Requests linked to the contact' },
    version,
    created_at: dateTime,
    updated_at: dateTime,
  },
} as const;

export const contactPageSchema = page('ContactPage', 'Contact', 'A page of contacts, newest first');

export const pointInputSchema = {
  $id: 'PointInput',
  type: 'object',
  description:
    'A point as typed: a phone in any common notation (read with the default country, RU, when it has no `+code`), an e-mail in any case, or a social id/handle with its `network`.',
  additionalProperties: false,
  required: ['type', 'value'],
  properties: {
    type: { type: 'string', enum: POINT_TYPES.words },
    value: { type: 'string', minLength: 1, maxLength: 254, pattern: NOT_BLANK, description: 'Not blank; an invalid phone or e-mail is a 400 naming the field' },
    network: { type: 'string', enum: NETWORKS, description: 'Required for, and only for, type `social`' },
  },
  if: { properties: { type: { const: 'social' } } },
  then: { required: ['network'] },
  else: { not: { required: ['network'] } },
  examples: [{ type: 'phone', value: '8 (999) 123-45-67' }],
} as const;

export const createContactSchema = {
  $id: 'CreateContact',
  type: 'object',
  description: 'A new contact. A point that already belongs to another contact is a 409 naming the owner (`owner_contact_id`).',
  additionalProperties: false,
  properties: {
    name: str(200),
    company_id: uuid,
    points: { type: 'array', maxItems: 20, items: { $ref: 'PointInput#' } },
  },
  examples: [
    { name: 'Анна Смирнова', points: [{ type: 'phone', value: '+7 999 123-45-67' }, { type: 'email', value: 'Anna@Example.com' }] },
    { name: 'Ivan', points: [{ type: 'social', network: 'telegram', value: '@ivan_petrov' }] },
  ],
} as const;

export const updateContactSchema = {
  $id: 'UpdateContact',
  type: 'object',
  description: 'Only the fields sent change (at least one); `company_id: null` detaches the company.',
  additionalProperties: false,
  properties: {
    name: str(200),
    company_id: { ...uuidOrNull, description: 'null detaches the company' },
    expected_version: expectedVersion,
  },
  anyOf: [{ required: ['name'] }, { required: ['company_id'] }],
  examples: [{ name: 'Анна Петровна Смирнова', expected_version: 1 }],
} as const;

export const setVerificationSchema = {
  $id: 'SetVerification',
  type: 'object',
  additionalProperties: false,
  required: ['verification'],
  properties: { verification: { type: 'string', enum: VERIFICATIONS.words } },
  examples: [{ verification: 'verified' }],
} as const;

export const timelineEntrySchema = {
  $id: 'TimelineEntry',
  type: 'object',
  description: 'One thing that touched a contact or client card (a request, a comment, a merge, a state change, later calls, chats, e-mails, deals)',
  required: ['id', 'occurred_at', 'kind', 'ref_type', 'summary', 'event_type'],
  properties: {
    id: uuid,
    occurred_at: dateTime,
    kind: { type: 'string', description: '`request_created`, `request_commented`, `contact_created`, `contact_merged`, `card_state_changed`, `deal_won`, …' },
    ref_type: { type: 'string', description: 'What `ref_id` names: `request`, `contact`, `client_card`, `deal`, …' },
    ref_id: optionalId,
    summary: { type: 'string' },
    contact_id: optionalId,
    client_card_id: optionalId,
    event_type: { type: 'string', description: "The publishing service's event type" },
  },
} as const;

export const timelinePageSchema = page('TimelinePage', 'TimelineEntry', 'A page of the communication timeline, newest first');

export const duplicateSchema = {
  $id: 'Duplicate',
  type: 'object',
  description: 'Two contacts that are probably one person, for someone to merge or dismiss',
  required: ['id', 'first', 'second', 'reason', 'status', 'created_at'],
  properties: {
    id: uuid,
    first: { $ref: 'Contact#' },
    second: { $ref: 'Contact#' },
    reason: { type: 'string', description: '`shared_point` or `same_name_similar_point`' },
    status: { type: 'string', enum: ['open', 'dismissed', 'merged'] },
    created_at: dateTime,
  },
} as const;

export const duplicatePageSchema = page('DuplicatePage', 'Duplicate', 'A page of probable duplicates, newest first');

export const mergeSchema = {
  $id: 'Merge',
  type: 'object',
  description: 'The record of a merge of `loser_id` into `survivor_id`; undoing it restores both contacts exactly',
  required: ['id', 'survivor_id', 'loser_id', 'created_at', 'undone_at', 'points_moved', 'cards_moved', 'requests_moved', 'timeline_entries_moved'],
  properties: {
    id: uuid,
    survivor_id: uuid,
    loser_id: uuid,
    merged_by: optionalId,
    created_at: dateTime,
    undone_at: { ...dateTimeOrNull, description: 'null while the merge stands' },
    undone_by: optionalId,
    points_moved: { type: 'integer', minimum: 0 },
    cards_moved: { type: 'integer', minimum: 0 },
    requests_moved: { type: 'integer', minimum: 0 },
    timeline_entries_moved: { type: 'integer', minimum: 0 },
  },
} as const;

export const mergeListSchema = {
  $id: 'MergeList',
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: { $ref: 'Merge#' } } },
} as const;

export const createMergeSchema = {
  $id: 'CreateMerge',
  type: 'object',
  description: 'Merge `loser_id` into `survivor_id` (the caller chooses the survivor); a contact with itself, or an already merged one, is a 409',
  additionalProperties: false,
  required: ['survivor_id', 'loser_id'],
  properties: { survivor_id: uuid, loser_id: uuid },
  examples: [{ survivor_id: '01936f5e-1234-7abc-8abc-0123456789ab', loser_id: '01936f5e-5678-7abc-8abc-0123456789ab' }],
} as const;

export const mergeResultSchema = {
  $id: 'MergeResult',
  type: 'object',
  required: ['merge', 'survivor'],
  properties: { merge: { $ref: 'Merge#' }, survivor: { $ref: 'Contact#' }, loser: { $ref: 'Contact#', description: 'After an undo: the restored contact' } },
} as const;

const address = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'text'],
  properties: {
    kind: { ...text(1, 40), description: '`legal`, `postal`, `office`, …' },
    text: text(1, 500),
  },
} as const;
const taxId = {
  type: 'string',
  pattern: '^([0-9]{10}|[0-9]{12})?$',
  description: "A Russian INN: 10 digits (organisation) or 12 (individual), checksum checked (a wrong one is a 400); '' for none",
} as const;

export const companySchema = {
  $id: 'Company',
  type: 'object',
  description: 'An organisation: name, tax id, addresses and the contacts who work there',
  required: ['id', 'name', 'tax_id', 'addresses', 'contacts', 'version', 'created_at', 'updated_at'],
  properties: {
    id: uuid,
    name: { type: 'string' },
    tax_id: { type: 'string', description: "Digits only; '' when unknown" },
    addresses: { type: 'array', items: { type: 'object', required: ['kind', 'text'], properties: { kind: { type: 'string' }, text: { type: 'string' } } } },
    contacts: {
      type: 'array',
      items: {
        type: 'object',
        required: ['contact_id', 'role', 'contact_name'],
        properties: { contact_id: uuid, role: { type: 'string' }, contact_name: { type: 'string' } },
      },
    },
    version,
    created_at: dateTime,
    updated_at: dateTime,
  },
} as const;

export const companyPageSchema = page('CompanyPage', 'Company', 'A page of companies, in name order');

export const createCompanySchema = {
  $id: 'CreateCompany',
  type: 'object',
  description: 'A tax id another company of the tenant has is a 409 naming the owner (`owner_company_id`).',
  additionalProperties: false,
  required: ['name'],
  properties: { name: text(1, 300), tax_id: taxId, addresses: { type: 'array', maxItems: 10, items: address } },
  examples: [{ name: 'ООО «Ромашка»', tax_id: '7707083893', addresses: [{ kind: 'legal', text: 'Москва, ул. Тверская, 1' }] }],
} as const;

export const updateCompanySchema = {
  $id: 'UpdateCompany',
  type: 'object',
  description: 'Only the fields sent change; `addresses` replaces them all.',
  additionalProperties: false,
  properties: {
    name: text(1, 300),
    tax_id: taxId,
    addresses: { type: 'array', maxItems: 10, items: address },
    expected_version: expectedVersion,
  },
  anyOf: [{ required: ['name'] }, { required: ['tax_id'] }, { required: ['addresses'] }],
  examples: [{ name: 'ООО «Ромашка плюс»' }],
} as const;

export const companyContactBodySchema = {
  $id: 'CompanyContactRole',
  type: 'object',
  additionalProperties: false,
  required: ['role'],
  properties: { role: { ...text(0, 100), description: "Free text: `director`, `accountant`, …; '' for none" } },
  examples: [{ role: 'director' }],
} as const;

export const clientCardSchema = {
  $id: 'ClientCard',
  type: 'object',
  description: "The tenant's relationship with a person or a company: state, kind, owner, agent",
  required: ['id', 'display_name', 'state', 'kind', 'open_deals', 'won_deals', 'lost_deals', 'version', 'created_at', 'updated_at'],
  properties: {
    id: uuid,
    contact_id: { ...optionalId, description: 'Exactly one of contact_id and company_id is present' },
    company_id: optionalId,
    display_name: { type: 'string', description: "The contact's or company's name" },
    state: { type: 'string', enum: CLIENT_STATES.words },
    kind: { type: 'string', enum: CLIENT_KINDS.words },
    owner_id: { ...optionalId, description: 'The seller who owns the relationship; absent when nobody' },
    agent_card_id: { ...optionalId, description: "For via_agent: the agent's (agent_partner) card" },
    open_deals: { type: 'integer', minimum: 0 },
    won_deals: { type: 'integer', minimum: 0 },
    lost_deals: { type: 'integer', minimum: 0 },
    version,
    created_at: dateTime,
    updated_at: dateTime,
  },
} as const;

export const clientCardPageSchema = page('ClientCardPage', 'ClientCard', 'A page of client cards');

export const createClientCardSchema = {
  $id: 'CreateClientCard',
  type: 'object',
  description: 'A card for a contact or a company (exactly one). Kind via_agent needs `agent_card_id`, a card of kind agent_partner.',
  additionalProperties: false,
  required: ['kind'],
  properties: { contact_id: uuid, company_id: uuid, kind: { type: 'string', enum: CLIENT_KINDS.words }, owner_id: uuid, agent_card_id: uuid },
  oneOf: [{ required: ['contact_id'], not: { required: ['company_id'] } }, { required: ['company_id'], not: { required: ['contact_id'] } }],
  examples: [{ company_id: '01936f5e-1234-7abc-8abc-0123456789ab', kind: 'direct' }],
} as const;

export const updateClientCardSchema = {
  $id: 'UpdateClientCard',
  type: 'object',
  description: 'Only the fields sent change; null clears the owner or agent. Every change is in the card’s history.',
  additionalProperties: false,
  properties: {
    owner_id: { ...uuidOrNull, description: 'null: nobody owns it' },
    kind: { type: 'string', enum: CLIENT_KINDS.words },
    agent_card_id: { ...uuidOrNull, description: 'null: no agent' },
    expected_version: expectedVersion,
  },
  anyOf: [{ required: ['owner_id'] }, { required: ['kind'] }, { required: ['agent_card_id'] }],
  examples: [{ owner_id: null }],
} as const;

export const changeCardStateSchema = {
  $id: 'ChangeClientCardState',
  type: 'object',
  description: "A state change by hand, with its reason; transitions follow DOMAIN.md's card lifecycle (else 409)",
  additionalProperties: false,
  required: ['state', 'reason'],
  properties: {
    state: { type: 'string', enum: CLIENT_STATES.words },
    reason: text(1, 500),
    expected_version: expectedVersion,
  },
  examples: [{ state: 'former', reason: 'Ушёл к конкуренту' }],
} as const;

export const clientCardChangeSchema = {
  $id: 'ClientCardChange',
  type: 'object',
  description: 'One change of a client card',
  required: ['id', 'at', 'field', 'from_value', 'to_value', 'reason', 'actor_kind', 'actor_ref'],
  properties: {
    id: uuid,
    at: dateTime,
    field: { type: 'string', description: '`created`, `state`, `owner`, `kind`, `agent`, `merged`' },
    from_value: { type: 'string' },
    to_value: { type: 'string' },
    reason: { type: 'string' },
    actor_kind: { type: 'string', description: '`user`, `event` or `rule`' },
    actor_ref: { type: 'string', description: 'The user id, or the event type that caused it' },
  },
} as const;

export const clientCardHistorySchema = {
  $id: 'ClientCardHistory',
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', description: 'Oldest first', items: { $ref: 'ClientCardChange#' } } },
} as const;

const columnMapping = {
  type: 'object',
  additionalProperties: false,
  required: ['column', 'field'],
  properties: { column: { type: 'integer', minimum: 0, maximum: 999, description: '0-based column index' }, field: { type: 'string', enum: IMPORT_FIELDS.words } },
} as const;

export const columnMappingSchema = { $id: 'ColumnMapping', ...columnMapping } as const;

export const importSchema = {
  $id: 'Import',
  type: 'object',
  description: 'A CSV import: its file, detected format, mapping, progress and counts',
  required: [
    'id', 'status', 'file_name', 'size_bytes', 'encoding', 'delimiter', 'has_header', 'header', 'mapping', 'dry_run', 'counts', 'percent', 'rows_per_second', 'error',
    'default_country', 'created_at', 'started_at', 'finished_at',
  ],
  properties: {
    id: uuid,
    status: { type: 'string', enum: IMPORT_STATUSES.words },
    file_name: { type: 'string' },
    size_bytes: { type: 'integer', minimum: 0 },
    encoding: { type: 'string', description: "`utf-8` or `windows-1251`; '' before the analysis" },
    delimiter: { type: 'string', description: "`,`, `;` or a tab; '' before the analysis" },
    has_header: { type: 'boolean' },
    header: { type: 'array', items: { type: 'string' } },
    mapping: { type: 'array', items: { $ref: 'ColumnMapping#' } },
    dry_run: { type: 'boolean' },
    counts: {
      type: 'object',
      required: ['total_rows', 'processed_rows', 'created', 'duplicates', 'invalid', 'bytes_processed'],
      properties: {
        total_rows: { type: 'integer', minimum: 0 },
        processed_rows: { type: 'integer', minimum: 0 },
        created: { type: 'integer', minimum: 0, description: 'New contacts' },
        duplicates: { type: 'integer', minimum: 0, description: 'Rows that matched an existing contact' },
        invalid: { type: 'integer', minimum: 0 },
        bytes_processed: { type: 'integer', minimum: 0 },
      },
    },
    percent: { type: 'integer', minimum: 0, maximum: 100 },
    rows_per_second: { type: 'number', minimum: 0 },
    error: { type: 'string', description: "Why the import failed; '' otherwise" },
    default_country: { type: 'string' },
    created_by: optionalId,
    created_at: dateTime,
    started_at: dateTimeOrNull,
    finished_at: dateTimeOrNull,
  },
} as const;

export const importPageSchema = page('ImportPage', 'Import', 'A page of imports, newest first');

export const importAnalysisSchema = {
  $id: 'ImportAnalysis',
  type: 'object',
  description: 'The detected encoding and separator (on the import), the first rows as decoded and a suggested mapping',
  required: ['import', 'sample', 'suggested_mapping'],
  properties: {
    import: { $ref: 'Import#' },
    sample: {
      type: 'array',
      description: 'At most 10 rows',
      items: { type: 'object', required: ['row_number', 'cells'], properties: { row_number: { type: 'integer', minimum: 1 }, cells: { type: 'array', items: { type: 'string' } } } },
    },
    suggested_mapping: { type: 'array', items: { $ref: 'ColumnMapping#' } },
  },
} as const;

export const analyseImportSchema = {
  $id: 'AnalyseImport',
  type: 'object',
  description: 'Analyse again with what the detection got wrong; absent fields are detected',
  additionalProperties: false,
  properties: {
    encoding: { type: 'string', enum: ['utf-8', 'windows-1251'] },
    delimiter: { type: 'string', enum: [',', ';', '\t'] },
    has_header: { type: 'boolean' },
  },
  examples: [{ encoding: 'windows-1251', delimiter: ';', has_header: true }],
} as const;

export const startImportSchema = {
  $id: 'StartImport',
  type: 'object',
  description: 'The mapping, and whether to only report (dry run: counts and invalid rows, nothing written)',
  additionalProperties: false,
  required: ['mapping'],
  properties: { mapping: { type: 'array', minItems: 1, maxItems: 200, items: { $ref: 'ColumnMapping#' } }, dry_run: { type: 'boolean', default: false } },
  examples: [{ mapping: [{ column: 0, field: 'name' }, { column: 1, field: 'phone' }], dry_run: true }],
} as const;

export const importErrorPageSchema = {
  $id: 'ImportErrorPage',
  type: 'object',
  required: ['items', 'total', 'next_after_row'],
  properties: {
    items: { type: 'array', items: { type: 'object', required: ['row_number', 'reason'], properties: { row_number: { type: 'integer', minimum: 1 }, reason: { type: 'string' } } } },
    total: { type: 'integer', minimum: 0, description: 'Every invalid row, also those past the stored ones' },
    next_after_row: { type: ['integer', 'null'], description: 'Pass as `after_row` for the next page; null on the last page' },
  },
} as const;

/** The bases' words, for the path of GET /v1/bases/{base}. */
export const BASE_WORDS = BASES.words;

export const contactsSchemas = [
  provenanceSchema,
  contactPointSchema,
  contactSchema,
  contactPageSchema,
  pointInputSchema,
  createContactSchema,
  updateContactSchema,
  setVerificationSchema,
  timelineEntrySchema,
  timelinePageSchema,
  duplicateSchema,
  duplicatePageSchema,
  mergeSchema,
  mergeListSchema,
  createMergeSchema,
  mergeResultSchema,
  companySchema,
  companyPageSchema,
  createCompanySchema,
  updateCompanySchema,
  companyContactBodySchema,
  clientCardSchema,
  clientCardPageSchema,
  createClientCardSchema,
  updateClientCardSchema,
  changeCardStateSchema,
  clientCardChangeSchema,
  clientCardHistorySchema,
  columnMappingSchema,
  importSchema,
  importPageSchema,
  importAnalysisSchema,
  analyseImportSchema,
  startImportSchema,
  importErrorPageSchema,
];

/** Query parameters shared by the paged lists. */
export const pageQuery = {
  page_size: { type: 'integer', minimum: 1, maximum: 100, default: 25 },
  cursor: { type: 'string', minLength: 1, maxLength: 500, pattern: '^[A-Za-z0-9_-]+$', description: 'The next_cursor of the previous page, unchanged' },
} as const;
export const searchQuery = { type: 'string', maxLength: 200, pattern: NO_NUL, description: 'Part of a name, an e-mail or handle, or the digits of a phone however typed' } as const;
