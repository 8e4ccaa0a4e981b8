import { DomainError, type DomainErrorCode, type FieldViolation } from '@crm/errors';
import { fromServiceError, isServiceError, status } from '@crm/grpc';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { workflowProblem } from './work-mappers';

/** RFC 9457 problem details, the body of every 4xx/5xx. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldViolation[];
  code?: string;
  /** A 409 over something another record already has: that record's id and path. */
  owner_contact_id?: string;
  owner_company_id?: string;
  owner?: string;
  /** A 409 over an illegal transition: the request's state and the states allowed from it (a deal's move: the stage keys). */
  state?: string;
  allowed?: string[];
  /** A 409 over a deal's move: the target stage; for a failing guard, which guard and what it misses (field or checklist item keys). */
  stage?: string;
  guard?: string;
  missing?: string[];
  /** A 400 over a pipeline definition: every problem at once, with a path into the definition and a code. */
  violations?: { field: string; code: string; message: string }[];
  /** A 412 over a stale version: the record as it is now (its REST JSON). */
  current?: unknown;
  /** A 409 on publishing routing: the version's problems. */
  problems?: unknown[];
  /** A 429 that says when to retry (a login lock or delay): the time (ISO 8601, UTC) and why; Retry-After is set from it. */
  retry_at?: string;
  reason?: string;
}

const HTTP: Record<DomainErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  CONFLICT: 409,
  FAILED_PRECONDITION: 409,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  411: 'Length Required',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function problem(statusCode: number, detail?: string, extra: Partial<Problem> = {}): Problem {
  return { type: 'about:blank', title: TITLES[statusCode] ?? 'Error', status: statusCode, ...(detail ? { detail } : {}), ...extra };
}

/** Turns any error (validation, Fastify's own, a gRPC status from a service) into a problem. Never leaks a 5xx's internals. */
export function toProblem(err: unknown): Problem {
  const fe = err as FastifyError;
  if (fe?.validation) {
    const errors = fe.validation.map((v) => {
      const params = v.params as Record<string, string>;
      const base = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
      const at = (name: string) => (base ? `${base}.${name}` : name);
      if (v.keyword === 'additionalProperties') return { field: at(params.additionalProperty), message: 'unknown field' };
      if (v.keyword === 'required') return { field: at(params.missingProperty), message: 'is required' };
      return { field: base || '(body)', message: v.message ?? 'invalid' };
    });
    return problem(400, `invalid ${fe.validationContext ?? 'input'}`, { errors, code: 'INVALID_ARGUMENT' });
  }
  if (fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return problem(413, 'the body is larger than allowed');
  if (fe?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return problem(415, 'send application/json');
  if (fe?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return problem(400, 'the JSON body is empty', { code: 'INVALID_ARGUMENT' });
  if (fe?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (fe instanceof SyntaxError && fe.statusCode === 400)) return problem(400, 'the body is not valid JSON', { code: 'INVALID_ARGUMENT' });
  if (isServiceError(err)) {
    if (err.code === status.DEADLINE_EXCEEDED) return problem(504, 'a service did not answer in time');
    if (err.code === status.UNAVAILABLE) return problem(503, 'a service is unavailable; retry later');
    return fromDomain(fromServiceError(err));
  }
  if (err instanceof DomainError) return fromDomain(err);
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return problem(fe.statusCode, fe.message);
  return problem(500, 'internal error');
}

function fromDomain(err: DomainError): Problem {
  // The same Idempotency-Key with a different body: 422, as the IETF idempotency-key draft says.
  const work = workflowProblem(err.code, err.details);
  const code = err.details.reason === 'idempotency_key_reused' ? 422 : work.status ?? (HTTP[err.code] ?? 500);
  if (code >= 500) return problem(code, code === 503 ? 'a service is unavailable; retry later' : 'internal error');
  return problem(code, err.message, { code: err.code, ...(err.violations.length ? { errors: err.violations } : {}), ...owner(err.details), ...work.members, ...retryAt(err.details) });
}

/** A refusal that says when to retry (identity's login throttle): retry_at and its reason. */
function retryAt(details: Record<string, unknown>): Partial<Problem> {
  const at = details.retry_at;
  if (typeof at !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(at) || Number.isNaN(Date.parse(at))) return {};
  return { retry_at: at, ...(typeof details.reason === 'string' && /^[a-z_]{1,40}$/.test(details.reason) ? { reason: details.reason } : {}) };
}

/** Retry-After (RFC 9110 §10.2.3) in whole seconds, at least 1, for a problem with retry_at. */
export function retryAfterSeconds(retryAtIso: string, now = Date.now()): number {
  return Math.max(1, Math.ceil((Date.parse(retryAtIso) - now) / 1000));
}

/** The owner a conflict names (a contact point's contact, a tax id's company), as ids and a path. */
function owner(details: Record<string, unknown>): Partial<Problem> {
  const id = (v: unknown) => (typeof v === 'string' && /^[0-9a-fA-F-]{36}$/.test(v) ? v : undefined);
  const contact = id(details.owner_contact_id);
  if (contact) return { owner_contact_id: contact, owner: `/v1/contacts/${contact}` };
  const company = id(details.owner_company_id);
  if (company) return { owner_company_id: company, owner: `/v1/companies/${company}` };
  return {};
}

export function sendProblem(reply: FastifyReply, p: Problem, req?: FastifyRequest): FastifyReply {
  if (p.retry_at && !reply.hasHeader('retry-after')) reply.header('retry-after', String(retryAfterSeconds(p.retry_at)));
  return reply
    .code(p.status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .send({ ...p, ...(req ? { instance: req.url.split('?')[0] } : {}) });
}
