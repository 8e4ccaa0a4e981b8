/**
 * The routing evaluator: pure and allocation-light. A rule set is compiled once (cached per tenant and
 * version) into per-rule lists of checks over Sets; `decide` walks the enabled rules top to bottom and
 * the first whose every check holds decides the department and strategy (none: the fallback). The trace
 * says, rule by rule, which condition failed first. Working hours come from the rule's department
 * schedule in the roster (@crm/schedule isOpen); without a roster (identity unreachable) they count as open.
 */
import { isOpen } from '@crm/schedule';
import type { ChannelName } from '../domain/types';
import { scheduleOf, type Roster } from '../team';
import type { Rule, RuleSet, StrategyName } from './rules';

/** What routing looks at, normalised (a created request's fields, or a simulator's sample). */
export interface RouteFacts {
  channel: ChannelName | '';
  /** `advertising`, `support`, `sales`, or `none` without a dialed number. */
  dialedNumberKind: string;
  projectId: string | null;
  /** Lower-cased; null when the request has none. */
  utmSource: string | null;
  /** `none` (no card), `not_client`, `potential`, `active`, `former`. */
  clientState: string;
  ownerId: string | null;
  at: Date;
}

export interface TraceEntry {
  ruleId: string;
  matched: boolean;
  failedCondition: string;
  disabled: boolean;
}

/** Where a department sends what it cannot take, and how it assigns (from the first enabled rule naming it). */
export interface DepartmentPolicy {
  strategy: StrategyName;
  ownerFirst: boolean;
  overflowDepartmentId: string | null;
}

export interface Match {
  version: number;
  /** The rule that decided; null: the fallback (or no department at all). */
  rule: Rule | null;
  ruleIndex: number;
  departmentId: string | null;
  strategy: StrategyName;
  ownerFirst: boolean;
  overflowDepartmentId: string | null;
  trace: TraceEntry[];
}

type Check = (f: RouteFacts, open: (departmentId: string) => boolean) => boolean;

interface CompiledRule {
  rule: Rule;
  index: number;
  names: string[];
  checks: Check[];
}

export interface Compiled {
  version: number;
  set: RuleSet;
  rules: CompiledRule[];
  policies: Map<string, DepartmentPolicy>;
}

function compileRule(rule: Rule, index: number): CompiledRule {
  const names: string[] = [];
  const checks: Check[] = [];
  const w = rule.when;
  const add = (name: string, check: Check) => {
    names.push(name);
    checks.push(check);
  };
  if (w.channels.length) {
    const s = new Set<string>(w.channels);
    add('channel', (f) => s.has(f.channel));
  }
  if (w.dialedNumberKinds.length) {
    const s = new Set(w.dialedNumberKinds);
    add('dialed_number_kind', (f) => s.has(f.dialedNumberKind));
  }
  if (w.projectIds.length) {
    const s = new Set(w.projectIds);
    add('project', (f) => f.projectId !== null && s.has(f.projectId));
  }
  if (w.utmSources.length) {
    const s = new Set(w.utmSources);
    add('utm_source', (f) => s.has(f.utmSource ?? 'none'));
  }
  if (w.clientStates.length) {
    const s = new Set(w.clientStates);
    add('client_state', (f) => s.has(f.clientState || 'none'));
  }
  if (w.owner === 'has_owner') add('owner', (f) => f.ownerId !== null);
  else if (w.owner === 'no_owner') add('owner', (f) => f.ownerId === null);
  if (w.workingHours !== 'any') {
    const want = w.workingHours === 'open';
    const dept = rule.departmentId;
    add('working_hours', (_f, open) => open(dept) === want);
  }
  return { rule, index, names, checks };
}

/** Compiles a rule set (see `compiled` for the cached form of a stored version). */
export function compile(set: RuleSet, version: number): Compiled {
  const policies = new Map<string, DepartmentPolicy>();
  for (const r of set.rules) {
    if (r.disabled || policies.has(r.departmentId)) continue;
    policies.set(r.departmentId, { strategy: r.strategy, ownerFirst: r.ownerFirst, overflowDepartmentId: r.overflowDepartmentId });
  }
  return { version, set, rules: set.rules.map(compileRule), policies };
}

const CACHE_MAX = 1000;
const cache = new Map<string, Compiled>();

/** A stored version compiled once (a version never changes once saved). */
export function compiled(tenantId: string, version: number, load: () => RuleSet): Compiled {
  const key = `${tenantId}:${version}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const c = compile(load(), version);
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(key, c);
  return c;
}

/** A stored version already compiled in this process (a saved version never changes). */
export function cachedCompiled(tenantId: string, version: number): Compiled | undefined {
  return cache.get(`${tenantId}:${version}`);
}

/** Is this department's schedule open at `at`? Open without a roster or a schedule. */
export function openAt(roster: Roster | null, at: Date): (departmentId: string) => boolean {
  if (roster === null) return () => true;
  let memo: Map<string, boolean> | undefined;
  return (id) => {
    const m = memo?.get(id);
    if (m !== undefined) return m;
    const d = roster.departments.get(id);
    const v = !d || !d.schedule || d.schedule.hours.length === 0 ? true : isOpen(scheduleOf(d, roster.tenantTimeZone), at);
    (memo ??= new Map()).set(id, v);
    return v;
  };
}

/**
 * The first enabled rule whose conditions all hold, else the fallback. `trace: false` (the create path)
 * skips building the per-rule trace.
 */
export function decide(c: Compiled, f: RouteFacts, roster: Roster | null, opts: { trace?: boolean } = {}): Match {
  const trace: TraceEntry[] = [];
  const withTrace = opts.trace !== false;
  const open = openAt(roster, f.at);
  for (const cr of c.rules) {
    if (cr.rule.disabled) {
      if (withTrace) trace.push({ ruleId: cr.rule.id, matched: false, failedCondition: '', disabled: true });
      continue;
    }
    let failed = -1;
    for (let i = 0; i < cr.checks.length; i += 1) {
      if (!cr.checks[i](f, open)) {
        failed = i;
        break;
      }
    }
    if (failed >= 0) {
      if (withTrace) trace.push({ ruleId: cr.rule.id, matched: false, failedCondition: cr.names[failed], disabled: false });
      continue;
    }
    if (withTrace) trace.push({ ruleId: cr.rule.id, matched: true, failedCondition: '', disabled: false });
    const r = cr.rule;
    return { version: c.version, rule: r, ruleIndex: cr.index, departmentId: r.departmentId, strategy: r.strategy, ownerFirst: r.ownerFirst, overflowDepartmentId: r.overflowDepartmentId, trace };
  }
  const fb = c.set.fallbackDepartmentId;
  const policy = fb === null ? undefined : c.policies.get(fb);
  return {
    version: c.version,
    rule: null,
    ruleIndex: -1,
    departmentId: fb,
    strategy: c.set.fallbackStrategy,
    ownerFirst: policy?.ownerFirst ?? false,
    overflowDepartmentId: policy?.overflowDepartmentId ?? null,
    trace,
  };
}
