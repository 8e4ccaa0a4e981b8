/**
 * Named schemas of the calls routes (routes/calls.ts): a call as telephony's CallService has it, its
 * events, the screen pop's card, click-to-call and transfer bodies, missed-call statistics. Query strings
 * and bodies are closed.
 */
import { CALL_DIRECTIONS, CALL_NUMBER_KINDS, CALL_PROVIDERS, CALL_STATUSES } from './call-mappers';
import { uuid } from './schemas';

const nullableId = (description: string) => ({ anyOf: [uuid, { type: 'null' }], description }) as const;
const time = (description: string) => ({ type: ['string', 'null'], format: 'date-time', description }) as const;
/** An opaque page token of telephony, passed back unchanged. */
export const callCursor = { type: 'string', minLength: 1, maxLength: 1024, pattern: '^[\\x21-\\x7e]+$', description: 'The next_cursor of the previous page, unchanged' } as const;

export const callTransferSchema = {
  $id: 'CallTransfer',
  type: 'object',
  required: ['at', 'from_user_id', 'to_user_id', 'to_department_id'],
  properties: {
    at: { type: 'string', format: 'date-time' },
    from_user_id: nullableId('Who transferred it'),
    to_user_id: nullableId('The colleague it went to'),
    to_department_id: nullableId('The department it went to (routing chose who)'),
  },
} as const;

export const callSchema = {
  $id: 'Call',
  type: 'object',
  description: 'A phone call, normalised from the provider\'s events',
  required: [
    'id', 'connection_id', 'provider', 'direction', 'status', 'caller', 'callee', 'number_id', 'number_kind', 'request_id', 'contact_id', 'user_id',
    'ringing_user_ids', 'started_at', 'answered_at', 'ended_at', 'duration_seconds', 'talk_seconds', 'disposition', 'missed', 'recovered_at',
    'recovered_by_call_id', 'recovered_call_ids', 'transfers', 'has_recording', 'attribution', 'dni_collision', 'created_at', 'updated_at',
  ],
  properties: {
    id: { ...uuid, description: 'UUIDv7' },
    connection_id: nullableId('The provider connection it came through'),
    provider: { type: 'string', enum: [...CALL_PROVIDERS.words, 'unspecified'] },
    direction: { type: 'string', enum: [...CALL_DIRECTIONS.words, 'unspecified'] },
    status: { type: 'string', enum: [...CALL_STATUSES.words, 'unspecified'] },
    caller: { type: 'string', description: 'E.164 (or an extension for internal legs)' },
    callee: { type: 'string' },
    number_id: nullableId("The tenant's number involved (dialed for inbound, caller id for outbound)"),
    number_kind: { type: ['string', 'null'], enum: [...CALL_NUMBER_KINDS.words, null] },
    request_id: nullableId('The request of the call'),
    contact_id: nullableId("The caller's contact"),
    user_id: nullableId('Who answered (inbound) or placed it (outbound)'),
    ringing_user_ids: { type: 'array', items: uuid, description: 'The users it rang to (the screen pop went to them)' },
    started_at: time('When it started ringing'),
    answered_at: time('When it was answered'),
    ended_at: time('When it ended'),
    duration_seconds: { type: 'integer', minimum: 0 },
    talk_seconds: { type: 'integer', minimum: 0 },
    disposition: { type: ['string', 'null'], description: '`answered`, `no_answer`, `busy`, `failed`, `canceled`; null while live' },
    missed: { type: 'boolean', description: 'An inbound call nobody answered' },
    recovered_at: time('A missed call: when a callback connected'),
    recovered_by_call_id: nullableId('A missed call: the callback that recovered it'),
    recovered_call_ids: { type: 'array', items: uuid, description: 'A callback: the missed calls it recovered' },
    transfers: { type: 'array', items: { $ref: 'CallTransfer#' } },
    has_recording: { type: 'boolean', description: 'GET /v1/calls/{id}/recording serves it' },
    attribution: {
      type: 'object',
      required: ['utm_source', 'utm_medium', 'utm_campaign', 'landing_page'],
      description: "The number's attribution, or the DNI visit's when one visit explains the call ('' when none)",
      properties: { utm_source: { type: 'string' }, utm_medium: { type: 'string' }, utm_campaign: { type: 'string' }, landing_page: { type: 'string' } },
    },
    dni_collision: { type: 'boolean', description: 'Several site visits could explain it (attributed to none)' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
} as const;

export const callPageSchema = {
  $id: 'CallPage',
  type: 'object',
  required: ['items', 'next_cursor'],
  properties: {
    items: { type: 'array', items: { $ref: 'Call#' } },
    next_cursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page' },
  },
} as const;

export const callEventListSchema = {
  $id: 'CallEventList',
  type: 'object',
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'kind', 'at', 'seq', 'detail'],
        properties: {
          id: uuid,
          kind: { type: 'string', description: '`ringing`, `answered`, `transferred`, `ended`, `missed`, `recording_ready`' },
          at: { type: 'string', description: 'When the provider says it happened' },
          seq: { type: 'integer', description: "The provider's ordering, 0 when none" },
          detail: { type: 'object', additionalProperties: true, description: 'The normalised fields' },
        },
      },
    },
  },
} as const;

export const callCardSchema = {
  $id: 'CallCard',
  type: 'object',
  description:
    "The screen pop: the call, its request, the caller's contact (with the client card's state, kind and owner and the company's name), the contact's open deals and last 5 requests. Each part but the call is null (or empty) when unknown or when its service did not answer in time — then its name is in `partial`.",
  required: ['call', 'request', 'contact', 'deals', 'recent_requests', 'partial'],
  properties: {
    call: { $ref: 'Call#' },
    request: { anyOf: [{ $ref: 'Request#' }, { type: 'null' }] },
    contact: {
      anyOf: [
        {
          type: 'object',
          required: ['id', 'name', 'company_id', 'company_name', 'client_card_id', 'state', 'kind', 'owner_id'],
          properties: {
            id: uuid,
            name: { type: 'string' },
            company_id: nullableId('The company the person works for'),
            company_name: { type: ['string', 'null'] },
            client_card_id: nullableId('The client card, null when the contact has none'),
            state: { type: ['string', 'null'], description: "The client card's state" },
            kind: { type: ['string', 'null'], description: "The client card's kind" },
            owner_id: nullableId('The seller who owns the relationship'),
          },
        },
        { type: 'null' },
      ],
    },
    deals: { type: 'array', items: { $ref: 'Deal#' }, description: "Open deals of the contact (or of the call's request)" },
    recent_requests: { type: 'array', items: { $ref: 'Request#' }, description: 'The contact’s last 5 requests, newest first' },
    partial: { type: 'array', items: { type: 'string', enum: ['request', 'contact', 'deals', 'recent_requests'] }, description: 'Parts left out because their service was slow or down' },
  },
} as const;

export const originateCallSchema = {
  $id: 'OriginateCall',
  type: 'object',
  description: "Click-to-call: your extension rings first, then `phone`. Needs an extension on the connection (409 `no_extension` otherwise).",
  additionalProperties: false,
  required: ['phone'],
  properties: {
    phone: { type: 'string', format: 'phone', description: 'Any common notation, at most 64 characters' },
    request_id: uuid,
    contact_id: uuid,
    connection_id: uuid,
  },
  examples: [{ phone: '+7 999 123-45-67' }],
} as const;

export const transferCallSchema = {
  $id: 'TransferCall',
  type: 'object',
  description: 'To a colleague (their extension) or a department (routing decides who): exactly one of the two.',
  additionalProperties: false,
  properties: { to_user_id: uuid, to_department_id: uuid },
  oneOf: [{ required: ['to_user_id'], not: { required: ['to_department_id'] } }, { required: ['to_department_id'], not: { required: ['to_user_id'] } }],
  examples: [{ to_user_id: '0190b0b0-0000-7000-9000-000000000001' }],
} as const;

export const missedCallStatsSchema = {
  $id: 'MissedCallStats',
  type: 'object',
  required: ['time_zone', 'total_missed', 'total_recovered', 'items'],
  properties: {
    time_zone: { type: 'string' },
    total_missed: { type: 'integer', minimum: 0 },
    total_recovered: { type: 'integer', minimum: 0 },
    items: {
      type: 'array',
      description: 'Per number and hour',
      items: {
        type: 'object',
        required: ['number_id', 'phone', 'kind', 'hour', 'missed', 'recovered', 'median_callback_seconds'],
        properties: {
          number_id: nullableId('The number called'),
          phone: { type: 'string' },
          kind: { type: ['string', 'null'], enum: [...CALL_NUMBER_KINDS.words, null] },
          hour: { type: 'string', format: 'date-time', description: 'The start of the hour in the time zone' },
          missed: { type: 'integer', minimum: 0 },
          recovered: { type: 'integer', minimum: 0 },
          median_callback_seconds: { type: 'integer', minimum: 0, description: 'Median time from the miss to its callback; 0 when none recovered' },
        },
      },
    },
  },
} as const;

export const callListQuery = {
  contact_id: uuid,
  request_id: uuid,
  user_id: uuid,
  direction: { type: 'string', enum: CALL_DIRECTIONS.words },
  missed: { type: 'boolean' },
  number_id: uuid,
  since: { type: 'string', format: 'date-time', description: 'Started at or after' },
  until: { type: 'string', format: 'date-time', description: 'Started before' },
  live: { type: 'boolean', default: false, description: 'Only ringing or answered calls' },
  limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
  cursor: callCursor,
} as const;

export const missedStatsQuery = {
  since: { type: 'string', format: 'date-time', description: 'Default: 7 days ago' },
  until: { type: 'string', format: 'date-time', description: 'Default: now' },
  kind: { type: 'string', enum: CALL_NUMBER_KINDS.words },
  time_zone: { type: 'string', format: 'time-zone', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_+/-]+$', description: "IANA zone of the hours; default the tenant's" },
} as const;

export const callNamedSchemas: { $id: string }[] = [callTransferSchema, callSchema, callPageSchema, callEventListSchema, callCardSchema, originateCallSchema, transferCallSchema, missedCallStatsSchema];
