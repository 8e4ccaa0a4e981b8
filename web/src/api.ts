/**
 * The gateway's REST API as the UI uses it. Paths, parameters, bodies and answers are typed by
 * `gen/api.ts`, generated from the gateway's OpenAPI document (`npm run openapi`; never edit it), and
 * called through `openapi-fetch`. This file adds only what the document cannot say: same origin with the
 * session cookie, `x-crm-csrf: 1` on unsafe methods, application/problem+json answers turned into
 * `ApiError`, and the names the pages import.
 */
import createClient, { createQuerySerializer, type Middleware } from 'openapi-fetch';
import type { paths } from './gen/api';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The JSON body (`application/json`, `application/problem+json`) that `method path` answers with `status`. */
type Body<P extends keyof paths, M extends Method & keyof paths[P], S extends number> = paths[P][M] extends { responses: infer R }
  ? S extends keyof R
    ? R[S] extends { content: infer C }
      ? C[keyof C & `${string}json`]
      : never
    : never
  : never;

/** The query parameters of `GET path`. */
type Query<P extends keyof paths> = paths[P] extends { get: { parameters: { query?: infer Q } } } ? NonNullable<Q> : never;

/**
 * The gateway fills every property of its answers (its mappers set each field; proto3 gives each a
 * value), but a schema shared with a request body (e.g. `Attribution`, whose fields a client may leave
 * out) marks them optional. The pages rely on the answers being complete; for a schema that already
 * lists every property as `required` this changes nothing.
 */
export type Complete<T> = T extends (infer E)[] ? Complete<E>[] : T extends object ? { [K in keyof T]-?: Complete<T[K]> } : T;

export type Me = Complete<Body<'/v1/me', 'get', 200>>;
/** The login's 202: the password was right, a second factor is needed (features/security/mfa-api.ts continues it). */
export type LoginChallenge = Complete<Body<'/v1/session', 'post', 202>>;
export type CrmRequest = Complete<Body<'/v1/requests/{id}', 'get', 200>>;
export type Attribution = CrmRequest['attribution'];
export type Axes = CrmRequest['axes'];
export type Comment = Complete<Body<'/v1/requests/{id}/comments', 'post', 201>>;
export type Tenant = Complete<Body<'/v1/tenant', 'get', 200>>;
export type RequestsPerDayReport = Complete<Body<'/v1/reports/requests-per-day', 'get', 200>>;
/** An RFC 9457 problem, as every error of the API is answered. */
export type Problem = Body<'/v1/requests/{id}', 'get', 404>;

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type RequestStateName = CrmRequest['state'];
export type ChannelName = CrmRequest['channel'];

// Every value of the document's enums, once (a missing or unknown value is a compile error).
const STATE_SET: Record<RequestStateName, true> = { new: true, assigned: true, in_progress: true, converted: true, attached: true, deferred: true, trash: true, closed: true };
const CHANNEL_SET: Record<ChannelName, true> = { phone: true, chat: true, email: true, signup: true, web_form: true };
export const STATES = Object.keys(STATE_SET) as readonly RequestStateName[];
export const CHANNELS = Object.keys(CHANNEL_SET) as readonly ChannelName[];

/** An HTTP error answered by the gateway (status 0: the network failed, nothing was answered). */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
    this.name = 'ApiError';
  }

  get status(): number {
    return this.problem.status;
  }
}

let onUnauthorized: (() => void) | undefined;

/** Called when any call but the login answers 401 (the session expired or was revoked). */
export function setUnauthorizedHandler(handler: (() => void) | undefined): void {
  onUnauthorized = handler;
}

function isProblem(v: unknown): v is Problem {
  return typeof v === 'object' && v !== null && typeof (v as Problem).status === 'number' && typeof (v as Problem).title === 'string';
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * What every call needs beyond the document: a cookie-authenticated unsafe request must prove it is
 * not a cross-site form post (`x-crm-csrf: 1`), and a 401 on anything but the login means the session
 * expired or was revoked.
 */
const session: Middleware = {
  onRequest({ request }) {
    request.headers.set('accept', 'application/json, application/problem+json');
    if (!SAFE.has(request.method)) request.headers.set('x-crm-csrf', '1');
    return request;
  },
  onResponse({ response, schemaPath }) {
    // The login and its second step answer 401 for a wrong password or code: that is no expired session.
    if (response.status === 401 && schemaPath !== '/v1/session' && !schemaPath.startsWith('/v1/session/')) onUnauthorized?.();
  },
};

/** The typed client (features call it through `unwrap`). */
export const client = createClient<paths>({ credentials: 'same-origin' });
client.use(session);

/** The data of a successful answer; an error answer (or no answer) is thrown as `ApiError`. */
export async function unwrap<D>(call: Promise<{ data?: D; error?: unknown; response: Response }>, signal?: AbortSignal): Promise<Complete<NonNullable<D>>> {
  let res: { data?: D; error?: unknown; response: Response };
  try {
    res = await call;
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError({ type: 'about:blank', title: 'network error', status: 0 });
  }
  if (!res.response.ok) {
    const { status, statusText } = res.response;
    throw new ApiError(isProblem(res.error) ? res.error : { type: 'about:blank', title: statusText || 'error', status });
  }
  return res.data as Complete<NonNullable<D>>;
}

export interface RequestFilters {
  states: string[];
  channels: string[];
  /** Inclusive lower bound, RFC 3339. */
  createdFrom?: string;
  /** Exclusive upper bound, RFC 3339. */
  createdTo?: string;
  q?: string;
}

/** The query of `GET /v1/requests` for these filters and page. */
export function listParams(f: RequestFilters, limit: number, cursor?: string | null): Query<'/v1/requests'> {
  return {
    state: f.states.length ? (f.states as RequestStateName[]) : undefined,
    channel: f.channels.length ? (f.channels as ChannelName[]) : undefined,
    created_from: f.createdFrom || undefined,
    created_to: f.createdTo || undefined,
    q: f.q || undefined,
    limit,
    cursor: cursor || undefined,
  };
}

const serializeQuery = createQuerySerializer();

/** The query string openapi-fetch sends for `listParams(…)`. */
export function listQuery(f: RequestFilters, limit: number, cursor?: string | null): string {
  return serializeQuery(listParams(f, limit, cursor));
}

/**
 * A call the generated client cannot type yet (or must send a raw body, e.g. a CSV upload): the same
 * session rules (`x-crm-csrf: 1` on unsafe methods, a 401 ends the session) and the same `ApiError`s.
 */
export async function apiFetch<T>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  opts: { query?: Record<string, string | number | boolean | undefined>; json?: unknown; body?: Blob | ArrayBuffer; contentType?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<T> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== '') qs.set(k, String(v));
  const headers = new Headers({ accept: 'application/json, application/problem+json', ...opts.headers });
  if (!SAFE.has(method)) headers.set('x-crm-csrf', '1');
  let body: Blob | ArrayBuffer | string | undefined;
  if (opts.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(opts.json);
  } else if (opts.body !== undefined) {
    headers.set('content-type', opts.contentType ?? 'application/octet-stream');
    body = opts.body;
  }
  let res: Response;
  try {
    res = await fetch(path + (qs.size ? `?${qs}` : ''), { method, headers, body, credentials: 'same-origin', signal: opts.signal });
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    throw new ApiError({ type: 'about:blank', title: 'network error', status: 0 });
  }
  if (res.status === 401) onUnauthorized?.();
  const text = await res.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) throw new ApiError(isProblem(data) ? data : { type: 'about:blank', title: res.statusText || 'error', status: res.status });
  return data as T;
}

export const api = {
  me: (): Promise<Me> => unwrap(client.GET('/v1/me')),
  /** A session (Me), or a challenge for the second factor (202: no session yet). */
  login: (tenant: string, email: string, password: string): Promise<Me | LoginChallenge> => unwrap(client.POST('/v1/session', { body: { tenant, email, password } })),
  logout: async (): Promise<void> => {
    await unwrap(client.DELETE('/v1/session'));
  },
  listRequests: (f: RequestFilters, limit: number, cursor?: string | null, signal?: AbortSignal): Promise<Page<CrmRequest>> =>
    unwrap(client.GET('/v1/requests', { params: { query: listParams(f, limit, cursor) }, signal }), signal),
  getRequest: (id: string, signal?: AbortSignal): Promise<CrmRequest> => unwrap(client.GET('/v1/requests/{id}', { params: { path: { id } }, signal }), signal),
  listComments: (id: string, signal?: AbortSignal): Promise<{ items: Comment[] }> =>
    unwrap(client.GET('/v1/requests/{id}/comments', { params: { path: { id } }, signal }), signal),
  addComment: (id: string, text: string): Promise<Comment> => unwrap(client.POST('/v1/requests/{id}/comments', { params: { path: { id } }, body: { text } })),
  getTenant: (signal?: AbortSignal): Promise<Tenant> => unwrap(client.GET('/v1/tenant', { signal }), signal),
  updateTenant: (body: { time_zone?: string }): Promise<Tenant> => unwrap(client.PATCH('/v1/tenant', { body })),
  /** Requests per day in the tenant's zone (or `timeZone`), `from`/`to` being local days, inclusive. */
  requestsPerDay: (from: string, to: string, timeZone?: string, signal?: AbortSignal): Promise<RequestsPerDayReport> =>
    unwrap(client.GET('/v1/reports/requests-per-day', { params: { query: { from, to, time_zone: timeZone } }, signal }), signal),
};
