/**
 * Between the REST words of working the request (routes/work.ts, routing.ts, tasks.ts, the realtime
 * feed) and intake's protobuf messages: enums as DOMAIN.md words, snake_case, null where empty; the
 * journal's filter; `If-Match` versions; and the members a workflow error adds to its problem.
 */
import { ListRequestsRequest } from '@crm/contracts/crm/intake/v1/intake';
import {
  assignmentStrategyFromJSON,
  assignmentStrategyToJSON,
  type AssignmentStrategy,
  type RouteDecision,
  type RouteInput,
  type RoutingProblem,
  type RoutingRule,
  type RoutingVersion,
} from '@crm/contracts/crm/intake/v1/routing';
import {
  contactAxisFromJSON,
  meaningAxisFromJSON,
  numberAxisFromJSON,
  qualificationAxisFromJSON,
  Request,
  type ContactAxis,
  type MeaningAxis,
  type NumberAxis,
  type QualificationAxis,
} from '@crm/contracts/crm/intake/v1/request';
import { Task } from '@crm/contracts/crm/intake/v1/tasks';
import {
  trashReasonFromJSON,
  type BulkItemResult,
  type CountRequestsResponse,
  type GetMyWorkResponse,
  type HistoryEntry,
  type SavedView,
  type TrashReason,
} from '@crm/contracts/crm/intake/v1/workflow';
import { DomainError, type DomainErrorCode } from '@crm/errors';
import { funnelCurrentOut, funnelProblemMembers } from './funnel-mappers';
import { channelIn, requestOut, stateIn, STATES } from './mappers';

/** `MEANING_AXIS_NON_TARGETED` → `non_targeted`. */
const word = (prefix: string, name: string) => (name.startsWith(prefix) ? name.slice(prefix.length).toLowerCase() : name.toLowerCase());
const enumIn = <T>(prefix: string, from: (s: string) => T) => (s: string): T => from(`${prefix}${s.toUpperCase()}`);

export const MEANINGS = ['unknown', 'targeted', 'non_targeted'] as const;
export const QUALIFICATIONS = ['pending', 'lead', 'not_lead'] as const;
export const CONTACT_AXES = ['none', 'unverified', 'verified'] as const;
export const NUMBER_AXES = ['primary', 'repeat'] as const;
export const TRASH_REASONS = ['spam', 'wrong_number', 'not_targeted', 'duplicate', 'other'] as const;
export const STRATEGIES = ['queue', 'round_robin', 'least_loaded'] as const;
export const DIALED_NUMBER_KINDS = ['advertising', 'support', 'sales', 'none'] as const;
export const CLIENT_STATES = ['none', 'not_client', 'potential', 'active', 'former'] as const;

export const meaningIn: (s: string) => MeaningAxis = enumIn('MEANING_AXIS_', meaningAxisFromJSON);
export const qualificationIn: (s: string) => QualificationAxis = enumIn('QUALIFICATION_AXIS_', qualificationAxisFromJSON);
export const contactAxisIn: (s: string) => ContactAxis = enumIn('CONTACT_AXIS_', contactAxisFromJSON);
export const numberAxisIn: (s: string) => NumberAxis = enumIn('NUMBER_AXIS_', numberAxisFromJSON);
export const trashReasonIn: (s: string) => TrashReason = enumIn('TRASH_REASON_', trashReasonFromJSON);
export const strategyIn: (s: string) => AssignmentStrategy = enumIn('ASSIGNMENT_STRATEGY_', assignmentStrategyFromJSON);
export const strategyOut = (s: AssignmentStrategy) => word('ASSIGNMENT_STRATEGY_', assignmentStrategyToJSON(s));

const orNull = (s: string | undefined) => (s ? s : null);

// ---- versions ---------------------------------------------------------------------------------------

const IF_MATCH_RE = /^"([1-9][0-9]{0,9})"$/;

/**
 * The version a change is made against: `If-Match: "<n>"` (wins) or the body's `expected_version`;
 * 0 (no check) when neither is given. A malformed header is a 400.
 */
export function expectedVersion(header: string | string[] | undefined, body?: number): number {
  if (header === undefined) return body ?? 0;
  const m = typeof header === 'string' ? IF_MATCH_RE.exec(header.trim()) : null;
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isSafeInteger(n) || n > 2147483647) {
    throw new DomainError('INVALID_ARGUMENT', 'If-Match must be one quoted version, e.g. "3"', { violations: [{ field: 'If-Match', message: 'must be a quoted version, e.g. "3"' }] });
  }
  return n;
}

export const etag = (version: number) => `"${version}"`;

// ---- problems -----------------------------------------------------------------------------------------

function parseMaybe(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** `REQUEST_STATE_IN_PROGRESS` or `in_progress` → `in_progress` (undefined when it is no state). */
function stateWord(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const w = word('REQUEST_STATE_', v);
  return (STATES as readonly string[]).includes(w) ? w : undefined;
}

/** The REST JSON of a `current` detail: a request or a task (intake sends protobuf JSON, as an object or a string). */
function currentOut(v: unknown): unknown {
  const obj = parseMaybe(v);
  if (typeof obj !== 'object' || obj === null) return undefined;
  try {
    const funnel = funnelCurrentOut(obj);
    if (funnel) return funnel;
    if ('dueAt' in obj || 'due_at' in obj) return taskOut(Task.fromJSON(obj));
    return requestOut(Request.fromJSON(obj));
  } catch {
    return undefined;
  }
}

/**
 * What a workflow error adds to its problem: an illegal transition (FAILED_PRECONDITION with `state` /
 * `allowed`) stays a 409 with those members; a stale version (CONFLICT, i.e. gRPC ABORTED, with
 * `current`) is a 412 with the request as it is now; a routing publish refused for its problems is a 409
 * listing them.
 */
export function workflowProblem(code: DomainErrorCode, details: Record<string, unknown>): { status?: number; members: Record<string, unknown> } {
  const members: Record<string, unknown> = {};
  let status: number | undefined;
  if (code === 'CONFLICT' && details.current !== undefined) {
    const current = currentOut(details.current);
    if (current) {
      members.current = current;
      status = 412;
    }
  }
  // A funnel move or guard (`stage` in the details: stage keys, not request states) or a rejected pipeline definition.
  const funnel = funnelProblemMembers(details);
  if (funnel.violations && code === 'INVALID_ARGUMENT') members.violations = funnel.violations;
  if (funnel.stage && (code === 'FAILED_PRECONDITION' || code === 'CONFLICT')) {
    for (const k of ['stage', 'allowed', 'guard', 'missing']) if (funnel[k] !== undefined) members[k] = funnel[k];
  } else if (code === 'FAILED_PRECONDITION' || code === 'CONFLICT') {
    const state = stateWord(details.state);
    if (state) members.state = state;
    const allowedRaw = parseMaybe(details.allowed);
    const allowed = Array.isArray(allowedRaw) ? allowedRaw : typeof allowedRaw === 'string' ? allowedRaw.split(',').filter(Boolean) : undefined;
    if (allowed) members.allowed = allowed.map(stateWord).filter((s): s is string => s !== undefined);
    const problems = parseMaybe(details.problems);
    if (Array.isArray(problems)) members.problems = problems.map((p) => routingProblemOut(p as RoutingProblem));
  }
  return { status, members };
}

// ---- the journal's filter -------------------------------------------------------------------------------

export interface RequestFilterQuery {
  state?: string[];
  channel?: string[];
  created_from?: string;
  created_to?: string;
  q?: string;
  department?: string[];
  assignee?: string[];
  project?: string[];
  meaning?: string[];
  qualification?: string[];
  contact_axis?: string[];
  number_axis?: string[];
  utm_source?: string;
  sla_breached?: boolean;
  missed?: boolean;
  order?: string;
}

/** The journal's filter as intake takes it; `assignee=me` is the caller. Dates are already UTC. */
export function requestFilterIn(q: RequestFilterQuery, callerId: string, dates: { from: string; to: string }): ListRequestsRequest {
  return ListRequestsRequest.fromPartial({
    states: (q.state ?? []).map(stateIn),
    channels: (q.channel ?? []).map(channelIn),
    createdFrom: dates.from,
    createdTo: dates.to,
    query: q.q ?? '',
    departmentIds: q.department ?? [],
    assigneeIds: [...new Set((q.assignee ?? []).map((a) => (a === 'me' ? callerId : a)))],
    projectIds: q.project ?? [],
    meanings: (q.meaning ?? []).map(meaningIn),
    qualifications: (q.qualification ?? []).map(qualificationIn),
    contactAxes: (q.contact_axis ?? []).map(contactAxisIn),
    numberAxes: (q.number_axis ?? []).map(numberAxisIn),
    utmSource: q.utm_source ?? '',
    slaBreached: q.sla_breached,
    missed: q.missed,
    order: q.order ?? '',
  });
}

// ---- workflow ---------------------------------------------------------------------------------------------

export function historyEntryOut(e: HistoryEntry) {
  let details: unknown = {};
  try {
    details = e.detailsJson ? JSON.parse(e.detailsJson) : {};
  } catch {
    details = {};
  }
  return {
    id: e.id,
    request_id: e.requestId,
    at: e.at,
    actor_kind: e.actorKind,
    actor_id: orNull(e.actorId),
    field: e.field,
    from: orNull(e.from),
    to: orNull(e.to),
    reason: orNull(e.reason),
    details: typeof details === 'object' && details !== null && !Array.isArray(details) ? details : {},
  };
}

export function bulkOut(res: { results: BulkItemResult[]; succeeded: number; failed: number }) {
  return {
    succeeded: res.succeeded,
    failed: res.failed,
    results: res.results.map((r) => ({
      id: r.id,
      ok: r.ok,
      code: orNull(r.code),
      message: orNull(r.message),
      request: r.request ? requestOut(r.request) : null,
    })),
  };
}

export function countsOut(res: CountRequestsResponse) {
  const by: Record<string, number> = Object.fromEntries(STATES.map((s) => [s, 0]));
  for (const c of res.counts) {
    const s = stateWordOf(c.state);
    if (s) by[s] = c.count;
  }
  return { total: res.total, by_state: by, sla_breached_open: res.slaBreachedOpen };
}

/** RequestState number → word. */
function stateWordOf(n: number): string | undefined {
  return STATES.find((s) => stateIn(s) === n);
}

export function myWorkOut(w: GetMyWorkResponse) {
  return {
    assigned_open: w.assignedOpen,
    breached: w.breached,
    overdue_tasks: w.overdueTasks,
    tasks_due_today: w.tasksDueToday,
    revisits_today: w.revisitsToday,
    queue_new: w.queueNew,
  };
}

export function viewOut(v: SavedView) {
  return { id: v.id, name: v.name, query: v.query, created_at: v.createdAt };
}

// ---- routing ----------------------------------------------------------------------------------------------

export interface RuleBody {
  id: string;
  name: string;
  when?: {
    channels?: string[];
    dialed_number_kinds?: string[];
    project_ids?: string[];
    utm_sources?: string[];
    client_states?: string[];
    owner?: string;
    working_hours?: string;
  };
  department_id: string;
  strategy?: string;
  owner_first?: boolean;
  overflow_department_id?: string | null;
  disabled?: boolean;
}

export function ruleIn(r: RuleBody): RoutingRule {
  const w = r.when ?? {};
  return {
    id: r.id,
    name: r.name,
    when: {
      channels: (w.channels ?? []).map(channelIn),
      dialedNumberKinds: w.dialed_number_kinds ?? [],
      projectIds: w.project_ids ?? [],
      utmSources: w.utm_sources ?? [],
      clientStates: w.client_states ?? [],
      owner: w.owner ?? '',
      workingHours: w.working_hours ?? '',
    },
    departmentId: r.department_id,
    strategy: strategyIn(r.strategy ?? 'queue'),
    ownerFirst: r.owner_first ?? false,
    overflowDepartmentId: r.overflow_department_id ?? '',
    disabled: r.disabled ?? false,
  };
}

const channelWord = (n: number) => ['unspecified', 'phone', 'chat', 'email', 'signup', 'web_form'][n] ?? 'unspecified';

export function ruleOut(r: RoutingRule) {
  const w = r.when;
  return {
    id: r.id,
    name: r.name,
    when: {
      channels: (w?.channels ?? []).map(channelWord),
      dialed_number_kinds: w?.dialedNumberKinds ?? [],
      project_ids: w?.projectIds ?? [],
      utm_sources: w?.utmSources ?? [],
      client_states: w?.clientStates ?? [],
      owner: w?.owner || 'any',
      working_hours: w?.workingHours || 'any',
    },
    department_id: r.departmentId,
    strategy: strategyOut(r.strategy),
    owner_first: r.ownerFirst,
    overflow_department_id: orNull(r.overflowDepartmentId),
    disabled: r.disabled,
  };
}

export function routingVersionOut(v: RoutingVersion, withRules = true) {
  return {
    version: v.version,
    status: v.status,
    ...(withRules ? { rules: v.rules.map(ruleOut) } : {}),
    rule_count: v.ruleCount || v.rules.length,
    fallback_department_id: orNull(v.fallbackDepartmentId),
    fallback_strategy: strategyOut(v.fallbackStrategy),
    comment: orNull(v.comment),
    created_at: v.createdAt,
    created_by: v.createdBy,
    published_at: orNull(v.publishedAt),
    published_by: orNull(v.publishedBy),
  };
}

export function routingProblemOut(p: RoutingProblem | Record<string, unknown>) {
  const o = p as Record<string, unknown>;
  const s = (k1: string, k2: string) => (typeof o[k1] === 'string' ? (o[k1] as string) : typeof o[k2] === 'string' ? (o[k2] as string) : '');
  const n = (k1: string, k2: string) => (typeof o[k1] === 'number' ? (o[k1] as number) : typeof o[k2] === 'number' ? (o[k2] as number) : 0);
  const ruleId = s('ruleId', 'rule_id');
  const index = n('ruleIndex', 'rule_index');
  // intake numbers a problem of the whole set (no fallback, an unknown fallback department) -1.
  return { rule_id: ruleId || null, rule_index: ruleId && index >= 0 ? index : null, code: s('code', 'code'), message: s('message', 'message') };
}

export interface RouteInputBody {
  channel?: string;
  dialed_number_kind?: string;
  project_id?: string;
  utm_source?: string;
  client_state?: string;
  owner_id?: string;
  at?: string;
}

export function routeInputIn(i: RouteInputBody, at: string): RouteInput {
  return {
    channel: i.channel ? channelIn(i.channel) : 0,
    dialedNumberKind: i.dialed_number_kind ?? '',
    projectId: i.project_id ?? '',
    utmSource: i.utm_source ?? '',
    clientState: i.client_state ?? '',
    ownerId: i.owner_id ?? '',
    phone: '',
    email: '',
    at,
  };
}

export function decisionOut(d: RouteDecision) {
  return {
    version: d.version,
    rule_id: orNull(d.ruleId),
    department_id: orNull(d.departmentId),
    strategy: strategyOut(d.strategy),
    assignee_id: orNull(d.assigneeId),
    assigned_by: d.assignedBy || 'none',
    overflow_path: d.overflowPath,
    unassigned_reason: orNull(d.unassignedReason),
    trace: d.trace.map((t) => ({ rule_id: t.ruleId, matched: t.matched, failed_condition: orNull(t.failedCondition), disabled: t.disabled })),
  };
}

// ---- tasks ------------------------------------------------------------------------------------------------

export function taskOut(t: Task) {
  return {
    id: t.id,
    title: t.title,
    note: t.note,
    due_at: t.dueAt,
    remind_before_minutes: t.remindBeforeMinutes,
    assignee_id: t.assigneeId,
    request_id: orNull(t.requestId),
    contact_id: orNull(t.contactId),
    deal_id: orNull(t.dealId),
    status: t.status,
    done_at: orNull(t.doneAt),
    created_at: t.createdAt,
    created_by: t.createdBy,
    kind: t.kind || 'manual',
    overdue: t.overdue,
    version: t.version,
    reminded_at: orNull(t.remindedAt),
  };
}
