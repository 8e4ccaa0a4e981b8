/**
 * OpenAPI schemas of the numbers, number pools and public DNI routes (routes/numbers.ts). Closed objects;
 * the service checks the rest (E.164, origins, pool membership) and answers 400 with every field.
 */
import { strictUuid as uuid } from './schemas';

/** Text as telephony takes it: no control characters but tab and line feed (numbers/args.ts textArg). */
const NO_CONTROL = '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$';
const str = (maxLength: number) => ({ type: 'string', maxLength, pattern: NO_CONTROL }) as const;

export const NUMBER_KINDS = ['advertising', 'support', 'sales'] as const;

const dateTime = { type: 'string', format: 'date-time' } as const;
const idOrNull = { anyOf: [uuid, { type: 'null' }] } as const;
const nextCursor = { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page' } as const;
export const cursorParam = { type: 'string', minLength: 1, maxLength: 1024, pattern: '^[A-Za-z0-9_-]+$', description: 'The next_cursor of the previous page, unchanged' } as const;
const phoneIn = { ...str(64), minLength: 1, description: 'Any common spelling (`8 (999) 123-45-67`, `+7 999 123 45 67`); stored as E.164' } as const;
const origin = { type: 'string', maxLength: 300, description: 'An origin: scheme, host and optional port (https://shop.example)' } as const;

export const numberSchema = {
  $id: 'PhoneNumber',
  type: 'object',
  additionalProperties: false,
  description: "A tenant's phone number: advertising (tracking, with its attribution), support or sales",
  required: ['id', 'phone', 'kind', 'label', 'utm_source', 'utm_medium', 'utm_campaign', 'project_id', 'department_id', 'pool_id', 'connection_id', 'archived', 'created_at', 'updated_at'],
  properties: {
    id: uuid,
    phone: { type: 'string', description: 'E.164' },
    kind: { type: 'string', enum: NUMBER_KINDS },
    label: { type: 'string' },
    utm_source: { type: 'string' },
    utm_medium: { type: 'string' },
    utm_campaign: { type: 'string' },
    project_id: idOrNull,
    department_id: idOrNull,
    pool_id: { ...idOrNull, description: 'The DNI pool it is lent from, null when none' },
    connection_id: { ...idOrNull, description: 'The provider connection it arrives through, null when any' },
    archived: { type: 'boolean' },
    created_at: dateTime,
    updated_at: dateTime,
  },
} as const;

export const numberPageSchema = {
  $id: 'PhoneNumberPage',
  type: 'object',
  additionalProperties: false,
  required: ['items', 'next_cursor'],
  properties: { items: { type: 'array', items: { $ref: 'PhoneNumber#' } }, next_cursor: nextCursor },
} as const;

const numberFields = {
  kind: { type: 'string', enum: NUMBER_KINDS },
  label: str(200),
  utm_source: str(200),
  utm_medium: str(200),
  utm_campaign: str(200),
  project_id: idOrNull,
  department_id: idOrNull,
  connection_id: idOrNull,
} as const;

export const createNumberSchema = {
  $id: 'CreateNumber',
  type: 'object',
  additionalProperties: false,
  required: ['phone', 'kind'],
  properties: {
    phone: phoneIn,
    ...numberFields,
    default_country: { type: 'string', pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2 for a phone without +country (default RU)' },
  },
  examples: [{ phone: '8 (495) 123-45-67', kind: 'advertising', label: 'Яндекс Директ — зима', utm_source: 'yandex', utm_medium: 'cpc', utm_campaign: 'winter' }],
} as const;

export const updateNumberSchema = {
  $id: 'UpdateNumber',
  type: 'object',
  additionalProperties: false,
  description: 'The fields present are changed (the phone cannot be); null clears an id',
  minProperties: 1,
  properties: numberFields,
  examples: [{ label: 'Яндекс Директ — весна', utm_campaign: 'spring' }],
} as const;

export const poolSchema = {
  $id: 'NumberPool',
  type: 'object',
  additionalProperties: false,
  description: 'A dynamic number insertion pool: advertising numbers lent to a site\'s visitors one at a time',
  required: ['id', 'name', 'public_id', 'number_ids', 'fallback_phone', 'quiet_seconds', 'allowed_origins', 'archived', 'created_at', 'updated_at', 'script_url'],
  properties: {
    id: uuid,
    name: { type: 'string' },
    public_id: { type: 'string', description: 'What the site\'s script carries; not secret' },
    number_ids: { type: 'array', items: uuid },
    fallback_phone: { type: ['string', 'null'], description: 'E.164, shown when every number is lent' },
    quiet_seconds: { type: 'integer', description: 'A lent number returns to the pool after this long without a heartbeat' },
    allowed_origins: { type: 'array', items: { type: 'string' }, description: 'Sites allowed to call the public DNI endpoints; empty: any' },
    archived: { type: 'boolean' },
    created_at: dateTime,
    updated_at: dateTime,
    script_url: { type: 'string', description: 'The path of the script to embed: /dni/{public_id}.js' },
  },
} as const;

export const poolPageSchema = {
  $id: 'NumberPoolPage',
  type: 'object',
  additionalProperties: false,
  required: ['items', 'next_cursor'],
  properties: { items: { type: 'array', items: { $ref: 'NumberPool#' } }, next_cursor: nextCursor },
} as const;

const poolFields = {
  name: { ...str(200), minLength: 1 },
  number_ids: { type: 'array', maxItems: 100, items: uuid },
  fallback_phone: { anyOf: [phoneIn, { type: 'null' }], description: 'null or absent: none' },
  quiet_seconds: { type: 'integer', minimum: 30, maximum: 3600 },
  allowed_origins: { type: 'array', maxItems: 20, items: origin },
} as const;

export const createPoolSchema = {
  $id: 'CreateNumberPool',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: poolFields,
  examples: [{ name: 'shop.example', number_ids: ['0190f0f0-0000-7000-8000-000000000001'], fallback_phone: '+7 495 123-45-00', quiet_seconds: 300, allowed_origins: ['https://shop.example'] }],
} as const;

export const updatePoolSchema = {
  $id: 'UpdateNumberPool',
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  description: 'The fields present are changed; `archived: true` archives the pool and frees its numbers',
  properties: { ...poolFields, archived: { type: 'boolean' } },
  examples: [{ quiet_seconds: 600 }],
} as const;

export const poolStatsSchema = {
  $id: 'NumberPoolStats',
  type: 'object',
  additionalProperties: false,
  required: ['since', 'until', 'lends', 'fallback_shows', 'calls', 'attributed', 'collisions', 'unexplained', 'collision_rate'],
  properties: {
    since: dateTime,
    until: dateTime,
    lends: { type: 'integer', description: 'Numbers lent to visits' },
    fallback_shows: { type: 'integer', description: 'Visits shown the fallback number (every number was lent)' },
    calls: { type: 'integer', description: 'Calls to the pool\'s numbers' },
    attributed: { type: 'integer', description: 'Calls exactly one visit explains' },
    collisions: { type: 'integer', description: 'Calls two or more visits could explain (attributed to none)' },
    unexplained: { type: 'integer', description: 'Calls no visit explains' },
    collision_rate: { type: 'number', minimum: 0, maximum: 1, description: 'collisions / calls (0 without calls)' },
  },
} as const;

const session = { type: 'string', pattern: '^[A-Za-z0-9_-]{8,128}$', description: "The visitor's session id (the script keeps it in localStorage)" } as const;

export const dniLendSchema = {
  $id: 'DniLend',
  type: 'object',
  additionalProperties: false,
  required: ['session_id'],
  properties: {
    session_id: session,
    utm_source: str(200),
    utm_medium: str(200),
    utm_campaign: str(200),
    utm_content: str(200),
    utm_term: str(200),
    landing_page: { ...str(2000), description: 'The page the visitor landed on' },
    referrer: str(2000),
  },
  examples: [{ session_id: '9f2c1d7e4b6a48c0a1e3d5f7b9c2e4a6', utm_source: 'yandex', utm_medium: 'cpc', utm_campaign: 'winter', landing_page: 'https://shop.example/?utm_source=yandex', referrer: 'https://yandex.ru/' }],
} as const;

export const dniHeartbeatSchema = {
  $id: 'DniHeartbeat',
  type: 'object',
  additionalProperties: false,
  required: ['session_id'],
  properties: { session_id: session },
  examples: [{ session_id: '9f2c1d7e4b6a48c0a1e3d5f7b9c2e4a6' }],
} as const;

export const dniLeaseSchema = {
  $id: 'DniLease',
  type: 'object',
  additionalProperties: false,
  required: ['phone', 'display', 'fallback', 'lease_expires_at', 'heartbeat_seconds'],
  properties: {
    phone: { type: ['string', 'null'], description: 'E.164 to show (the fallback when `fallback`; null when the pool has none)' },
    display: { type: ['string', 'null'], description: 'The national display form' },
    fallback: { type: 'boolean', description: 'Every number is lent: the fallback is shown and calls to it are not attributed to this visit' },
    lease_expires_at: dateTime,
    heartbeat_seconds: { type: 'integer', description: 'Heartbeat this often while the page is visible' },
  },
} as const;

export const numberNamedSchemas: { $id: string }[] = [
  numberSchema,
  numberPageSchema,
  createNumberSchema,
  updateNumberSchema,
  poolSchema,
  poolPageSchema,
  createPoolSchema,
  updatePoolSchema,
  poolStatsSchema,
  dniLendSchema,
  dniHeartbeatSchema,
  dniLeaseSchema,
];
