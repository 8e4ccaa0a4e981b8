/**
 * Routing rule sets as intake stores them (`routing_versions.rules`, JSONB) and the structural checks a
 * saved draft passes: bounded sizes, rule ids, names, known enum values, UUIDs. Every problem is a field
 * violation naming its path (`rules[3].when.channels[0]`), all reported at once; nothing is written when
 * there is one. Semantic problems (unknown departments, shadowed rules, overflow cycles) are validate.ts'.
 */
import { Channel } from '@crm/contracts/crm/intake/v1/request';
import { AssignmentStrategy, type RoutingRule } from '@crm/contracts/crm/intake/v1/routing';
import type { FieldViolation } from '@crm/errors';
import { throwIfInvalid } from '../domain/validation';
import { channelName } from '../mappers';
import { CHANNELS, type ChannelName } from '../domain/types';

export const ROUTING_LIMITS = { rules: 500, name: 100, comment: 500, listItems: 100, utmSource: 200 } as const;

export type StrategyName = 'queue' | 'round_robin' | 'least_loaded';
export const DIALED_KINDS = ['advertising', 'support', 'sales', 'none'] as const;
export const CLIENT_STATES = ['none', 'not_client', 'potential', 'active', 'former'] as const;
export type OwnerCondition = 'any' | 'has_owner' | 'no_owner';
export type HoursCondition = 'any' | 'open' | 'closed';

/** A rule's conditions; an empty list / `any` matches everything. */
export interface Conditions {
  channels: ChannelName[];
  dialedNumberKinds: string[];
  projectIds: string[];
  /** Lower-cased; `none` matches requests without a utm_source. */
  utmSources: string[];
  clientStates: string[];
  owner: OwnerCondition;
  workingHours: HoursCondition;
}

export interface Rule {
  id: string;
  name: string;
  when: Conditions;
  departmentId: string;
  strategy: StrategyName;
  ownerFirst: boolean;
  overflowDepartmentId: string | null;
  disabled: boolean;
}

export interface RuleSet {
  rules: Rule[];
  fallbackDepartmentId: string | null;
  fallbackStrategy: StrategyName;
}

export const RULE_ID_RE = /^[a-z0-9_-]{1,40}$/;
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const STRATEGY_NAME = new Map<AssignmentStrategy, StrategyName>([
  [AssignmentStrategy.ASSIGNMENT_STRATEGY_UNSPECIFIED, 'queue'],
  [AssignmentStrategy.ASSIGNMENT_STRATEGY_QUEUE, 'queue'],
  [AssignmentStrategy.ASSIGNMENT_STRATEGY_ROUND_ROBIN, 'round_robin'],
  [AssignmentStrategy.ASSIGNMENT_STRATEGY_LEAST_LOADED, 'least_loaded'],
]);
const STRATEGY_PROTO: Record<StrategyName, AssignmentStrategy> = {
  queue: AssignmentStrategy.ASSIGNMENT_STRATEGY_QUEUE,
  round_robin: AssignmentStrategy.ASSIGNMENT_STRATEGY_ROUND_ROBIN,
  least_loaded: AssignmentStrategy.ASSIGNMENT_STRATEGY_LEAST_LOADED,
};

const CHANNEL_PROTO: Record<ChannelName, Channel> = {
  phone: Channel.CHANNEL_PHONE,
  chat: Channel.CHANNEL_CHAT,
  email: Channel.CHANNEL_EMAIL,
  signup: Channel.CHANNEL_SIGNUP,
  web_form: Channel.CHANNEL_WEB_FORM,
};

export const strategyToProto = (s: StrategyName): AssignmentStrategy => STRATEGY_PROTO[s];

/** The strategy of a proto value (UNSPECIFIED is the queue); null for a value this build does not know. */
export function strategyName(s: AssignmentStrategy): StrategyName | null {
  return STRATEGY_NAME.get(s) ?? null;
}

function charLength(s: string): number {
  return [...s].length;
}

function uuid(value: string): string | null {
  const v = value.trim().toLowerCase();
  return UUID_RE.test(v) ? v : null;
}

/** A list condition: bounded, each value checked (and normalised) by `item`; duplicates dropped. */
function list<T>(values: readonly T[], path: string, v: FieldViolation[], item: (x: T, at: string) => string | null): string[] {
  if (values.length > ROUTING_LIMITS.listItems) {
    v.push({ field: path, message: `must have at most ${ROUTING_LIMITS.listItems} values` });
    return [];
  }
  const out = new Set<string>();
  values.forEach((x, i) => {
    const r = item(x, `${path}[${i}]`);
    if (r !== null) out.add(r);
  });
  return [...out];
}

function oneOf(allowed: readonly string[], v: FieldViolation[], what: string) {
  return (x: string, at: string): string | null => {
    const s = x.trim().toLowerCase();
    if (allowed.includes(s)) return s;
    v.push({ field: at, message: `is not a known ${what} (${allowed.join(', ')})` });
    return null;
  };
}

/** Checks and normalises a rule set sent by a caller; throws INVALID_ARGUMENT listing every problem. */
export function parseRuleSet(
  input: { rules: readonly RoutingRule[]; fallbackDepartmentId: string; fallbackStrategy: AssignmentStrategy; comment?: string },
  what = 'SaveDraft',
): RuleSet & { comment: string | null } {
  const v: FieldViolation[] = [];
  if (input.rules.length > ROUTING_LIMITS.rules) {
    v.push({ field: 'rules', message: `must have at most ${ROUTING_LIMITS.rules} rules (got ${input.rules.length})` });
    throwIfInvalid(what, v);
  }
  const seen = new Map<string, number>();
  const rules = input.rules.map((r, i) => parseRule(r, `rules[${i}]`, v, seen, i));
  let fallbackDepartmentId: string | null = null;
  if (input.fallbackDepartmentId.trim() !== '') {
    fallbackDepartmentId = uuid(input.fallbackDepartmentId);
    if (fallbackDepartmentId === null) v.push({ field: 'fallback_department_id', message: 'must be a UUID' });
  }
  const fallbackStrategy = strategyName(input.fallbackStrategy);
  if (fallbackStrategy === null) v.push({ field: 'fallback_strategy', message: 'is not a known assignment strategy' });
  const comment = (input.comment ?? '').trim() || null;
  if (comment !== null && charLength(comment) > ROUTING_LIMITS.comment) v.push({ field: 'comment', message: `must be at most ${ROUTING_LIMITS.comment} characters` });
  throwIfInvalid(what, v);
  return { rules, fallbackDepartmentId, fallbackStrategy: fallbackStrategy!, comment };
}

function parseRule(r: RoutingRule, at: string, v: FieldViolation[], seen: Map<string, number>, index: number): Rule {
  const id = r.id.trim();
  if (!RULE_ID_RE.test(id)) v.push({ field: `${at}.id`, message: 'must match [a-z0-9_-]{1,40}' });
  else if (seen.has(id)) v.push({ field: `${at}.id`, message: `duplicates rules[${seen.get(id)}].id "${id}"` });
  else seen.set(id, index);
  const name = r.name.trim();
  if (name === '' || charLength(name) > ROUTING_LIMITS.name) v.push({ field: `${at}.name`, message: `must be 1..${ROUTING_LIMITS.name} characters` });
  const departmentId = uuid(r.departmentId);
  if (departmentId === null) v.push({ field: `${at}.department_id`, message: r.departmentId.trim() === '' ? 'is required' : 'must be a UUID' });
  let overflowDepartmentId: string | null = null;
  if (r.overflowDepartmentId.trim() !== '') {
    overflowDepartmentId = uuid(r.overflowDepartmentId);
    if (overflowDepartmentId === null) v.push({ field: `${at}.overflow_department_id`, message: 'must be a UUID' });
  }
  const strategy = strategyName(r.strategy);
  if (strategy === null) v.push({ field: `${at}.strategy`, message: 'is not a known assignment strategy' });

  const w = r.when;
  const wa = `${at}.when`;
  const channels = list(w?.channels ?? [], `${wa}.channels`, v, (c, p) => {
    const n = channelName(c);
    if (n === '') v.push({ field: p, message: `is not a known channel (${CHANNELS.join(', ')})` });
    return n === '' ? null : n;
  }) as ChannelName[];
  const dialedNumberKinds = list(w?.dialedNumberKinds ?? [], `${wa}.dialed_number_kinds`, v, oneOf(DIALED_KINDS, v, 'dialed number kind'));
  const projectIds = list(w?.projectIds ?? [], `${wa}.project_ids`, v, (x, p) => {
    const id = uuid(x);
    if (id === null) v.push({ field: p, message: 'must be a UUID' });
    return id;
  });
  const utmSources = list(w?.utmSources ?? [], `${wa}.utm_sources`, v, (x, p) => {
    const s = x.trim().toLowerCase();
    if (s === '' || charLength(s) > ROUTING_LIMITS.utmSource) {
      v.push({ field: p, message: `must be 1..${ROUTING_LIMITS.utmSource} characters` });
      return null;
    }
    return s;
  });
  const clientStates = list(w?.clientStates ?? [], `${wa}.client_states`, v, oneOf(CLIENT_STATES, v, 'client state'));
  const owner = (w?.owner ?? '').trim().toLowerCase() || 'any';
  if (!['any', 'has_owner', 'no_owner'].includes(owner)) v.push({ field: `${wa}.owner`, message: 'must be any, has_owner or no_owner' });
  const workingHours = (w?.workingHours ?? '').trim().toLowerCase() || 'any';
  if (!['any', 'open', 'closed'].includes(workingHours)) v.push({ field: `${wa}.working_hours`, message: 'must be any, open or closed' });

  return {
    id,
    name,
    when: { channels, dialedNumberKinds, projectIds, utmSources, clientStates, owner: owner as OwnerCondition, workingHours: workingHours as HoursCondition },
    departmentId: departmentId ?? '',
    strategy: strategy ?? 'queue',
    ownerFirst: r.ownerFirst,
    overflowDepartmentId,
    disabled: r.disabled,
  };
}

/** A stored rule back to its proto form. */
export function ruleToProto(r: Rule): RoutingRule {
  return {
    id: r.id,
    name: r.name,
    when: {
      channels: r.when.channels.map((c) => CHANNEL_PROTO[c]),
      dialedNumberKinds: r.when.dialedNumberKinds,
      projectIds: r.when.projectIds,
      utmSources: r.when.utmSources,
      clientStates: r.when.clientStates,
      owner: r.when.owner,
      workingHours: r.when.workingHours,
    },
    departmentId: r.departmentId,
    strategy: strategyToProto(r.strategy),
    ownerFirst: r.ownerFirst,
    overflowDepartmentId: r.overflowDepartmentId ?? '',
    disabled: r.disabled,
  };
}
