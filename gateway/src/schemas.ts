import { CHANNELS, STATES } from './mappers';

/**
 * JSON schemas of the REST API. Every named schema has an `$id`, which is also its name under
 * `components.schemas` in the OpenAPI document (app.ts registers them and names components by `$id`);
 * the web client is generated from those names, so keep them stable. Request bodies and query strings
 * are closed (additionalProperties: false) and as precise as the services' own validation: whatever
 * the document allows is served, whatever it forbids is a 400 problem.
 */

/** Text the services can store: PostgreSQL `text` holds no NUL character. */
export const NO_NUL = '^[^\\u0000]*$';
export const str = (maxLength: number) => ({ type: 'string', maxLength, pattern: NO_NUL }) as const;
/**
 * Not only white space, and no NUL. The blank class is the union of what JavaScript's `trim()` and
 * Python's `\s` call white space, so the services (which trim) and generators of test data agree.
 */
export const NOT_BLANK = '^[^\\u0000]*[^\\u0000\\t\\n\\v\\f\\r \\u001c-\\u001f\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff][^\\u0000]*$';
const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
/** A request's or comment's id (UUIDv7). */
export const uuid = { type: 'string', format: 'uuid', pattern: UUID_PATTERN } as const;
/**
 * An http(s) URL with a host name (what intake accepts as a landing page or referrer), or '' for none.
 * Host labels start with a letter and have no `--`, so every match is a URL WHATWG parsers accept.
 */
const HTTP_URL = "^(https?://(?:[A-Za-z](?:-?[A-Za-z0-9])*\\.)*[A-Za-z](?:-?[A-Za-z0-9])*(?:[/?#][A-Za-z0-9._~%!$&'()*+,;=:@/?#-]*)?)?$";
const url = { type: 'string', maxLength: 2000, pattern: HTTP_URL, description: "An http(s) URL; '' for none" } as const;

/** RFC 9457 problem details, the body of every 4xx/5xx (application/problem+json). */
export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', description: '`about:blank`: the status says it all' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    instance: { type: 'string', description: 'The path that was called' },
    code: { type: 'string', description: 'The domain error code, e.g. INVALID_ARGUMENT' },
    owner_contact_id: { ...uuid, description: 'A 409 over a contact point: the contact that has it' },
    owner_company_id: { ...uuid, description: 'A 409 over a tax id: the company that has it' },
    owner: { type: 'string', description: 'The path of that contact or company, e.g. /v1/contacts/{id}' },
    state: { type: 'string', enum: STATES, description: 'A 409 over an illegal transition: the state the request is in' },
    allowed: {
      type: 'array',
      items: { type: 'string' },
      description: "A 409 over an illegal transition: the states a request may move to from its `state`; over a deal's move (with `stage`), the keys of the stages the deal may move to",
    },
    stage: { type: 'string', description: "A 409 over a deal's move: the stage it was refused (with `allowed`, or with `guard` and `missing`)" },
    guard: { type: 'string', enum: ['required_fields', 'checklist_complete'], description: "A 409 over a deal's move: the target stage's guard that does not hold" },
    missing: { type: 'array', items: { type: 'string' }, description: 'With `guard`: the fields that must be set (`amount`, `owner_id`, custom field keys) or the checklist items to tick (their keys)' },
    violations: {
      type: 'array',
      description: 'A 400 over a pipeline definition: every problem of it at once',
      items: { $ref: 'Violation#' },
    },
    current: {
      anyOf: [{ $ref: 'Request#' }, { $ref: 'Task#' }, { $ref: 'Deal#' }, { $ref: 'Pipeline#' }],
      description: 'A 412 (stale `If-Match` / `expected_version`): the request (task, deal, pipeline) as it is now',
    },
    problems: {
      type: 'array',
      description: 'A 409 on publishing routing: what is wrong with the version',
      items: { type: 'object', required: ['code', 'message'], properties: { rule_id: { type: ['string', 'null'] }, rule_index: { type: ['integer', 'null'] }, code: { type: 'string' }, message: { type: 'string' } } },
    },
    retry_at: { type: 'string', format: 'date-time', description: 'A 429 of a login lock or delay: when to try again (also as Retry-After, in seconds)' },
    reason: { type: 'string', description: 'With retry_at: `account_locked`, `address_locked` or `too_soon`' },
    errors: {
      type: 'array',
      description: 'One entry per invalid field',
      items: { type: 'object', required: ['field', 'message'], properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
  examples: [{ type: 'about:blank', title: 'Bad Request', status: 400, detail: 'invalid body', instance: '/v1/requests', code: 'INVALID_ARGUMENT', errors: [{ field: 'channel', message: 'is required' }] }],
} as const;

export const attributionSchema = {
  $id: 'Attribution',
  type: 'object',
  description: "Where a request came from: UTM tags, landing page and referrer ('' when unknown)",
  additionalProperties: false,
  properties: {
    utm_source: str(200),
    utm_medium: str(200),
    utm_campaign: str(200),
    utm_content: str(200),
    utm_term: str(200),
    landing_page: url,
    referrer: url,
  },
} as const;

export const axesSchema = {
  $id: 'Axes',
  type: 'object',
  description: "A request's five classification axes (DOMAIN.md)",
  additionalProperties: false,
  required: ['number', 'meaning', 'contact', 'qualification', 'channel'],
  properties: {
    number: { type: 'string', enum: ['primary', 'repeat', 'unspecified'] },
    meaning: { type: 'string', enum: ['unknown', 'targeted', 'non_targeted', 'unspecified'] },
    contact: { type: 'string', enum: ['none', 'unverified', 'verified', 'unspecified'] },
    qualification: { type: 'string', enum: ['pending', 'lead', 'not_lead', 'unspecified'] },
    channel: { type: 'string', enum: [...CHANNELS, 'unspecified'] },
  },
} as const;

/** E-mail addresses may have Unicode domains (`пример.рф`), as identity and intake accept: RFC 6531's `idn-email`. */
const emailOrEmpty = { anyOf: [{ type: 'string', format: 'idn-email' }, { type: 'string', maxLength: 0 }], description: "Lower-cased; '' when none" } as const;

export const requestSchema = {
  $id: 'Request',
  type: 'object',
  description: 'An inbound request (a call, chat, e-mail, sign-up or web form)',
  required: [
    'id', 'state', 'channel', 'axes', 'name', 'phone', 'email', 'message', 'attribution', 'comment_count', 'created_at',
    'version', 'department_id', 'assignee_id', 'project_id', 'routing_version', 'routing_rule_id', 'sla_due_at', 'sla_breached_at', 'first_response_at',
    'revisit_at', 'trash_reason', 'trash_note', 'deal_id', 'client_card_id', 'missed', 'dialed_number_kind', 'state_changed_at', 'state_reason',
  ],
  properties: {
    id: { ...uuid, description: 'UUIDv7' },
    state: { type: 'string', enum: STATES },
    channel: { type: 'string', enum: CHANNELS },
    axes: { $ref: 'Axes#' },
    name: { type: 'string' },
    phone: { type: 'string', pattern: '^(\\+[1-9][0-9]{1,14})?$', description: "E.164; '' when none" },
    email: emailOrEmpty,
    message: { type: 'string' },
    attribution: { $ref: 'Attribution#' },
    comment_count: { type: 'integer', minimum: 0 },
    contact_id: { ...uuid, description: 'The contact the request is linked to (match-or-create on arrival); absent until linked' },
    extra_fields: {
      type: 'array',
      description: 'Web form fields that map to nothing else, in the order sent (at most 50)',
      items: { type: 'object', required: ['key', 'value'], properties: { key: { type: 'string', maxLength: 100 }, value: { type: 'string', maxLength: 2000 } } },
    },
    extra_fields_truncated: { type: 'boolean', description: 'True when form fields beyond the bounds were dropped or shortened' },
    created_at: { type: 'string', format: 'date-time' },
    version: { type: 'integer', minimum: 0, description: 'Incremented on every change; send it back as `If-Match: "<version>"` (the `ETag` of a change\'s response)' },
    department_id: { anyOf: [uuid, { type: 'null' }], description: 'The department queue routing (or a move) put it in; null when none' },
    assignee_id: { anyOf: [uuid, { type: 'null' }], description: 'The employee responsible; null while nobody is' },
    project_id: { anyOf: [uuid, { type: 'null' }], description: 'The project it belongs to; null when none' },
    routing_version: { type: ['integer', 'null'], minimum: 1, description: 'The routing version that decided; null when none did' },
    routing_rule_id: { type: ['string', 'null'], description: 'The rule that decided; null when the fallback did (or no routing)' },
    sla_due_at: { type: ['string', 'null'], format: 'date-time', description: 'Speed to lead: the first response is due by then; null when the department has no SLA' },
    sla_breached_at: { type: ['string', 'null'], format: 'date-time', description: 'When the SLA was breached; null when it was not' },
    first_response_at: { type: ['string', 'null'], format: 'date-time' },
    revisit_at: { type: ['string', 'null'], format: 'date-time', description: 'For `deferred`: when it comes back as `new`' },
    trash_reason: { type: ['string', 'null'], enum: ['spam', 'wrong_number', 'not_targeted', 'duplicate', 'other', null] },
    trash_note: { type: ['string', 'null'] },
    deal_id: { anyOf: [uuid, { type: 'null' }], description: 'For `converted` / `attached`: the deal' },
    client_card_id: { anyOf: [uuid, { type: 'null' }], description: 'For `attached`: the client card' },
    missed: { type: 'boolean', description: 'A missed call (open until a callback succeeds)' },
    dialed_number_kind: { type: ['string', 'null'], enum: ['advertising', 'support', 'sales', null] },
    state_changed_at: { type: ['string', 'null'], format: 'date-time', description: 'The last state change' },
    state_reason: { type: ['string', 'null'], description: 'Why the last state change happened' },
  },
} as const;

export const commentSchema = {
  $id: 'Comment',
  type: 'object',
  required: ['id', 'request_id', 'author_id', 'text', 'created_at'],
  properties: {
    id: { ...uuid, description: 'UUIDv7' },
    request_id: uuid,
    author_id: { ...uuid, description: 'The user or API key that wrote it' },
    text: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
  },
} as const;

export const requestPageSchema = {
  $id: 'RequestPage',
  type: 'object',
  required: ['items', 'next_cursor'],
  properties: {
    items: { type: 'array', items: { $ref: 'Request#' } },
    next_cursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page' },
  },
} as const;

export const commentPageSchema = {
  $id: 'CommentPage',
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: { $ref: 'Comment#' } } },
} as const;

export const createRequestSchema = {
  $id: 'CreateRequest',
  type: 'object',
  description: 'A web_form request needs a phone or an e-mail. A phone without `+country` is read as a number of the default country (RU).',
  additionalProperties: false,
  required: ['channel'],
  properties: {
    channel: { type: 'string', enum: CHANNELS },
    name: str(200),
    // The length limit (64) is part of the format: a length bound of its own would invite filler strings that no format allows.
    phone: { type: 'string', format: 'phone', description: 'A phone number in any common notation (`+7 999 123-45-67`, `8 (999) 123-45-67`), at most 64 characters; stored as E.164' },
    email: { anyOf: [{ type: 'string', format: 'idn-email', maxLength: 254 }, { type: 'string', maxLength: 0 }], description: "An e-mail address; '' for none" },
    message: str(5000),
    attribution: { $ref: 'Attribution#' },
  },
  if: { properties: { channel: { const: 'web_form' } } },
  then: { anyOf: [{ required: ['phone'], properties: { phone: { type: 'string', minLength: 1 } } }, { required: ['email'], properties: { email: { type: 'string', minLength: 1 } } }] },
  examples: [
    { channel: 'web_form', name: 'Анна', phone: '+7 999 123-45-67', message: 'Перезвоните, пожалуйста', attribution: { utm_source: 'yandex', utm_campaign: 'spring' } },
    { channel: 'email', email: 'client@example.com' },
  ],
} as const;

export const createCommentSchema = {
  $id: 'CreateComment',
  type: 'object',
  additionalProperties: false,
  required: ['text'],
  properties: { text: { type: 'string', minLength: 1, maxLength: 4000, pattern: NOT_BLANK, description: 'Trimmed; not blank; no NUL' } },
  examples: [{ text: 'Перезвонить завтра в 10:00' }],
} as const;

export const formSubmissionAcceptedSchema = {
  $id: 'FormSubmissionAccepted',
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string', enum: ['accepted'] }, request_id: { ...uuid, description: 'Absent when the submission was dropped as spam' } },
} as const;

export const sessionSchema = {
  $id: 'Session',
  type: 'object',
  description: 'Log-in credentials of a user of a tenant',
  additionalProperties: false,
  required: ['tenant', 'email', 'password'],
  properties: {
    tenant: { type: 'string', minLength: 1, maxLength: 63, pattern: NO_NUL, description: "The tenant's slug" },
    email: { type: 'string', format: 'idn-email', minLength: 3, maxLength: 320 },
    password: { type: 'string', minLength: 1, maxLength: 200, pattern: NO_NUL },
  },
  examples: [{ tenant: 'demo', email: 'admin@demo.local', password: 'demo-password' }],
} as const;

export const meSchema = {
  $id: 'Me',
  type: 'object',
  description: 'Who is calling: the user or API key and its tenant',
  required: ['tenant_id', 'tenant_slug', 'locale', 'time_zone', 'subject_id', 'kind', 'display_name', 'email', 'roles', 'scopes'],
  properties: {
    tenant_id: uuid,
    tenant_slug: { type: 'string' },
    locale: { type: 'string' },
    time_zone: { type: 'string', description: "The tenant's IANA time zone, e.g. `Europe/Moscow` (reports count days in it; show times in it)" },
    subject_id: uuid,
    kind: { type: 'string', enum: ['user', 'api_key'] },
    display_name: { type: 'string' },
    email: emailOrEmpty,
    roles: { type: 'array', items: { type: 'string' } },
    scopes: { type: 'array', items: { type: 'string' } },
  },
} as const;

export const requestsPerDayReportSchema = {
  $id: 'RequestsPerDayReport',
  type: 'object',
  required: ['items', 'time_zone'],
  properties: {
    time_zone: { type: 'string', description: 'The IANA time zone the days are counted in (canonical spelling)' },
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['day', 'channel', 'utm_source', 'requests'],
        properties: { day: { type: 'string', format: 'date' }, channel: { type: 'string' }, utm_source: { type: 'string' }, requests: { type: 'integer', minimum: 0 } },
      },
    },
  },
} as const;

/** Every named schema, registered with Fastify (and so emitted under components.schemas) by app.ts. */
export const namedSchemas = [
  problemSchema,
  attributionSchema,
  axesSchema,
  requestSchema,
  commentSchema,
  requestPageSchema,
  commentPageSchema,
  createRequestSchema,
  createCommentSchema,
  formSubmissionAcceptedSchema,
  sessionSchema,
  meSchema,
  requestsPerDayReportSchema,
];

/** A UUID of the RFC's versions 1..8 and variant (what the services' own id checks accept: libs/db isUuid). */
export const strictUuid = { type: 'string', format: 'uuid', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$' } as const;

/** A path `{id}` checked as the services check it (strictUuid). */
export const strictIdParam = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: strictUuid },
} as const;

export const idParam = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: uuid },
} as const;

/** A 2xx answer with a JSON body (`$ref` to a named schema, or an inline schema). */
export function json(description: string, schema: object, headers?: Record<string, object>) {
  return { description, content: { 'application/json': { schema } }, ...(headers ? { headers } : {}) };
}

const PROBLEMS: Record<number, string> = {
  400: 'Invalid input (the problem lists each invalid field)',
  401: 'No credential, or one that is not valid',
  403: 'The credential lacks the scope, or a cookie-authenticated write lacks the CSRF header',
  404: 'No such resource in your tenant',
  409: 'Conflicts with the current state',
  412: 'The record changed since the version given in If-Match (the problem has it as `current`)',
  411: 'A multipart body needs a Content-Length',
  413: 'The body is larger than allowed',
  415: 'The body is not of a supported content type',
  422: 'The Idempotency-Key was used with another body',
  429: 'Too many requests; retry after Retry-After seconds',
  503: 'A service is unavailable; retry later',
  504: 'A service did not answer in time',
};

const retryAfter = {
  'retry-after': { type: 'integer', description: 'Seconds to wait' },
  // A rate limit's refusal (limiter.ts) also says which policy refused, per draft-ietf-httpapi-ratelimit-headers-11.
  ratelimit: { type: 'string', description: 'The service limit, e.g. `"api";r=0;t=42` (remaining units, seconds to the window\'s end)' },
  'ratelimit-policy': { type: 'string', description: 'The quota policy, e.g. `"api";q=60000;w=60` (units per window of w seconds)' },
};

/** Error answers (application/problem+json) for the given statuses. */
export function problems(...codes: number[]) {
  return Object.fromEntries(
    codes.map((code) => [
      code,
      { description: PROBLEMS[code] ?? 'Error', content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } }, ...(code === 429 ? { headers: retryAfter } : {}) },
    ]),
  );
}

/** What any authenticated route can answer besides its own errors: credential, scope, rate limit, a service down. */
export const AUTHENTICATED = [401, 403, 429, 503, 504] as const;
/** What any route with a JSON body can answer. */
export const WITH_BODY = [400, 413, 415] as const;
