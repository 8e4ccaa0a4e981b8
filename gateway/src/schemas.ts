import { CHANNELS, STATES } from './mappers';

/** JSON schemas of the REST API; every object is closed (additionalProperties: false). */
const str = (maxLength: number) => ({ type: 'string', maxLength }) as const;

export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
  },
  required: ['type', 'title', 'status'],
} as const;

export const attributionSchema = {
  $id: 'Attribution',
  type: 'object',
  additionalProperties: false,
  properties: {
    utm_source: str(200),
    utm_medium: str(200),
    utm_campaign: str(200),
    utm_content: str(200),
    utm_term: str(200),
    landing_page: str(2000),
    referrer: str(2000),
  },
} as const;

export const requestSchema = {
  $id: 'Request',
  type: 'object',
  properties: {
    id: { type: 'string' },
    state: { type: 'string', enum: STATES },
    channel: { type: 'string', enum: CHANNELS },
    axes: {
      type: 'object',
      properties: {
        number: { type: 'string', enum: ['primary', 'repeat', 'unspecified'] },
        meaning: { type: 'string', enum: ['unknown', 'targeted', 'non_targeted', 'unspecified'] },
        contact: { type: 'string', enum: ['none', 'unverified', 'verified', 'unspecified'] },
        qualification: { type: 'string', enum: ['pending', 'lead', 'not_lead', 'unspecified'] },
        channel: { type: 'string', enum: [...CHANNELS, 'unspecified'] },
      },
    },
    name: { type: 'string' },
    phone: { type: 'string', description: 'E.164' },
    email: { type: 'string' },
    message: { type: 'string' },
    attribution: { $ref: 'Attribution#' },
    comment_count: { type: 'integer' },
    created_at: { type: 'string', format: 'date-time' },
  },
} as const;

export const commentSchema = {
  $id: 'Comment',
  type: 'object',
  properties: {
    id: { type: 'string' },
    request_id: { type: 'string' },
    author_id: { type: 'string' },
    text: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
  },
} as const;

export const createRequestBody = {
  type: 'object',
  additionalProperties: false,
  required: ['channel'],
  properties: {
    channel: { type: 'string', enum: CHANNELS },
    name: str(200),
    phone: str(64),
    email: str(320),
    message: str(5000),
    attribution: { $ref: 'Attribution#' },
  },
} as const;

export const formSubmissionBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: str(200),
    phone: str(64),
    email: str(320),
    message: str(5000),
    utm_source: str(200),
    utm_medium: str(200),
    utm_campaign: str(200),
    utm_content: str(200),
    utm_term: str(200),
    page_url: str(2000),
    referrer: str(2000),
    /** Honeypot: hidden in the form; people leave it empty, bots fill it. */
    website: str(500),
  },
} as const;

export const idParam = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9a-fA-F-]{36}$' } },
} as const;

export const errorResponses = {
  400: { $ref: 'Problem#' },
  401: { $ref: 'Problem#' },
  403: { $ref: 'Problem#' },
  404: { $ref: 'Problem#' },
  413: { $ref: 'Problem#' },
  422: { $ref: 'Problem#' },
  429: { $ref: 'Problem#' },
  503: { $ref: 'Problem#' },
};
