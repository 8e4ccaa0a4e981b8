/**
 * Working the request as the pages use the gateway's REST API (paths fixed in the contract):
 * transitions, assignment, "answered", axes, department, history, bulk actions, counters, "my work",
 * saved views, tasks, routing versions and the simulator, and the team directory (users, departments,
 * projects) the pickers need. These calls go through `apiFetch` (the same session, CSRF and problem
 * rules as the generated client) with the types below, written from the proto contract; once the
 * gateway's document describes them the generated client can take over call by call.
 *
 * Every change sends `If-Match: "<version>"` with the version the page shows; the gateway answers 412
 * with the request as it is now (`current`) when someone else changed it meanwhile, and 409 with the
 * state and the allowed moves for an illegal transition.
 */
import { apiFetch, ApiError, type CrmRequest } from '../../api';
import type { components } from '../../gen/api';

/** The request with the working fields (version, department, assignee, SLA, revisit, trash, …). */
export type WorkRequest = CrmRequest;

export type State = WorkRequest['state'];
export const TRASH_REASONS = ['spam', 'wrong_number', 'not_targeted', 'duplicate', 'other'] as const;
export type TrashReason = (typeof TRASH_REASONS)[number];
export const MEANINGS = ['unknown', 'targeted', 'non_targeted'] as const;
export const QUALIFICATIONS = ['pending', 'lead', 'not_lead'] as const;
export const CONTACT_AXES = ['none', 'unverified', 'verified'] as const;
export const NUMBER_AXES = ['primary', 'repeat'] as const;

type S = components['schemas'];

export type HistoryEntry = S['HistoryEntry'];
export type BulkAnswer = Omit<S['BulkResult'], 'results'> & { results: BulkResult[] };
export type BulkResult = Omit<S['BulkResult']['results'][number], 'request'> & { request: WorkRequest | null };
export type Counts = S['RequestCounts'];
export type MyWork = S['MyWork'];
export type SavedView = S['SavedView'];
export type Task = S['Task'];
export type TeamUser = S['TeamUser'];
export type Department = S['TeamDepartment'];
export type Project = S['Project'];

export const STRATEGIES = ['queue', 'round_robin', 'least_loaded'] as const;
export type Strategy = (typeof STRATEGIES)[number];
export type RouteConditions = S['RouteConditions'];
/** A rule as the editor holds it: every field present (the API may leave some out). */
export type RoutingRule = Required<Omit<S['RoutingRule'], 'overflow_department_id'>> & { overflow_department_id: string | null };
export type RoutingVersion = S['RoutingVersion'];
export type RoutingProblem = S['RoutingProblem'];
export type RouteInput = S['RouteSample'];
export type RouteDecision = S['RouteDecision'];
type RoutingDraftBody = S['RoutingDraft'];
type SimulationBody = S['RouteSimulation'];

/** The extra members of a workflow problem: 409 `state`/`allowed`, 412 `current`. */
export interface WorkProblem {
  state?: string;
  allowed?: string[];
  current?: WorkRequest;
  problems?: RoutingProblem[];
}

export function workProblem(err: unknown): WorkProblem {
  return err instanceof ApiError ? (err.problem as unknown as WorkProblem) : {};
}

export const isStale = (err: unknown) => err instanceof ApiError && err.status === 412;
export const isIllegal = (err: unknown) => err instanceof ApiError && err.status === 409;

/** A list answer as the gateway pages it (`items`), or under the collection's own name. */
function listOf<T>(data: unknown, ...names: string[]): T[] {
  if (Array.isArray(data)) return data as T[];
  const o = (data ?? {}) as Record<string, unknown>;
  for (const n of ['items', ...names]) if (Array.isArray(o[n])) return o[n] as T[];
  return [];
}

/** The request itself, or `{request}` around it. */
function requestOf(data: unknown): WorkRequest {
  const o = data as { request?: WorkRequest } & WorkRequest;
  return o && typeof o === 'object' && 'request' in o && o.request ? o.request : o;
}

const ifMatch = (version: number) => ({ 'if-match': `"${version}"` });
const enc = encodeURIComponent;

export interface TransitionBody {
  to: State;
  reason?: string;
  trash_reason?: TrashReason;
  trash_note?: string;
  revisit_at?: string;
  assignee_id?: string;
  deal_id?: string;
  client_card_id?: string;
}

export interface Paged<T> {
  items: T[];
  next_cursor: string | null;
}

export const workApi = {
  listRequests: async (query: URLSearchParams, signal?: AbortSignal): Promise<Paged<WorkRequest>> => {
    const data = await apiFetch<{ items: WorkRequest[]; next_cursor?: string | null }>('GET', `/v1/requests?${query}`, { signal });
    return { items: data.items ?? [], next_cursor: data.next_cursor ?? null };
  },
  getRequest: async (id: string, signal?: AbortSignal): Promise<WorkRequest> => requestOf(await apiFetch('GET', `/v1/requests/${enc(id)}`, { signal })),
  counts: (query: URLSearchParams, signal?: AbortSignal): Promise<Counts> => apiFetch<Counts>('GET', `/v1/requests/counts?${query}`, { signal }),
  transition: async (id: string, version: number, body: TransitionBody): Promise<WorkRequest> =>
    requestOf(await apiFetch('POST', `/v1/requests/${enc(id)}/transitions`, { json: body, headers: ifMatch(version) })),
  assign: async (id: string, version: number, body: { assignee_id: string } | { take: true }): Promise<WorkRequest> =>
    requestOf(await apiFetch('POST', `/v1/requests/${enc(id)}/assignment`, { json: body, headers: ifMatch(version) })),
  answered: async (id: string, version: number): Promise<WorkRequest> => requestOf(await apiFetch('POST', `/v1/requests/${enc(id)}/answered`, { json: {}, headers: ifMatch(version) })),
  setAxes: async (id: string, version: number, body: { meaning?: string; qualification?: string; reason?: string }): Promise<WorkRequest> =>
    requestOf(await apiFetch('PATCH', `/v1/requests/${enc(id)}/axes`, { json: body, headers: ifMatch(version) })),
  moveToDepartment: async (id: string, version: number, body: { department_id: string; reason?: string }): Promise<WorkRequest> =>
    requestOf(await apiFetch('POST', `/v1/requests/${enc(id)}/department`, { json: body, headers: ifMatch(version) })),
  history: async (id: string, signal?: AbortSignal): Promise<HistoryEntry[]> => listOf<HistoryEntry>(await apiFetch('GET', `/v1/requests/${enc(id)}/history`, { signal }), 'entries'),
  bulkAssign: (ids: string[], assigneeId: string): Promise<BulkAnswer> => apiFetch('POST', '/v1/requests/bulk/assignment', { json: { ids, assignee_id: assigneeId } }),
  bulkTransition: (ids: string[], body: TransitionBody): Promise<BulkAnswer> => apiFetch('POST', '/v1/requests/bulk/transitions', { json: { ids, ...body } }),
  myWork: (signal?: AbortSignal): Promise<MyWork> => apiFetch('GET', '/v1/me/work', { signal }),
  listViews: async (signal?: AbortSignal): Promise<SavedView[]> => listOf<SavedView>(await apiFetch('GET', '/v1/me/views', { signal }), 'views'),
  saveView: async (name: string, query: string, id?: string): Promise<SavedView> => {
    const data = await apiFetch<SavedView | { view: SavedView }>(id ? 'PUT' : 'POST', id ? `/v1/me/views/${enc(id)}` : '/v1/me/views', { json: { name, query } });
    return 'view' in data ? data.view : data;
  },
  deleteView: (id: string): Promise<unknown> => apiFetch('DELETE', `/v1/me/views/${enc(id)}`),

  /** `assignee`: `me` (default), `any` (everyone's the caller may see) or a user id. */
  listTasks: async (
    q: { status?: 'open' | 'done' | 'all'; overdue?: boolean; request_id?: string; assignee?: string; cursor?: string | null; limit?: number },
    signal?: AbortSignal,
  ): Promise<Paged<Task>> => {
    const data = await apiFetch<{ items?: Task[]; tasks?: Task[]; next_cursor?: string | null }>('GET', '/v1/tasks', {
      query: { status: q.status, overdue: q.overdue || undefined, request_id: q.request_id, assignee: q.assignee, cursor: q.cursor ?? undefined, limit: q.limit },
      signal,
    });
    return { items: listOf<Task>(data, 'tasks'), next_cursor: data.next_cursor || null };
  },
  createTask: async (body: S['CreateTask'], idempotencyKey: string): Promise<Task> =>
    taskOf(await apiFetch('POST', '/v1/tasks', { json: body, headers: { 'idempotency-key': idempotencyKey } })),
  updateTask: async (id: string, body: { title?: string; due_at?: string; note?: string }, version?: number): Promise<Task> =>
    taskOf(await apiFetch('PATCH', `/v1/tasks/${enc(id)}`, { json: body, headers: version ? ifMatch(version) : undefined })),
  completeTask: async (id: string, done: boolean): Promise<Task> => taskOf(await apiFetch('POST', `/v1/tasks/${enc(id)}/completion`, { json: { done } })),
  deleteTask: (id: string): Promise<unknown> => apiFetch('DELETE', `/v1/tasks/${enc(id)}`),

  listUsers: async (signal?: AbortSignal): Promise<TeamUser[]> => listOf<TeamUser>(await apiFetch('GET', '/v1/team/users', { query: { limit: 200 }, signal }), 'users'),
  listDepartments: async (signal?: AbortSignal): Promise<Department[]> => listOf<Department>(await apiFetch('GET', '/v1/team/departments', { signal }), 'departments'),
  listProjects: async (signal?: AbortSignal): Promise<Project[]> => listOf<Project>(await apiFetch('GET', '/v1/team/projects', { signal }), 'projects'),

  listVersions: async (signal?: AbortSignal): Promise<RoutingVersion[]> => listOf<RoutingVersion>(await apiFetch('GET', '/v1/routing/versions', { signal }), 'versions'),
  getVersion: async (version: number | 'published', signal?: AbortSignal): Promise<RoutingVersion> => versionOf(await apiFetch('GET', `/v1/routing/versions/${version}`, { signal })),
  saveDraft: (body: RoutingDraftBody): Promise<{ version: RoutingVersion; problems?: RoutingProblem[] }> =>
    apiFetch<{ version: RoutingVersion; problems?: RoutingProblem[] } & RoutingVersion>('POST', '/v1/routing/drafts', { json: body }).then((d) =>
      d.version && typeof d.version === 'object' ? { version: d.version, problems: d.problems } : { version: d, problems: d.problems },
    ),
  problems: async (version: number, signal?: AbortSignal): Promise<RoutingProblem[]> => listOf<RoutingProblem>(await apiFetch('GET', `/v1/routing/versions/${version}/problems`, { signal }), 'problems'),
  publish: async (version: number, expectedPublished: number): Promise<RoutingVersion> =>
    versionOf(await apiFetch('POST', `/v1/routing/versions/${version}/publish`, { json: { expected_published_version: expectedPublished } })),
  simulate: async (
    body: SimulationBody,
    signal?: AbortSignal,
  ): Promise<RouteDecision> => {
    const d = await apiFetch<{ decision?: RouteDecision } & RouteDecision>('POST', '/v1/routing/simulate', { json: body, signal });
    return d.decision ?? d;
  },
};

function taskOf(data: unknown): Task {
  const o = data as { task?: Task } & Task;
  return o.task ?? o;
}

function versionOf(data: unknown): RoutingVersion {
  const o = data as { version?: RoutingVersion | number } & RoutingVersion;
  return o.version && typeof o.version === 'object' ? o.version : o;
}

/**
 * The lifecycle as the request page and the journal offer it (services/intake/src/workflow/machine.ts
 * decides; this only hides moves that cannot be allowed, and the server's refusal is shown as it says).
 */
export const MOVES: Record<string, readonly State[]> = {
  new: ['assigned', 'in_progress', 'deferred', 'trash', 'closed'],
  assigned: ['in_progress', 'new', 'deferred', 'trash', 'closed'],
  in_progress: ['deferred', 'trash', 'closed'],
  deferred: ['new'],
  trash: ['new'],
  closed: [],
  converted: [],
  attached: [],
};

export const OPEN_STATES: readonly State[] = ['new', 'assigned', 'in_progress'];

export function canMove(from: string, to: State): boolean {
  return (MOVES[from] ?? []).includes(to);
}

/** A user's name for the screen (the directory may not have loaded, or may not know a removed one). */
export function userName(users: TeamUser[], id: string | null | undefined): string {
  if (!id) return '';
  const u = users.find((x) => x.id === id);
  return u ? u.display_name || u.email : `…${id.slice(-6)}`;
}

export function departmentName(departments: Department[], id: string | null | undefined): string {
  if (!id) return '';
  return departments.find((d) => d.id === id)?.name ?? `…${id.slice(-6)}`;
}
