/**
 * Named OpenAPI schemas of telephony's connections and extensions (routes/telephony-connections.ts).
 * Each `$id` is its component name in the OpenAPI document and the web client: keep them stable. Bodies
 * are closed; secrets are write-only (`secret`) or shown once (`signing_secret` of a create / rotation).
 */
import { NO_NUL, str, uuid } from './schemas';

export const PROVIDERS = ['generic', 'mango', 'zadarma', 'twilio', 'kamailio'] as const;
const provider = { type: 'string', enum: PROVIDERS, description: '`generic` (our signed webhook), `mango`, `zadarma`, `twilio`, `kamailio` (the shipped SIP config)' } as const;
const name = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*\\S[^\\u0000-\\u001f\\u007f]*$', description: '1..200 characters, not blank' } as const;
const apiBaseUrl = { type: 'string', maxLength: 500, pattern: '^(|https?://[^\\s]+)$', description: "The provider's API base (http(s)); empty for generic and kamailio" } as const;
const account = { type: 'string', maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*$', description: 'Mango api key, Zadarma key, Twilio account SID' } as const;
const secret = { type: 'string', maxLength: 500, pattern: '^[^\\u0000-\\u001f\\u007f]*$', writeOnly: true, description: 'Write-only: Mango salt, Zadarma secret, Twilio auth token (required for those; not for generic/kamailio)' } as const;
const fallbackTarget = { type: 'string', maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*$', description: 'Where calls go when nobody is found: an extension, a queue name or a phone' } as const;
export const EXTENSION_PATTERN = '^[0-9A-Za-z_.+-]{1,32}$';
const nextCursor = { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page' } as const;

export const connectionSchema = {
  $id: 'TelephonyConnection',
  type: 'object',
  description: "A PBX connection of the tenant (never with a secret: they are shown once, on create and rotation)",
  additionalProperties: false,
  required: ['id', 'provider', 'name', 'api_base_url', 'account', 'webhook_url', 'fallback_target', 'is_default', 'disabled', 'created_at', 'updated_at'],
  properties: {
    id: uuid,
    provider,
    name: str(200),
    api_base_url: str(500),
    account: str(200),
    webhook_url: { type: 'string', description: 'Where the provider must send its events (Kamailio: + /route and /state)' },
    fallback_target: str(200),
    is_default: { type: 'boolean', description: 'The connection click-to-call and decisions use when a number names none (one per tenant)' },
    disabled: { type: 'boolean' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
} as const;

export const connectionCreatedSchema = {
  $id: 'TelephonyConnectionCreated',
  type: 'object',
  description: 'The connection and, for generic / kamailio, its signing secret — shown this once',
  additionalProperties: false,
  required: ['connection', 'signing_secret'],
  properties: {
    connection: { $ref: 'TelephonyConnection#' },
    signing_secret: { type: ['string', 'null'], description: '`whsec_` + base64 of 32 random bytes (generic / kamailio); null for the others' },
  },
} as const;

export const createConnectionSchema = {
  $id: 'CreateTelephonyConnection',
  type: 'object',
  additionalProperties: false,
  required: ['provider', 'name'],
  properties: { provider, name, api_base_url: apiBaseUrl, account, secret, fallback_target: fallbackTarget, is_default: { type: 'boolean', default: false, description: 'Make it the default (the first connection always is)' }, disabled: { type: 'boolean', default: false } },
  examples: [{ provider: 'generic', name: 'Office PBX', fallback_target: 'sales', is_default: true }, { provider: 'mango', name: 'Mango Office', api_base_url: 'https://app.mango-office.ru/vpbx', account: 'vpbx-api-key', secret: 'mango-salt' }],
} as const;

export const updateConnectionSchema = {
  $id: 'UpdateTelephonyConnection',
  type: 'object',
  description: 'The fields to change (absent ones are kept); the provider cannot change; `is_default: true` moves the default here',
  additionalProperties: false,
  minProperties: 1,
  properties: { name, api_base_url: apiBaseUrl, account, secret, fallback_target: fallbackTarget, is_default: { type: 'boolean', enum: [true] }, disabled: { type: 'boolean' } },
  examples: [{ name: 'Office PBX (main)', fallback_target: '100' }],
} as const;

export const connectionPageSchema = {
  $id: 'TelephonyConnectionPage',
  type: 'object',
  additionalProperties: false,
  required: ['items', 'next_cursor'],
  properties: { items: { type: 'array', items: { $ref: 'TelephonyConnection#' } }, next_cursor: nextCursor },
} as const;

export const extensionSchema = {
  $id: 'TelephonyExtension',
  type: 'object',
  description: "An employee's extension on a connection (one per user per connection, unique per connection)",
  additionalProperties: false,
  required: ['id', 'connection_id', 'user_id', 'extension', 'created_at'],
  properties: { id: uuid, connection_id: uuid, user_id: uuid, extension: str(32), created_at: { type: 'string', format: 'date-time' } },
} as const;

export const setExtensionSchema = {
  $id: 'SetTelephonyExtension',
  type: 'object',
  description: "Sets the user's extension on the connection (replacing the one they had there)",
  additionalProperties: false,
  required: ['connection_id', 'user_id', 'extension'],
  properties: { connection_id: uuid, user_id: uuid, extension: { type: 'string', pattern: EXTENSION_PATTERN, description: '1..32 of 0-9 A-Z a-z _ . + - (a SIP user, a Mango extension, a Twilio client name)' } },
  examples: [{ connection_id: '0190f0f0-0000-7000-8000-000000000001', user_id: '0190f0f0-0000-7000-8000-000000000002', extension: '101' }],
} as const;

export const extensionPageSchema = {
  $id: 'TelephonyExtensionPage',
  type: 'object',
  additionalProperties: false,
  required: ['items', 'next_cursor'],
  properties: { items: { type: 'array', items: { $ref: 'TelephonyExtension#' } }, next_cursor: nextCursor },
} as const;

export const decideBodySchema = {
  $id: 'TelephonyDecideQuestion',
  type: 'object',
  description: 'A caller and the number they dialed, any common spelling',
  additionalProperties: false,
  required: ['caller'],
  properties: { caller: { type: 'string', minLength: 1, maxLength: 64, pattern: NO_NUL }, dialed: { type: 'string', maxLength: 64, pattern: NO_NUL } },
  examples: [{ caller: '+7 916 123-45-67', dialed: '+7 495 123-45-67' }],
} as const;

export const decisionSchema = {
  $id: 'TelephonyDecision',
  type: 'object',
  description: 'Whom this caller would be connected to now (intake\'s rules, the shift roster, the extensions on the connection)',
  additionalProperties: false,
  required: ['extensions', 'user_ids', 'queue', 'department_id', 'decided_by', 'fallback', 'fallback_target'],
  properties: {
    extensions: { type: 'array', items: str(32), description: 'Extensions to ring, first first' },
    user_ids: { type: 'array', items: { type: 'string' }, description: 'Their users' },
    queue: { type: ['string', 'null'], description: "The department's queue when no one person was chosen" },
    department_id: { type: ['string', 'null'], format: 'uuid' },
    decided_by: { type: 'string', enum: ['owner', 'round_robin', 'least_loaded', 'department', 'fallback'] },
    fallback: { type: 'boolean', description: 'Nobody found, or intake slow or down: the connection\'s fallback target' },
    fallback_target: { type: ['string', 'null'] },
  },
} as const;

export const connectionNamedSchemas: { $id: string }[] = [
  connectionSchema,
  connectionCreatedSchema,
  createConnectionSchema,
  updateConnectionSchema,
  connectionPageSchema,
  extensionSchema,
  setExtensionSchema,
  extensionPageSchema,
  decideBodySchema,
  decisionSchema,
];
