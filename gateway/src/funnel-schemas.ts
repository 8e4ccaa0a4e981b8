/**
 * Named OpenAPI schemas of the funnel (routes/funnel.ts; routes/conversion.ts answers `Deal` too):
 * pipelines and their definitions, deals, stage history, the board. Each `$id` is its component name in the
 * OpenAPI document and the web client (web/src/gen/api.ts): keep them stable. Bodies are closed
 * (additionalProperties: false) and bounded by funnel's own limits; what a definition means (key syntax,
 * repeated names, unreachable stages, trap cycles, unknown fields or currencies) is funnel's to judge, so
 * the editor gets every problem at once as `violations` with a path and a code.
 */
import { DEAL_STATES, FIELD_TYPES, SALES_CHANNELS, STAGE_OUTCOMES } from './funnel-mappers';
import { NO_NUL, NOT_BLANK, str, strictUuid, uuid } from './schemas';

/**
 * An id funnel accepts (@crm/db's isUuid: an RFC 9562 version 1..8 and variant): the nil UUID or a version-0 one
 * is a 400 of the schema, not of the service.
 */
export const funnelId = strictUuid;
const dateTime = { type: 'string', format: 'date-time' } as const;
const dateTimeOrNull = { type: ['string', 'null'], format: 'date-time' } as const;
const uuidOrNull = { anyOf: [uuid, { type: 'null' }] } as const;
const idOrNull = { anyOf: [funnelId, { type: 'null' }] } as const;
const stringOrNull = { type: ['string', 'null'] } as const;
/** Who did it: a user's or API key's id, or a service's name (`funnel`, `npm-start`); null when unknown. */
const actor = { type: ['string', 'null'], description: "The user's or API key's id, or the name of the service that did it" } as const;
const nextCursor = { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page' } as const;

/** A stage's, custom field's or checklist item's key (stable across versions). */
export const STAGE_KEY = '^[a-z][a-z0-9_]{0,39}$';
export const stageKey = { type: 'string', minLength: 1, maxLength: 40, pattern: STAGE_KEY } as const;
/** Integer minor units (kopecks, cents): a JSON integer 0..10^15 (1.5 or 10^15 + 1 is a 400). */
export const amountMinor = { type: 'integer', minimum: 0, maximum: 1_000_000_000_000_000, description: 'Integer minor units (kopecks, cents), 0..10^15' } as const;
/** ISO 4217, upper case; a code funnel does not know (`XXX`, `ABC`) is a 400. */
export const currency = { type: 'string', minLength: 3, maxLength: 3, pattern: '^[A-Z]{3}$', description: 'ISO 4217, e.g. `RUB`, `USD`, `EUR` (an unknown code is a 400)' } as const;
/** A calendar day the funnel accepts: YYYY-MM-DD, years 1900..2999 (funnel's `isRealDate`). */
export const day = { type: 'string', format: 'date', pattern: '^(19|2\\d)\\d{2}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD, years 1900..2999' } as const;
const version = { type: 'integer', minimum: 1, description: 'Incremented on every change' } as const;
export const expectedDealVersion = {
  type: 'integer',
  minimum: 1,
  maximum: 2147483647,
  description: 'Optimistic concurrency: the change applies only while the deal is still at this `version` (else 412 with `current`)',
} as const;
const title = { type: 'string', minLength: 1, maxLength: 200, pattern: NOT_BLANK, description: '1..200 characters, not blank' } as const;
const comment = { ...str(500), description: 'Kept in the history, at most 500 characters' } as const;
const customFieldsIn = {
  type: 'object',
  maxProperties: 100,
  propertyNames: { pattern: STAGE_KEY, maxLength: 40 },
  additionalProperties: str(1000),
  description: "The pipeline's custom fields by key, each value in its type's canonical form (`12.5`, `42`, `true`, `2028-06-30`, an enum option)",
} as const;
const salesChannel = { type: 'string', enum: SALES_CHANNELS.words, description: 'How the deal was sourced (DOMAIN.md)' } as const;

// ---- pipelines ------------------------------------------------------------------------------------------

const guardSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    required_fields: {
      type: 'array',
      maxItems: 110,
      items: str(40),
      description: 'Deal fields that must be set to enter the stage: `amount`, `expected_close_date`, `client_card_id`, `company_id`, `owner_id`, `department_id`, `project_id`, `sales_channel`, `contact_ids`, or custom field keys',
    },
    checklist_complete: { type: 'boolean', description: 'The checklist of the stage the deal leaves must be complete' },
  },
} as const;

export const stageSchema = {
  $id: 'Stage',
  type: 'object',
  description: 'A stage of a pipeline: what it is called, whether it is open or a terminal (won / lost), where a deal may go from it, what must hold to enter it, its checklist',
  additionalProperties: false,
  required: ['key', 'name'],
  properties: {
    key: { ...str(40), description: '[a-z][a-z0-9_]{0,39}, unique; stable across versions (deals and history refer to it)' },
    name: { ...str(100), description: '1..100 characters, unique (case-insensitive)' },
    outcome: {
      type: 'string',
      enum: STAGE_OUTCOMES.words,
      description: 'Always present in answers. Left out of a definition (a stage the editor has not labelled yet), it is a violation: `unlabelled_terminal` for a stage without moves, `invalid` for one with moves',
    },
    to: { type: 'array', maxItems: 20, items: str(40), description: 'Keys of the stages a deal may move to from here (none for won / lost)' },
    guard: guardSchema,
    checklist: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'text'],
        properties: { key: { ...str(40), description: 'Unique within the stage' }, text: { ...str(200), description: '1..200 characters' } },
      },
    },
    probability: { type: 'integer', minimum: 0, maximum: 100, description: 'Chance of winning at this stage, percent (the board weighs amounts by it)' },
  },
} as const;

const fieldSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['key', 'label', 'type'],
  properties: {
    key: { ...str(40), description: '[a-z][a-z0-9_]{0,39}, unique, not a built-in field name' },
    label: { ...str(100), description: '1..100 characters' },
    type: { type: 'string', enum: FIELD_TYPES.words },
    options: { type: 'array', maxItems: 100, items: str(100), description: 'For `enum`: 1..100 distinct options' },
  },
} as const;

const definitionProperties = {
  name: { ...str(100), description: '1..100 characters, unique among the tenant\'s pipelines that are not archived' },
  stages: { type: 'array', maxItems: 100, items: { $ref: 'Stage#' }, description: 'In board order; new deals start at the first (an open stage)' },
  lost_reasons: { type: 'array', maxItems: 100, items: str(200), description: 'The reasons a deal can be lost with (needed when there is a lost stage)' },
  fields: { type: 'array', maxItems: 100, items: fieldSchema, description: 'Custom fields of the deals' },
  default_currency: { ...currency, description: 'The currency of new deals (default RUB)' },
} as const;

const exampleDefinition = {
  name: 'Продажи B2B',
  default_currency: 'RUB',
  lost_reasons: ['Дорого', 'Выбрали конкурента'],
  fields: [{ key: 'budget_source', label: 'Источник бюджета', type: 'text' }],
  stages: [
    { key: 'new', name: 'Новая', outcome: 'open', to: ['qualification', 'lost'], checklist: [{ key: 'need', text: 'Выяснить потребность' }], probability: 10 },
    { key: 'qualification', name: 'Квалификация', outcome: 'open', to: ['proposal', 'lost'], guard: { checklist_complete: true }, probability: 30 },
    { key: 'proposal', name: 'Предложение', outcome: 'open', to: ['won', 'lost', 'qualification'], guard: { required_fields: ['amount'] }, probability: 60 },
    { key: 'won', name: 'Выиграна', outcome: 'won', probability: 100 },
    { key: 'lost', name: 'Проиграна', outcome: 'lost' },
  ],
};

export const pipelineDefinitionSchema = {
  $id: 'PipelineDefinition',
  type: 'object',
  description:
    'A pipeline as the editor writes it. Funnel checks what it means and refuses it (400 with `violations`: path, code, message — every problem at once) when keys or names repeat, a stage is unreachable from the first, an open stage has no way out or deals could be trapped in a cycle, a terminal is not labelled won or lost, a transition or guard names an unknown stage or field, there is a lost stage without lost reasons, or the currency is unknown.',
  additionalProperties: false,
  required: ['name', 'stages'],
  properties: definitionProperties,
  examples: [exampleDefinition],
} as const;

export const updatePipelineSchema = {
  $id: 'UpdatePipeline',
  type: 'object',
  description: 'A new version of the definition. Deals stay on their version until migrated (POST …/migration). A pipeline changed since `expected_version` is a 412 with `current`.',
  additionalProperties: false,
  required: ['name', 'stages'],
  properties: {
    expected_version: { type: 'integer', minimum: 1, maximum: 2147483647, description: "The pipeline's current `version` as you read it" },
    ...definitionProperties,
  },
  examples: [{ expected_version: 1, ...exampleDefinition, lost_reasons: [...exampleDefinition.lost_reasons, 'Нет бюджета'] }],
} as const;

export const pipelineSchema = {
  $id: 'Pipeline',
  type: 'object',
  description: 'A sales pipeline: its current (or a requested) version of the definition',
  required: ['id', 'version', 'name', 'stages', 'lost_reasons', 'fields', 'default_currency', 'archived', 'deals_on_old_versions', 'created_at', 'updated_at', 'updated_by'],
  properties: {
    id: uuid,
    version: { type: 'integer', minimum: 1, description: 'The version of the definition shown (1, 2, …)' },
    name: { type: 'string' },
    stages: { type: 'array', items: { $ref: 'Stage#' } },
    lost_reasons: { type: 'array', items: { type: 'string' } },
    fields: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'label', 'type', 'options'],
        properties: { key: { type: 'string' }, label: { type: 'string' }, type: { type: 'string', enum: FIELD_TYPES.words }, options: { type: 'array', items: { type: 'string' } } },
      },
    },
    default_currency: { type: 'string' },
    archived: { type: 'boolean', description: 'Hidden from the board and from new deals' },
    deals_on_old_versions: { type: 'integer', minimum: 0, description: 'Open deals on older versions, waiting for a migration' },
    created_at: dateTime,
    updated_at: dateTime,
    updated_by: actor,
  },
} as const;

export const pipelineListSchema = {
  $id: 'PipelineList',
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: { $ref: 'Pipeline#' } } },
} as const;

export const violationSchema = {
  $id: 'Violation',
  type: 'object',
  description: 'One problem of a pipeline definition',
  required: ['field', 'code', 'message'],
  properties: {
    field: { type: 'string', description: 'A path into the definition: `stages[2].to[0]`, `fields[1].key`, `name`' },
    code: {
      type: 'string',
      description:
        '`duplicate_key`, `duplicate_name`, `unreachable`, `no_way_out`, `unlabelled_terminal`, `labelled_open`, `unknown_stage`, `terminal_has_transitions`, `start_not_open`, `unknown_field`, `unknown_questionnaire`, `no_lost_reasons`, `trap_cycle`, `too_many`, `invalid`, `required`, `unknown_currency`',
    },
    message: { type: 'string' },
  },
} as const;

export const validationResultSchema = {
  $id: 'PipelineValidation',
  type: 'object',
  description: 'Every problem of the definition at once; none: it is valid',
  required: ['violations'],
  properties: { violations: { type: 'array', items: { $ref: 'Violation#' } } },
} as const;

export const archiveSchema = {
  $id: 'PipelineArchive',
  type: 'object',
  additionalProperties: false,
  required: ['archived'],
  properties: { archived: { type: 'boolean', description: 'true hides the pipeline from the board and from new deals; false restores it' } },
  examples: [{ archived: true }],
} as const;

const mapping = {
  type: 'array',
  maxItems: 1000,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['from_stage', 'to_stage'],
    properties: { from_stage: { ...stageKey, description: 'A stage key of an older version' }, to_stage: { ...stageKey, description: 'A stage key of the current version' } },
  },
  description: 'Where the deals of each old stage go; every old stage that holds deals must be mapped',
} as const;

export const migrationPreviewRequestSchema = {
  $id: 'MigrationMapping',
  type: 'object',
  additionalProperties: false,
  required: ['mapping'],
  properties: { mapping },
  examples: [{ mapping: [{ from_stage: 'proposal', to_stage: 'qualification' }] }],
} as const;

export const migrationApplySchema = {
  $id: 'MigrationApply',
  type: 'object',
  description: "Apply a mapping previewed: `expected_total` is the preview's `total` (the number changed since: 409, preview again)",
  additionalProperties: false,
  required: ['mapping', 'expected_total'],
  properties: { mapping, expected_total: { type: 'integer', minimum: 0, maximum: 2147483647 } },
  examples: [{ mapping: [{ from_stage: 'proposal', to_stage: 'qualification' }], expected_total: 0 }],
} as const;

export const migrationPreviewSchema = {
  $id: 'MigrationPreview',
  type: 'object',
  description: 'How many deals of older versions would go where',
  required: ['moves', 'total', 'unmapped_stages'],
  properties: {
    moves: {
      type: 'array',
      items: {
        type: 'object',
        required: ['from_version', 'from_stage', 'to_stage', 'deals'],
        properties: { from_version: { type: 'integer', minimum: 1 }, from_stage: { type: 'string' }, to_stage: { type: 'string' }, deals: { type: 'integer', minimum: 0 } },
      },
    },
    total: { type: 'integer', minimum: 0 },
    unmapped_stages: { type: 'array', items: { type: 'string' }, description: 'Old stages holding deals the mapping leaves out (applying would be refused)' },
  },
} as const;

export const migrationResultSchema = {
  $id: 'MigrationResult',
  type: 'object',
  required: ['moved', 'pipeline'],
  properties: { moved: { type: 'integer', minimum: 0 }, pipeline: { $ref: 'Pipeline#' } },
} as const;

// ---- deals ----------------------------------------------------------------------------------------------------

const dealProperties = {
  id: { ...uuid, description: 'UUIDv7' },
  title: { type: 'string' },
  amount_minor: { type: 'integer', minimum: 0, description: 'Integer minor units' },
  currency: { type: 'string', description: 'ISO 4217' },
  pipeline_id: uuid,
  pipeline_version: { type: 'integer', minimum: 1, description: 'The version of the definition the deal is on (until migrated)' },
  stage: { type: 'string', description: 'The stage key' },
  stage_name: { type: 'string' },
  state: { type: 'string', enum: DEAL_STATES.words },
  lost_reason: { ...stringOrNull, description: 'For `lost`' },
  client_card_id: uuidOrNull,
  company_id: uuidOrNull,
  contact_ids: { type: 'array', items: uuid },
  owner_id: uuidOrNull,
  department_id: uuidOrNull,
  project_id: uuidOrNull,
  sales_channel: { type: ['string', 'null'], enum: [...SALES_CHANNELS.words, null] },
  partner_card_id: { ...uuidOrNull, description: "For agents, ad agencies and tech partners: the partner's client card" },
  attribution: {
    type: 'object',
    description: 'Copied from the request the deal was made from (null where unknown)',
    required: ['utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term', 'landing_page', 'channel', 'dialed_number_kind'],
    properties: {
      utm_source: stringOrNull,
      utm_medium: stringOrNull,
      utm_campaign: stringOrNull,
      utm_content: stringOrNull,
      utm_term: stringOrNull,
      landing_page: stringOrNull,
      channel: { ...stringOrNull, description: "The request's channel: phone, chat, email, signup, web_form" },
      dialed_number_kind: stringOrNull,
    },
  },
  origin_request_id: { ...uuidOrNull, description: 'The request the deal was made from; null when made by hand' },
  custom_fields: { type: 'object', additionalProperties: { type: 'string' } },
  expected_close_date: { type: ['string', 'null'], format: 'date' },
  checklist: {
    type: 'array',
    description: 'The checklist of the current stage',
    items: {
      type: 'object',
      required: ['key', 'text', 'checked', 'checked_by', 'checked_at'],
      properties: { key: { type: 'string' }, text: { type: 'string' }, checked: { type: 'boolean' }, checked_by: actor, checked_at: dateTimeOrNull },
    },
  },
  version,
  stage_entered_at: dateTime,
  closed_at: { ...dateTimeOrNull, description: 'When it was won or lost' },
  created_at: dateTime,
  updated_at: dateTime,
  created_by: actor,
} as const;

const dealRequired = Object.keys(dealProperties);

export const dealSchema = {
  $id: 'Deal',
  type: 'object',
  description: 'A deal on a pipeline: amount, client, owner, where it came from, the stage it is at',
  required: dealRequired,
  properties: dealProperties,
} as const;

export const dealDetailSchema = {
  $id: 'DealDetail',
  type: 'object',
  description: 'A deal with the requests linked to it (converted into it or attached), newest first, at most 50',
  required: [...dealRequired, 'requests'],
  properties: {
    ...dealProperties,
    requests: {
      type: 'array',
      items: {
        type: 'object',
        required: ['request_id', 'kind', 'linked_at', 'linked_by'],
        properties: { request_id: uuid, kind: { type: 'string', enum: ['converted', 'attached'] }, linked_at: dateTime, linked_by: actor },
      },
    },
  },
} as const;

export const dealPageSchema = {
  $id: 'DealPage',
  type: 'object',
  description: 'A page of deals, newest first',
  required: ['items', 'next_cursor'],
  properties: { items: { type: 'array', items: { $ref: 'Deal#' } }, next_cursor: nextCursor },
} as const;

export const dealListSchema = {
  $id: 'DealList',
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: { $ref: 'Deal#' } } },
} as const;

const EXAMPLE_PIPELINE = '01936f5e-1234-7abc-8abc-0123456789ab';

export const createDealSchema = {
  $id: 'CreateDeal',
  type: 'object',
  description:
    "A new deal on the pipeline's current version, at its first stage unless `stage` names another open stage whose guard holds. The owner is you unless `owner_id` says otherwise; the currency the pipeline's default unless given. Another tenant's pipeline (or one that is archived) is a 404.",
  additionalProperties: false,
  required: ['pipeline_id', 'title'],
  properties: {
    pipeline_id: funnelId,
    title,
    amount_minor: amountMinor,
    currency,
    stage: stageKey,
    client_card_id: funnelId,
    company_id: funnelId,
    contact_ids: { type: 'array', maxItems: 50, uniqueItems: true, items: funnelId },
    owner_id: funnelId,
    department_id: funnelId,
    project_id: funnelId,
    sales_channel: salesChannel,
    partner_card_id: { ...funnelId, description: "For agents, ad agencies and tech partners: the partner's client card" },
    custom_fields: customFieldsIn,
    expected_close_date: day,
  },
  examples: [
    { pipeline_id: EXAMPLE_PIPELINE, title: 'Поставка оборудования', amount_minor: 125000000, currency: 'RUB', sales_channel: 'inbound_leadgen', expected_close_date: '2028-06-30' },
  ],
} as const;

export const updateDealSchema = {
  $id: 'UpdateDeal',
  type: 'object',
  description: 'Only the fields sent change (at least one); null clears a reference, a date or the sales channel; a custom field set to null is removed. `contact_ids` replaces the list.',
  additionalProperties: false,
  properties: {
    expected_version: expectedDealVersion,
    title,
    amount_minor: amountMinor,
    currency,
    client_card_id: idOrNull,
    company_id: idOrNull,
    contact_ids: { type: 'array', maxItems: 50, uniqueItems: true, items: funnelId },
    owner_id: idOrNull,
    department_id: idOrNull,
    project_id: idOrNull,
    sales_channel: { anyOf: [salesChannel, { type: 'null' }] },
    partner_card_id: idOrNull,
    custom_fields: { ...customFieldsIn, additionalProperties: { anyOf: [str(1000), { type: 'null' }] } },
    expected_close_date: { anyOf: [day, { type: 'null' }] },
  },
  anyOf: [
    'title', 'amount_minor', 'currency', 'client_card_id', 'company_id', 'contact_ids', 'owner_id', 'department_id', 'project_id', 'sales_channel', 'partner_card_id', 'custom_fields', 'expected_close_date',
  ].map((k) => ({ required: [k] })),
  examples: [{ expected_version: 1, amount_minor: 150000000, expected_close_date: '2028-07-15' }],
} as const;

export const moveDealSchema = {
  $id: 'MoveDeal',
  type: 'object',
  description:
    "Move a deal to another stage of its version. A move the definition does not allow is a 409 with `stage` and `allowed`; a guard that fails a 409 with `stage`, `guard` and `missing`; a lost stage needs one of the pipeline's `lost_reasons` (else 400).",
  additionalProperties: false,
  required: ['to_stage'],
  properties: {
    to_stage: stageKey,
    lost_reason: { ...str(200), description: "For a lost stage: one of the pipeline's lost reasons" },
    comment,
    expected_version: expectedDealVersion,
  },
  examples: [{ to_stage: 'qualification', comment: 'Клиент подтвердил интерес' }, { to_stage: 'lost', lost_reason: 'Дорого' }],
} as const;

export const reopenDealSchema = {
  $id: 'ReopenDeal',
  type: 'object',
  description: 'Reopen a won or lost deal at an open stage of its version (default: the first)',
  additionalProperties: false,
  properties: { to_stage: stageKey, comment, expected_version: expectedDealVersion },
  examples: [{ comment: 'Клиент вернулся' }],
} as const;

export const checklistTickSchema = {
  $id: 'ChecklistTick',
  type: 'object',
  additionalProperties: false,
  required: ['checked'],
  properties: { checked: { type: 'boolean' } },
  examples: [{ checked: true }],
} as const;

export const stageChangeSchema = {
  $id: 'StageChange',
  type: 'object',
  description: "One change of a deal's stage: who, when, from, to, how long it spent in the stage it left",
  required: ['seq', 'kind', 'from_stage', 'to_stage', 'from_stage_name', 'to_stage_name', 'pipeline_version', 'seconds_in_stage', 'lost_reason', 'comment', 'changed_by', 'changed_at'],
  properties: {
    seq: { type: 'integer', minimum: 1, description: 'Within the deal, from 1' },
    kind: { type: 'string', enum: ['created', 'moved', 'won', 'lost', 'reopened', 'migrated'] },
    from_stage: { ...stringOrNull, description: 'null for `created`' },
    to_stage: { type: 'string' },
    from_stage_name: stringOrNull,
    to_stage_name: { type: 'string' },
    pipeline_version: { type: 'integer', minimum: 1 },
    seconds_in_stage: { type: 'integer', minimum: 0, description: 'Seconds the deal spent in `from_stage`' },
    lost_reason: stringOrNull,
    comment: stringOrNull,
    changed_by: actor,
    changed_at: dateTime,
  },
} as const;

export const stageChangeListSchema = {
  $id: 'StageChangeList',
  type: 'object',
  description: "A deal's stage history, oldest first",
  required: ['items'],
  properties: { items: { type: 'array', items: { $ref: 'StageChange#' } } },
} as const;

export const boardColumnSchema = {
  $id: 'BoardColumn',
  type: 'object',
  description: 'A stage of the board: how many deals it holds for the filters, their amounts per currency, the first page of them (last stage change first)',
  required: ['stage', 'name', 'outcome', 'count', 'totals', 'items', 'next_cursor'],
  properties: {
    stage: { type: 'string' },
    name: { type: 'string' },
    outcome: { type: 'string', enum: STAGE_OUTCOMES.words },
    count: { type: 'integer', minimum: 0 },
    totals: {
      type: 'array',
      items: { type: 'object', required: ['currency', 'amount_minor'], properties: { currency: { type: 'string' }, amount_minor: { type: 'integer', minimum: 0 } } },
    },
    items: { type: 'array', items: { $ref: 'Deal#' } },
    next_cursor: { ...nextCursor, description: 'Pass as `cursor` to GET …/board/{stage} for more; null when this is all' },
  },
} as const;

export const boardSchema = {
  $id: 'Board',
  type: 'object',
  description: "The board of a pipeline: a column per stage of its current version (won and lost show the deals closed in the last `closed_days`); deals of older versions show in the column of their stage's key",
  required: ['pipeline', 'columns'],
  properties: { pipeline: { $ref: 'Pipeline#' }, columns: { type: 'array', items: { $ref: 'BoardColumn#' } } },
} as const;

// ---- queries ----------------------------------------------------------------------------------------------------

const cursor = { type: 'string', minLength: 1, maxLength: 1024, pattern: '^[A-Za-z0-9_-]+$', description: 'The next_cursor of the previous page, unchanged' } as const;
const ownerFilter = { anyOf: [funnelId, { type: 'string', enum: ['me'] }], description: 'Only the deals of this owner: a user id, or `me`' } as const;

/** The board's filters (GET /v1/pipelines/{id}/board and …/board/{stage}). */
export const boardFilterQuery = {
  owner_id: ownerFilter,
  department_id: { ...funnelId, description: 'Only the deals of this department' },
  sales_channel: { ...salesChannel, description: 'Only the deals of this sales channel' },
  q: { type: 'string', maxLength: 200, pattern: NO_NUL, description: 'Words of the title (all of them, any case)' },
  project_id: { ...funnelId, description: 'Only this project' },
  limit: { type: 'integer', minimum: 1, maximum: 100, default: 20, description: 'Deals per column' },
  closed_days: { type: 'integer', minimum: 1, maximum: 3650, default: 30, description: 'Won and lost columns: deals closed in the last N days' },
} as const;

export const dealListQuery = {
  q: { type: 'string', maxLength: 200, pattern: NO_NUL, description: 'Words of the title (all of them, any case)' },
  pipeline_id: funnelId,
  stage: { ...stageKey, description: 'Only the deals at this stage (its key)' },
  state: { type: 'string', enum: DEAL_STATES.words },
  owner_id: ownerFilter,
  department_id: funnelId,
  sales_channel: salesChannel,
  client_card_id: funnelId,
  contact_id: funnelId,
  company_id: funnelId,
  project_id: funnelId,
  close_from: { ...day, description: 'Expected to close on or after (YYYY-MM-DD)' },
  close_to: { ...day, description: 'Expected to close on or before (YYYY-MM-DD)' },
  limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  cursor,
} as const;

export const stageCursorQuery = { cursor } as const;

/** Every named schema of the funnel, registered by app.ts (through routes/funnel.ts's `funnelSchemas`). */
export const funnelNamedSchemas: { $id: string }[] = [
  stageSchema,
  pipelineDefinitionSchema,
  updatePipelineSchema,
  pipelineSchema,
  pipelineListSchema,
  violationSchema,
  validationResultSchema,
  archiveSchema,
  migrationPreviewRequestSchema,
  migrationApplySchema,
  migrationPreviewSchema,
  migrationResultSchema,
  dealSchema,
  dealDetailSchema,
  dealPageSchema,
  dealListSchema,
  createDealSchema,
  updateDealSchema,
  moveDealSchema,
  reopenDealSchema,
  checklistTickSchema,
  stageChangeSchema,
  stageChangeListSchema,
  boardColumnSchema,
  boardSchema,
];
