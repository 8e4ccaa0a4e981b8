/**
 * The semantic problems of a rule set (ValidateRouting; SaveDraft returns them; PublishRouting refuses
 * a set that has any): departments and projects the tenant does not have, a rule no request can reach
 * (an earlier enabled rule's conditions are a superset of its own), an overflow chain that cycles, no
 * fallback department. Pure: the caller passes the tenant's department and project ids.
 */
import type { Conditions, Rule, RuleSet } from './rules';

export interface Problem {
  /** Empty for the set as a whole. */
  ruleId: string;
  /** -1 for the set as a whole. */
  ruleIndex: number;
  code: 'unknown_department' | 'unknown_project' | 'unreachable' | 'overflow_cycle' | 'no_fallback';
  message: string;
}

/** Every value the later list allows is allowed by the earlier one (an empty list allows everything). */
function listCovers(earlier: readonly string[], later: readonly string[]): boolean {
  if (earlier.length === 0) return true;
  if (later.length === 0) return false;
  const s = new Set(earlier);
  return later.every((x) => s.has(x));
}

/** Does every request that `later` matches also match `earlier`? */
export function covers(earlier: Rule, later: Rule): boolean {
  const a: Conditions = earlier.when;
  const b: Conditions = later.when;
  if (!listCovers(a.channels, b.channels)) return false;
  if (!listCovers(a.dialedNumberKinds, b.dialedNumberKinds)) return false;
  if (!listCovers(a.projectIds, b.projectIds)) return false;
  if (!listCovers(a.utmSources, b.utmSources)) return false;
  if (!listCovers(a.clientStates, b.clientStates)) return false;
  if (a.owner !== 'any' && a.owner !== b.owner) return false;
  // Working hours are the rule's own department's: comparable only for the same department.
  if (a.workingHours !== 'any' && (a.workingHours !== b.workingHours || earlier.departmentId !== later.departmentId)) return false;
  return true;
}

export function validateRuleSet(set: RuleSet, known: { departmentIds: ReadonlySet<string>; projectIds: ReadonlySet<string> | null }): Problem[] {
  const out: Problem[] = [];
  const { departmentIds, projectIds } = known;
  set.rules.forEach((r, i) => {
    if (!departmentIds.has(r.departmentId)) out.push({ ruleId: r.id, ruleIndex: i, code: 'unknown_department', message: `department ${r.departmentId} does not exist in this tenant` });
    if (r.overflowDepartmentId !== null && !departmentIds.has(r.overflowDepartmentId))
      out.push({ ruleId: r.id, ruleIndex: i, code: 'unknown_department', message: `overflow department ${r.overflowDepartmentId} does not exist in this tenant` });
    if (projectIds !== null)
      for (const p of r.when.projectIds) if (!projectIds.has(p)) out.push({ ruleId: r.id, ruleIndex: i, code: 'unknown_project', message: `project ${p} does not exist in this tenant` });
  });

  const enabled = set.rules.map((r, i) => ({ r, i })).filter((x) => !x.r.disabled);
  for (let j = 1; j < enabled.length; j += 1) {
    const later = enabled[j];
    for (let k = 0; k < j; k += 1) {
      const earlier = enabled[k];
      if (covers(earlier.r, later.r)) {
        out.push({ ruleId: later.r.id, ruleIndex: later.i, code: 'unreachable', message: `every request it matches is taken by rules[${earlier.i}] "${earlier.r.id}" before it` });
        break;
      }
    }
  }

  // Overflow edges department → overflow department, from every enabled rule; a cycle is refused.
  const edges = new Map<string, { to: string; rule: Rule; index: number }[]>();
  for (const { r, i } of enabled) {
    if (r.overflowDepartmentId === null) continue;
    const list = edges.get(r.departmentId) ?? [];
    list.push({ to: r.overflowDepartmentId, rule: r, index: i });
    edges.set(r.departmentId, list);
  }
  const reported = new Set<string>();
  for (const { r, i } of enabled) {
    if (r.overflowDepartmentId === null) continue;
    // Can the overflow department lead back to this rule's department?
    const path = findPath(edges, r.overflowDepartmentId, r.departmentId);
    if (path !== null && !reported.has(r.id)) {
      reported.add(r.id);
      out.push({ ruleId: r.id, ruleIndex: i, code: 'overflow_cycle', message: `overflow cycles: ${[r.departmentId, ...path].join(' → ')}` });
    }
  }

  if (set.fallbackDepartmentId === null) out.push({ ruleId: '', ruleIndex: -1, code: 'no_fallback', message: 'a fallback department is required to publish' });
  else if (!departmentIds.has(set.fallbackDepartmentId))
    out.push({ ruleId: '', ruleIndex: -1, code: 'unknown_department', message: `fallback department ${set.fallbackDepartmentId} does not exist in this tenant` });
  return out;
}

/** A path of departments from `from` to `to` along overflow edges (breadth first), or null. */
function findPath(edges: Map<string, { to: string }[]>, from: string, to: string): string[] | null {
  const prev = new Map<string, string | null>([[from, null]]);
  const queue = [from];
  while (queue.length) {
    const cur = queue.shift()!;
    if (cur === to) {
      const path: string[] = [];
      for (let n: string | null = cur; n !== null; n = prev.get(n) ?? null) path.unshift(n);
      return path;
    }
    for (const e of edges.get(cur) ?? []) {
      if (prev.has(e.to)) continue;
      prev.set(e.to, cur);
      queue.push(e.to);
    }
  }
  return null;
}
