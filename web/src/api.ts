/**
 * The gateway's REST API as the UI uses it: same origin, the session cookie, `x-crm-csrf: 1` on unsafe
 * methods, application/problem+json errors turned into `ApiError`.
 */

export const STATES = ['new', 'assigned', 'in_progress', 'converted', 'attached', 'deferred', 'trash', 'closed'] as const;
export const CHANNELS = ['phone', 'chat', 'email', 'signup', 'web_form'] as const;
export type RequestStateName = (typeof STATES)[number];
export type ChannelName = (typeof CHANNELS)[number];

export interface Me {
  tenant_id: string;
  tenant_slug: string;
  locale: string;
  subject_id: string;
  kind: 'user' | 'api_key';
  display_name: string;
  email: string;
  roles: string[];
  scopes: string[];
}

export interface Attribution {
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
  utm_content: string;
  utm_term: string;
  landing_page: string;
  referrer: string;
}

export interface Axes {
  number: string;
  meaning: string;
  contact: string;
  qualification: string;
  channel: string;
}

export interface CrmRequest {
  id: string;
  state: string;
  channel: string;
  axes: Axes;
  name: string;
  phone: string;
  email: string;
  message: string;
  attribution: Attribution;
  comment_count: number;
  created_at: string;
}

export interface Comment {
  id: string;
  request_id: string;
  author_id: string;
  text: string;
  created_at: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: { field: string; message: string }[];
}

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

async function call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  // A cookie-authenticated unsafe request must prove it is not a cross-site form post.
  if (method !== 'GET') headers['x-crm-csrf'] = '1';
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', signal });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError({ type: 'about:blank', title: 'network error', status: 0 });
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const problem = isProblem(json) ? json : { type: 'about:blank', title: res.statusText || 'error', status: res.status };
    if (res.status === 401 && path !== '/v1/session') onUnauthorized?.();
    throw new ApiError(problem);
  }
  return json as T;
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

export function listQuery(f: RequestFilters, limit: number, cursor?: string | null): string {
  const p = new URLSearchParams();
  for (const s of f.states) p.append('state', s);
  for (const c of f.channels) p.append('channel', c);
  if (f.createdFrom) p.set('created_from', f.createdFrom);
  if (f.createdTo) p.set('created_to', f.createdTo);
  if (f.q) p.set('q', f.q);
  p.set('limit', String(limit));
  if (cursor) p.set('cursor', cursor);
  return p.toString();
}

export const api = {
  me: () => call<Me>('GET', '/v1/me'),
  login: (tenant: string, email: string, password: string) => call<Me>('POST', '/v1/session', { tenant, email, password }),
  logout: () => call<void>('DELETE', '/v1/session'),
  listRequests: (f: RequestFilters, limit: number, cursor?: string | null, signal?: AbortSignal) =>
    call<Page<CrmRequest>>('GET', `/v1/requests?${listQuery(f, limit, cursor)}`, undefined, signal),
  getRequest: (id: string, signal?: AbortSignal) => call<CrmRequest>('GET', `/v1/requests/${encodeURIComponent(id)}`, undefined, signal),
  listComments: (id: string, signal?: AbortSignal) => call<{ items: Comment[] }>('GET', `/v1/requests/${encodeURIComponent(id)}/comments`, undefined, signal),
  addComment: (id: string, text: string) => call<Comment>('POST', `/v1/requests/${encodeURIComponent(id)}/comments`, { text }),
};
