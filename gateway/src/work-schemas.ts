/**
 * Named OpenAPI schemas of working the request: workflow, routing, tasks (routes/work.ts, routing.ts,
 * tasks.ts). Each `$id` is its component name in the OpenAPI document and the web client: keep them
 * stable. Bodies are closed (additionalProperties: false) and bounded like intake's own validation.
 */
import { CHANNELS, STATES } from './mappers';
import { NO_NUL, NOT_BLANK, str, uuid } from './schemas';
import { CLIENT_STATES, CONTACT_AXES, DIALED_NUMBER_KINDS, MEANINGS, NUMBER_AXES, QUALIFICATIONS, STRATEGIES, TRASH_REASONS } from './work-mappers';

const dateTime = { type: 'string', format: 'date-time' } as const;
const uuidOrNull = { anyOf: [uuid, { type: 'null' }] } as const;
const stringOrNull = { type: ['string', 'null'] } as const;
const text = (minLength: number, maxLength: number) => ({ type: 'string', minLength, maxLength, pattern: minLength > 0 ? NOT_BLANK : NO_NUL }) as const;
export const expectedVersion = {
  type: 'integer',
  minimum: 1,
  maximum: 2147483647,
  description: 'Optimistic concurrency when `If-Match` is not sent: the change applies only while the request is still at this `version` (else 412 with `current`)',
} as const;
const reason = { ...str(500), description: 'Why (kept in the history), at most 500 characters' } as const;
/** States a person may move a request to (`assigned` needs `assignee_id`). */
const TARGETS = STATES;

/** `If-Match: "<version>"`: the header every change of a request takes (it wins over `expected_version`). */
export const ifMatchHeaders = {
  type: 'object',
  properties: {
    'if-match': { type: 'string', maxLength: 11, pattern: '^"[1-9][0-9]{0,8}"$', description: 'The request\'s `version` as its `ETag` gave it, e.g. `"3"`; a stale one is a 412 with `current`' },
  },
} as const;
export const etagHeader = { etag: { type: 'string', description: 'The request\'s new `version`, quoted: send it back as `If-Match`' } };

/** The journal's filter: `GET /v1/requests` and `GET /v1/requests/counts`. */
export const requestFilterQuery = {
  state: { type: 'array', items: { type: 'string', enum: STATES }, maxItems: STATES.length },
  channel: { type: 'array', items: { type: 'string', enum: CHANNELS }, maxItems: CHANNELS.length },
  created_from: { type: 'string', format: 'date-time', description: 'Created at or after (RFC 3339, any offset)' },
  created_to: { type: 'string', format: 'date-time', description: 'Created before (RFC 3339, any offset); not before created_from' },
  q: { type: 'string', maxLength: 200, pattern: NO_NUL, description: 'Part of the name or e-mail, or of the phone digits' },
  department: { type: 'array', items: uuid, maxItems: 50, uniqueItems: true, description: 'Any of these departments' },
  assignee: {
    type: 'array',
    items: { anyOf: [uuid, { type: 'string', enum: ['me', 'unassigned'] }] },
    maxItems: 50,
    uniqueItems: true,
    description: 'Any of these assignees: user ids, `me` (the caller), `unassigned` (nobody)',
  },
  project: { type: 'array', items: uuid, maxItems: 50, uniqueItems: true, description: 'Any of these projects' },
  meaning: { type: 'array', items: { type: 'string', enum: MEANINGS }, maxItems: MEANINGS.length },
  qualification: { type: 'array', items: { type: 'string', enum: QUALIFICATIONS }, maxItems: QUALIFICATIONS.length },
  contact_axis: { type: 'array', items: { type: 'string', enum: CONTACT_AXES }, maxItems: CONTACT_AXES.length },
  number_axis: { type: 'array', items: { type: 'string', enum: NUMBER_AXES }, maxItems: NUMBER_AXES.length },
  utm_source: { type: 'string', minLength: 1, maxLength: 200, pattern: NO_NUL, description: 'Exactly this utm_source (any case)' },
  sla_breached: { type: 'boolean', description: 'Only those whose SLA was (true) or was not (false) breached' },
  missed: { type: 'boolean', description: 'Only missed calls (true) or only the others (false)' },
} as const;

export const transitionSchema = {
  $id: 'Transition',
  type: 'object',
  description:
    'Move a request along its lifecycle. `trash` needs `trash_reason` (and `trash_note` for `other`), `deferred` a future `revisit_at`, `converted` a `deal_id`, `attached` a `deal_id` or `client_card_id`, `assigned` an `assignee_id`. An illegal move is a 409 with `state` and `allowed`.',
  additionalProperties: false,
  required: ['to'],
  properties: {
    to: { type: 'string', enum: TARGETS },
    reason,
    trash_reason: { type: 'string', enum: TRASH_REASONS },
    trash_note: text(0, 1000),
    revisit_at: { ...dateTime, description: 'For `deferred`: when it comes back (in the future, at most 2 years ahead)' },
    deal_id: uuid,
    client_card_id: uuid,
    assignee_id: uuid,
    expected_version: expectedVersion,
  },
  examples: [{ to: 'trash', trash_reason: 'spam', reason: 'реклама' }, { to: 'deferred', revisit_at: '2028-06-15T10:00:00+03:00' }],
} as const;

export const assignmentSchema = {
  $id: 'Assignment',
  type: 'object',
  description: 'Assign the request to `assignee_id`, or to yourself with `take: true` (exactly one of them)',
  additionalProperties: false,
  properties: {
    assignee_id: uuid,
    take: { type: 'boolean', const: true },
    expected_version: expectedVersion,
  },
  oneOf: [{ required: ['assignee_id'] }, { required: ['take'] }],
  examples: [{ take: true }, { assignee_id: '01936f5e-1234-7abc-9abc-0123456789ab' }],
} as const;

export const answeredSchema = {
  $id: 'Answered',
  type: 'object',
  description: 'Optional body of "answered" (the version when If-Match is not sent)',
  additionalProperties: false,
  properties: { expected_version: expectedVersion },
  examples: [{}],
} as const;

export const axesChangeSchema = {
  $id: 'AxesChange',
  type: 'object',
  description: 'Set the meaning and/or the qualification (the other axes follow the data)',
  additionalProperties: false,
  properties: {
    meaning: { type: 'string', enum: MEANINGS },
    qualification: { type: 'string', enum: QUALIFICATIONS },
    reason,
    expected_version: expectedVersion,
  },
  anyOf: [{ required: ['meaning'] }, { required: ['qualification'] }],
  examples: [{ meaning: 'targeted', qualification: 'lead' }],
} as const;

export const departmentMoveSchema = {
  $id: 'DepartmentMove',
  type: 'object',
  description: "Move the request to another department's queue (the assignee is cleared, the state goes back to `new`)",
  additionalProperties: false,
  required: ['department_id'],
  properties: { department_id: uuid, reason, expected_version: expectedVersion },
  examples: [{ department_id: '01936f5e-1234-7abc-9abc-0123456789ab', reason: 'вопрос по сервису' }],
} as const;

export const historyEntrySchema = {
  $id: 'HistoryEntry',
  type: 'object',
  required: ['id', 'request_id', 'at', 'actor_kind', 'actor_id', 'field', 'from', 'to', 'reason', 'details'],
  properties: {
    id: uuid,
    request_id: uuid,
    at: dateTime,
    actor_kind: { type: 'string', enum: ['user', 'api_key', 'service', 'system'] },
    actor_id: stringOrNull,
    field: { type: 'string', description: '`created`, `state`, `assignee`, `department`, `meaning`, `qualification`, `contact`, `sla_breached`, `first_response`, `revisit`, `routed`' },
    from: stringOrNull,
    to: stringOrNull,
    reason: stringOrNull,
    details: { type: 'object', additionalProperties: true, description: 'Anything else: routing rule and version, trash reason, revisit date, deal id' },
  },
} as const;

export const requestHistorySchema = {
  $id: 'RequestHistory',
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: { $ref: 'HistoryEntry#' } } },
} as const;

const bulkIds = { type: 'array', items: uuid, minItems: 1, maxItems: 200, uniqueItems: true, description: '1..200 distinct request ids' } as const;

export const bulkAssignmentSchema = {
  $id: 'BulkAssignment',
  type: 'object',
  additionalProperties: false,
  required: ['ids', 'assignee_id'],
  properties: { ids: bulkIds, assignee_id: uuid },
  examples: [{ ids: ['01936f5e-1234-7abc-9abc-0123456789ab'], assignee_id: '01936f5e-1234-7abc-9abc-0123456789ac' }],
} as const;

export const bulkTransitionSchema = {
  $id: 'BulkTransition',
  type: 'object',
  additionalProperties: false,
  required: ['ids', 'to'],
  properties: {
    ids: bulkIds,
    // Assigning in bulk is POST /v1/requests/bulk/assignment.
    to: { type: 'string', enum: TARGETS.filter((t) => t !== 'assigned') },
    reason,
    trash_reason: { type: 'string', enum: TRASH_REASONS },
    trash_note: text(0, 1000),
    revisit_at: dateTime,
  },
  examples: [{ ids: ['01936f5e-1234-7abc-9abc-0123456789ab'], to: 'trash', trash_reason: 'spam' }],
} as const;

export const bulkResultSchema = {
  $id: 'BulkResult',
  type: 'object',
  description: 'Each id answered on its own: ok with the request after the change, or the error a single call would give',
  required: ['succeeded', 'failed', 'results'],
  properties: {
    succeeded: { type: 'integer', minimum: 0 },
    failed: { type: 'integer', minimum: 0 },
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'ok', 'code', 'message', 'request'],
        properties: {
          id: uuid,
          ok: { type: 'boolean' },
          code: { ...stringOrNull, description: 'When not ok: `NOT_FOUND`, `FAILED_PRECONDITION`, …' },
          message: stringOrNull,
          request: { anyOf: [{ $ref: 'Request#' }, { type: 'null' }] },
        },
      },
    },
  },
} as const;

export const requestCountsSchema = {
  $id: 'RequestCounts',
  type: 'object',
  description: "Counters per state for the journal's filter (its `state` is ignored), over what the caller may see",
  required: ['total', 'by_state', 'sla_breached_open'],
  properties: {
    total: { type: 'integer', minimum: 0 },
    by_state: { type: 'object', required: [...STATES], properties: Object.fromEntries(STATES.map((s) => [s, { type: 'integer', minimum: 0 }])) },
    sla_breached_open: { type: 'integer', minimum: 0, description: 'Open requests with the SLA breached' },
  },
} as const;

export const myWorkSchema = {
  $id: 'MyWork',
  type: 'object',
  description: "The caller's work summary",
  required: ['assigned_open', 'breached', 'overdue_tasks', 'tasks_due_today', 'revisits_today', 'queue_new'],
  properties: {
    assigned_open: { type: 'integer', minimum: 0, description: 'Open requests assigned to me' },
    breached: { type: 'integer', minimum: 0, description: 'Of those, with the SLA breached' },
    overdue_tasks: { type: 'integer', minimum: 0 },
    tasks_due_today: { type: 'integer', minimum: 0 },
    revisits_today: { type: 'integer', minimum: 0 },
    queue_new: { type: 'integer', minimum: 0, description: "`new` requests in my departments' queues" },
  },
} as const;

export const savedViewSchema = {
  $id: 'SavedView',
  type: 'object',
  required: ['id', 'name', 'query', 'created_at'],
  properties: { id: uuid, name: { type: 'string' }, query: { type: 'string', description: "The journal's filter as a URL query string" }, created_at: dateTime },
} as const;

export const savedViewListSchema = {
  $id: 'SavedViewList',
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: { $ref: 'SavedView#' } } },
} as const;

export const saveViewSchema = {
  $id: 'SaveView',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'query'],
  properties: {
    name: { ...text(1, 100), description: '1..100 characters, unique per user (a duplicate is a 409)' },
    query: { type: 'string', maxLength: 2000, pattern: '^[\\x21-\\x7e]*$', description: "The journal's filter as a URL query string (`state=new&channel=phone`), at most 2000 characters" },
  },
  examples: [{ name: 'Новые звонки', query: 'state=new&channel=phone' }],
} as const;

// ---- routing --------------------------------------------------------------------------------------------

const ruleId = { type: 'string', pattern: '^[a-z0-9_-]{1,40}$', description: 'Stable id within the rule set' } as const;
const listOf = (items: object, maxItems = 50) => ({ type: 'array', items, maxItems, uniqueItems: true }) as const;

export const routeConditionsSchema = {
  $id: 'RouteConditions',
  type: 'object',
  description: 'Every listed condition must hold; an empty list or `any` matches anything',
  additionalProperties: false,
  properties: {
    channels: listOf({ type: 'string', enum: CHANNELS }, CHANNELS.length),
    dialed_number_kinds: listOf({ type: 'string', enum: DIALED_NUMBER_KINDS }, DIALED_NUMBER_KINDS.length),
    project_ids: listOf(uuid),
    utm_sources: { ...listOf({ type: 'string', minLength: 1, maxLength: 200, pattern: NOT_BLANK }), description: "Exact values (any case); `none`: requests without one" },
    client_states: listOf({ type: 'string', enum: CLIENT_STATES }, CLIENT_STATES.length),
    owner: { type: 'string', enum: ['any', 'has_owner', 'no_owner'] },
    working_hours: { type: 'string', enum: ['any', 'open', 'closed'], description: "The rule's department schedule now" },
  },
} as const;

export const routingRuleSchema = {
  $id: 'RoutingRule',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'department_id'],
  properties: {
    id: ruleId,
    name: text(1, 100),
    when: { $ref: 'RouteConditions#' },
    department_id: uuid,
    strategy: { type: 'string', enum: STRATEGIES, default: 'queue' },
    owner_first: { type: 'boolean', description: "Try the client's owner first when eligible" },
    overflow_department_id: { ...uuidOrNull, description: 'When nobody in the department is eligible: this department instead' },
    disabled: { type: 'boolean' },
  },
} as const;

export const routingVersionSchema = {
  $id: 'RoutingVersion',
  type: 'object',
  required: ['version', 'status', 'rule_count', 'fallback_department_id', 'fallback_strategy', 'comment', 'created_at', 'created_by', 'published_at', 'published_by'],
  properties: {
    version: { type: 'integer', minimum: 1 },
    status: { type: 'string', enum: ['draft', 'published', 'archived'] },
    rules: { type: 'array', items: { $ref: 'RoutingRule#' }, description: 'Absent in lists' },
    rule_count: { type: 'integer', minimum: 0 },
    fallback_department_id: uuidOrNull,
    fallback_strategy: { type: 'string', enum: [...STRATEGIES, 'unspecified'] },
    comment: stringOrNull,
    created_at: dateTime,
    created_by: { type: 'string' },
    published_at: { type: ['string', 'null'], format: 'date-time' },
    published_by: stringOrNull,
  },
} as const;

export const routingVersionListSchema = {
  $id: 'RoutingVersionList',
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: { $ref: 'RoutingVersion#' } } },
} as const;

export const routingProblemSchema = {
  $id: 'RoutingProblem',
  type: 'object',
  required: ['rule_id', 'rule_index', 'code', 'message'],
  properties: {
    rule_id: { ...stringOrNull, description: 'null for the rule set as a whole' },
    rule_index: { type: ['integer', 'null'], minimum: 0, description: 'The rule\'s position (from 0); null for the rule set as a whole' },
    code: { type: 'string', description: '`unknown_department`, `unknown_project`, `unreachable`, `overflow_cycle`, `no_fallback`, …' },
    message: { type: 'string' },
  },
} as const;

export const routingProblemListSchema = {
  $id: 'RoutingProblemList',
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: { $ref: 'RoutingProblem#' } } },
} as const;

export const routingDraftSchema = {
  $id: 'RoutingDraft',
  type: 'object',
  description: 'A rule set, evaluated top to bottom; the first rule whose conditions hold decides, else the fallback',
  additionalProperties: false,
  required: ['rules'],
  properties: {
    rules: { type: 'array', items: { $ref: 'RoutingRule#' }, maxItems: 500 },
    fallback_department_id: uuidOrNull,
    fallback_strategy: { type: 'string', enum: STRATEGIES, default: 'queue' },
    comment: text(0, 500),
  },
  examples: [{ rules: [{ id: 'ads', name: 'Реклама', when: { channels: ['phone'], dialed_number_kinds: ['advertising'] }, department_id: '01936f5e-1234-7abc-9abc-0123456789ab', strategy: 'round_robin' }], fallback_department_id: '01936f5e-1234-7abc-9abc-0123456789ab' }],
} as const;

export const savedRoutingDraftSchema = {
  $id: 'SavedRoutingDraft',
  type: 'object',
  required: ['version', 'problems'],
  properties: { version: { $ref: 'RoutingVersion#' }, problems: { type: 'array', items: { $ref: 'RoutingProblem#' }, description: 'What publishing would refuse (the draft is saved anyway)' } },
} as const;

export const routingPublishSchema = {
  $id: 'RoutingPublish',
  type: 'object',
  additionalProperties: false,
  required: ['expected_published_version'],
  properties: { expected_published_version: { type: 'integer', minimum: 0, maximum: 2147483647, description: 'The published version you saw (0: none yet); another publish meanwhile is a 409' } },
  examples: [{ expected_published_version: 0 }],
} as const;

export const routeSampleSchema = {
  $id: 'RouteSample',
  type: 'object',
  description: 'What routing looks at, for the simulator',
  additionalProperties: false,
  properties: {
    channel: { type: 'string', enum: CHANNELS },
    dialed_number_kind: { type: 'string', enum: DIALED_NUMBER_KINDS },
    project_id: uuid,
    utm_source: str(200),
    client_state: { type: 'string', enum: CLIENT_STATES },
    owner_id: uuid,
    at: { ...dateTime, description: 'When (default now): e.g. Sunday night' },
  },
} as const;

export const routeSimulationSchema = {
  $id: 'RouteSimulation',
  type: 'object',
  description: 'Where a sample would go: under `version` (default the published one), or under an unsaved `rules` set',
  additionalProperties: false,
  required: ['input'],
  properties: {
    version: { type: 'integer', minimum: 1, maximum: 2147483647 },
    input: { $ref: 'RouteSample#' },
    rules: { type: 'array', items: { $ref: 'RoutingRule#' }, maxItems: 500 },
    fallback_department_id: uuidOrNull,
    fallback_strategy: { type: 'string', enum: STRATEGIES },
  },
  not: { required: ['version', 'rules'] },
  examples: [{ input: { channel: 'phone', dialed_number_kind: 'advertising' } }],
} as const;

export const routeDecisionSchema = {
  $id: 'RouteDecision',
  type: 'object',
  required: ['version', 'rule_id', 'department_id', 'strategy', 'assignee_id', 'assigned_by', 'overflow_path', 'unassigned_reason', 'trace'],
  properties: {
    version: { type: 'integer', minimum: 0 },
    rule_id: { ...stringOrNull, description: 'null: the fallback decided' },
    department_id: uuidOrNull,
    strategy: { type: 'string', enum: [...STRATEGIES, 'unspecified'] },
    assignee_id: { ...uuidOrNull, description: 'null: left in the queue' },
    assigned_by: { type: 'string', enum: ['owner', 'round_robin', 'least_loaded', 'none'] },
    overflow_path: { type: 'array', items: uuid },
    unassigned_reason: stringOrNull,
    trace: {
      type: 'array',
      description: 'Each rule tried, in order: matched, or the first condition that failed',
      items: {
        type: 'object',
        required: ['rule_id', 'matched', 'failed_condition', 'disabled'],
        properties: { rule_id: { type: 'string' }, matched: { type: 'boolean' }, failed_condition: stringOrNull, disabled: { type: 'boolean' } },
      },
    },
  },
} as const;

// ---- tasks ----------------------------------------------------------------------------------------------

export const taskSchema = {
  $id: 'Task',
  type: 'object',
  description: 'A follow-up task',
  required: ['id', 'title', 'note', 'due_at', 'remind_before_minutes', 'assignee_id', 'request_id', 'contact_id', 'deal_id', 'status', 'done_at', 'created_at', 'created_by', 'kind', 'overdue', 'version', 'reminded_at'],
  properties: {
    id: uuid,
    title: { type: 'string' },
    note: { type: 'string' },
    due_at: dateTime,
    remind_before_minutes: { type: 'integer', minimum: 0, maximum: 10080 },
    assignee_id: uuid,
    request_id: uuidOrNull,
    contact_id: uuidOrNull,
    deal_id: uuidOrNull,
    status: { type: 'string', enum: ['open', 'done'] },
    done_at: { type: ['string', 'null'], format: 'date-time' },
    created_at: dateTime,
    created_by: { type: 'string' },
    kind: { type: 'string', enum: ['manual', 'revisit'] },
    overdue: { type: 'boolean' },
    version: { type: 'integer', minimum: 0 },
    reminded_at: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

export const taskPageSchema = {
  $id: 'TaskPage',
  type: 'object',
  required: ['items', 'next_cursor'],
  properties: { items: { type: 'array', items: { $ref: 'Task#' } }, next_cursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page' } },
} as const;

const remindBefore = { type: 'integer', minimum: 0, maximum: 10080, description: 'Minutes before `due_at` the reminder fires (default 0)' } as const;

export const createTaskSchema = {
  $id: 'CreateTask',
  type: 'object',
  additionalProperties: false,
  required: ['title', 'due_at'],
  properties: {
    title: text(1, 200),
    note: text(0, 2000),
    due_at: { ...dateTime, description: 'Not more than a day in the past nor 2 years ahead' },
    remind_before_minutes: remindBefore,
    assignee_id: { ...uuid, description: 'Default: you' },
    request_id: uuid,
    contact_id: uuid,
    deal_id: uuid,
  },
  examples: [{ title: 'Перезвонить клиенту', due_at: '2028-06-15T10:00:00+03:00', remind_before_minutes: 15 }],
} as const;

export const updateTaskSchema = {
  $id: 'UpdateTask',
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    title: text(1, 200),
    note: text(0, 2000),
    due_at: dateTime,
    remind_before_minutes: remindBefore,
    assignee_id: uuid,
    expected_version: { ...expectedVersion, description: 'The task changes only while still at this `version` (else 412 with `current`)' },
  },
  examples: [{ due_at: '2028-06-16T10:00:00+03:00' }],
} as const;

export const taskCompletionSchema = {
  $id: 'TaskCompletion',
  type: 'object',
  additionalProperties: false,
  required: ['done'],
  properties: { done: { type: 'boolean', description: 'true: done; false: reopen' } },
  examples: [{ done: true }],
} as const;

export const workSchemas: { $id: string }[] = [
  transitionSchema,
  assignmentSchema,
  answeredSchema,
  axesChangeSchema,
  departmentMoveSchema,
  historyEntrySchema,
  requestHistorySchema,
  bulkAssignmentSchema,
  bulkTransitionSchema,
  bulkResultSchema,
  requestCountsSchema,
  myWorkSchema,
  savedViewSchema,
  savedViewListSchema,
  saveViewSchema,
  routeConditionsSchema,
  routingRuleSchema,
  routingVersionSchema,
  routingVersionListSchema,
  routingProblemSchema,
  routingProblemListSchema,
  routingDraftSchema,
  savedRoutingDraftSchema,
  routingPublishSchema,
  routeSampleSchema,
  routeSimulationSchema,
  routeDecisionSchema,
  taskSchema,
  taskPageSchema,
  createTaskSchema,
  updateTaskSchema,
  taskCompletionSchema,
];
