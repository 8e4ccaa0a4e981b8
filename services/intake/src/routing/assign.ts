/**
 * Fair assignment inside the decided department. Eligible: active roster users who work in the
 * department, are on shift and not away, in a fixed order (by user id). `owner_first` takes the client's
 * owner when eligible; ROUND_ROBIN takes the next after the department's pointer; LEAST_LOADED the one
 * with the fewest open (assigned / in_progress) requests, ties in round-robin order. Nobody eligible:
 * the overflow department (at most 5 steps), else the first department's queue.
 *
 * The live picker moves the pointer in the caller's transaction: `routing_pointers` (tenant, department)
 * is upserted and so locked until commit, which serialises concurrent decisions for one department (the
 * least-loaded count is read after the lock, so it sees every committed assignment).
 */
import type { EntityManager } from '@crm/db';
import type { Roster } from '../team';
import type { Compiled, DepartmentPolicy, Match } from './evaluate';
import type { StrategyName } from './rules';

export const MAX_OVERFLOW_STEPS = 5;

export type AssignedBy = 'owner' | 'round_robin' | 'least_loaded' | 'none';
export type UnassignedReason = '' | 'strategy_queue' | 'nobody_eligible' | 'team_unavailable' | 'no_department';

export interface Assignment {
  departmentId: string | null;
  strategy: StrategyName;
  assigneeId: string | null;
  assignedBy: AssignedBy;
  overflowPath: string[];
  unassignedReason: UnassignedReason;
}

/** Picks among eligible users (sorted by id, at least one). */
export interface Picker {
  roundRobin(departmentId: string, candidates: string[]): Promise<string>;
  leastLoaded(departmentId: string, candidates: string[]): Promise<string>;
}

/** Users who can take a request of the department now, sorted by id. */
export function eligibleUsers(roster: Roster, departmentId: string): string[] {
  const out: string[] = [];
  for (const u of roster.users.values()) if (u.onShift && !u.away && u.departmentIds.includes(departmentId)) out.push(u.id);
  return out.sort();
}

/** The first candidate after `last` in id order, wrapping around (the first when `last` is null). */
export function nextAfter(sorted: readonly string[], last: string | null): string {
  if (last !== null) for (const c of sorted) if (c > last) return c;
  return sorted[0];
}

/** The least loaded candidates (loads absent = 0), in id order. */
export function leastLoadedTies(sorted: readonly string[], loads: ReadonlyMap<string, number>): string[] {
  let min = Infinity;
  for (const c of sorted) min = Math.min(min, loads.get(c) ?? 0);
  return sorted.filter((c) => (loads.get(c) ?? 0) === min);
}

export async function assign(match: Match, c: Compiled, roster: Roster | null, ownerId: string | null, picker: Picker): Promise<Assignment> {
  const first = match.departmentId;
  const none = (reason: UnassignedReason, path: string[] = [], departmentId = first, strategy = match.strategy): Assignment => ({
    departmentId,
    strategy,
    assigneeId: null,
    assignedBy: 'none',
    overflowPath: path,
    unassignedReason: reason,
  });
  if (first === null) return none('no_department');
  if (roster === null) return none(match.strategy === 'queue' && !match.ownerFirst ? 'strategy_queue' : 'team_unavailable');

  let dept = first;
  let policy: DepartmentPolicy = { strategy: match.strategy, ownerFirst: match.ownerFirst, overflowDepartmentId: match.overflowDepartmentId };
  const path: string[] = [];
  const visited = new Set([dept]);
  for (;;) {
    const candidates = eligibleUsers(roster, dept);
    if (policy.ownerFirst && ownerId !== null && candidates.includes(ownerId))
      return { departmentId: dept, strategy: policy.strategy, assigneeId: ownerId, assignedBy: 'owner', overflowPath: path, unassignedReason: '' };
    if (policy.strategy === 'queue') return none('strategy_queue', path, dept, 'queue');
    if (candidates.length) {
      const assigneeId = policy.strategy === 'round_robin' ? await picker.roundRobin(dept, candidates) : await picker.leastLoaded(dept, candidates);
      return { departmentId: dept, strategy: policy.strategy, assigneeId, assignedBy: policy.strategy, overflowPath: path, unassignedReason: '' };
    }
    const next = policy.overflowDepartmentId;
    if (next === null || visited.has(next) || path.length >= MAX_OVERFLOW_STEPS) break;
    path.push(next);
    visited.add(next);
    dept = next;
    policy = c.policies.get(next) ?? { strategy: policy.strategy, ownerFirst: policy.ownerFirst, overflowDepartmentId: null };
  }
  return none('nobody_eligible', path);
}

const OPEN_COUNTS = `SELECT assignee_id::text AS id, count(*)::int AS n FROM requests
  WHERE tenant_id = ? AND state IN ('assigned','in_progress') AND assignee_id = ANY(string_to_array(?, ',')::uuid[]) GROUP BY assignee_id`;

/** Moves the pointer (in the caller's transaction: the pointer row stays locked until it commits). */
export class LivePicker implements Picker {
  constructor(
    private readonly em: EntityManager,
    private readonly tenantId: string,
  ) {}

  /**
   * One statement: insert the pointer or lock and move it to the next candidate after its last user.
   * Ids are compared as text in the "C" collation: the order of JS's sort and of uuid (no min(uuid) in PostgreSQL).
   */
  async roundRobin(departmentId: string, candidates: string[]): Promise<string> {
    const list = candidates.join(',');
    const [row] = await this.em.execute<{ last_user_id: string }[]>(
      `INSERT INTO routing_pointers AS p (tenant_id, department_id, last_user_id, turns, updated_at)
       VALUES (?, ?, (SELECT min(u COLLATE "C") FROM unnest(string_to_array(?, ',')) u)::uuid, 1, now())
       ON CONFLICT (tenant_id, department_id) DO UPDATE SET
         last_user_id = COALESCE((SELECT min(u COLLATE "C") FROM unnest(string_to_array(?, ',')) u WHERE u COLLATE "C" > p.last_user_id::text),
                                 (SELECT min(u COLLATE "C") FROM unnest(string_to_array(?, ',')) u))::uuid,
         turns = p.turns + 1, updated_at = now()
       RETURNING last_user_id::text`,
      [this.tenantId, departmentId, list, list, list],
    );
    return row.last_user_id;
  }

  /**
   * Two statements: lock the pointer (so the count below sees every committed assignment of this
   * department), then count the candidates' open requests and move the pointer to the next of the least
   * loaded after its last user, in one statement.
   */
  async leastLoaded(departmentId: string, candidates: string[]): Promise<string> {
    const [locked] = await this.em.execute<{ last_user_id: string | null }[]>(
      `INSERT INTO routing_pointers AS p (tenant_id, department_id, last_user_id, turns, updated_at) VALUES (?, ?, NULL, 0, now())
       ON CONFLICT (tenant_id, department_id) DO UPDATE SET turns = p.turns RETURNING last_user_id::text`,
      [this.tenantId, departmentId],
    );
    const [row] = await this.em.execute<{ last_user_id: string }[]>(
      `WITH e AS (SELECT u FROM unnest(string_to_array(?, ',')) u),
            c AS (SELECT e.u, (SELECT count(*) FROM requests r WHERE r.tenant_id = ? AND r.assignee_id = e.u::uuid AND r.state IN ('assigned','in_progress')) AS n FROM e),
            t AS (SELECT u FROM c WHERE n = (SELECT min(n) FROM c)),
            pick AS (SELECT COALESCE((SELECT min(u COLLATE "C") FROM t WHERE u COLLATE "C" > ?::text), (SELECT min(u COLLATE "C") FROM t))::uuid AS u)
       UPDATE routing_pointers p SET last_user_id = pick.u, turns = p.turns + 1, updated_at = now()
         FROM pick WHERE p.tenant_id = ? AND p.department_id = ? RETURNING p.last_user_id::text`,
      [candidates.join(','), this.tenantId, locked?.last_user_id ?? null, this.tenantId, departmentId],
    );
    return row.last_user_id;
  }
}

/** The simulator's picker: whom the strategy would pick now, without moving or locking anything. */
export class PeekPicker implements Picker {
  constructor(
    private readonly em: EntityManager,
    private readonly tenantId: string,
  ) {}

  private async last(departmentId: string): Promise<string | null> {
    const [row] = await this.em.execute<{ last_user_id: string | null }[]>('SELECT last_user_id::text FROM routing_pointers WHERE tenant_id = ? AND department_id = ?', [this.tenantId, departmentId]);
    return row?.last_user_id ?? null;
  }

  async roundRobin(departmentId: string, candidates: string[]): Promise<string> {
    return nextAfter(candidates, await this.last(departmentId));
  }

  async leastLoaded(departmentId: string, candidates: string[]): Promise<string> {
    const rows = await this.em.execute<{ id: string; n: number }[]>(OPEN_COUNTS, [this.tenantId, candidates.join(',')]);
    const ties = leastLoadedTies(candidates, new Map(rows.map((r) => [r.id, r.n])));
    return nextAfter(ties, await this.last(departmentId));
  }
}
