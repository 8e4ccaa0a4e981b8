import { assign, eligibleUsers, leastLoadedTies, nextAfter, type Picker } from './assign';
import { compile, decide } from './evaluate';
import { parseRuleSet } from './rules';
import { AssignmentStrategy, D1, D2, D3, dept, facts, roster, rosterUser, rule, user } from './fixtures.test-util';

/** An in-memory picker with the live picker's semantics (pointer per department, loads per user). */
class MemoryPicker implements Picker {
  last = new Map<string, string>();
  loads = new Map<string, number>();
  async roundRobin(d: string, c: string[]) {
    const u = nextAfter(c, this.last.get(d) ?? null);
    this.last.set(d, u);
    return u;
  }
  async leastLoaded(d: string, c: string[]) {
    const u = nextAfter(leastLoadedTies(c, this.loads), this.last.get(d) ?? null);
    this.last.set(d, u);
    return u;
  }
}

const set = (rules: ReturnType<typeof rule>[]) => compile(parseRuleSet({ rules, fallbackDepartmentId: D3, fallbackStrategy: AssignmentStrategy.ASSIGNMENT_STRATEGY_QUEUE }), 1);

describe('assignment', () => {
  it('eligible: in the department, on shift, not away; sorted by id', () => {
    const r = roster([dept(D1)], [rosterUser(user(3), [D1]), rosterUser(user(1), [D1]), rosterUser(user(2), [D1], { away: true }), rosterUser(user(4), [D1], { onShift: false }), rosterUser(user(5), [D2])]);
    expect(eligibleUsers(r, D1)).toEqual([user(1), user(3)]);
  });

  it('nextAfter wraps around; leastLoadedTies keeps the minimum', () => {
    expect(nextAfter(['a', 'b', 'c'], null)).toBe('a');
    expect(nextAfter(['a', 'b', 'c'], 'b')).toBe('c');
    expect(nextAfter(['a', 'b', 'c'], 'c')).toBe('a');
    expect(nextAfter(['a', 'c'], 'b')).toBe('c');
    expect(leastLoadedTies(['a', 'b', 'c'], new Map([['a', 2], ['c', 1]]))).toEqual(['b']);
  });

  it('round robin takes turns evenly', async () => {
    const c = set([rule('rr')]);
    const r = roster([dept(D1)], [1, 2, 3].map((n) => rosterUser(user(n), [D1])));
    const p = new MemoryPicker();
    const got: string[] = [];
    for (let i = 0; i < 7; i += 1) got.push((await assign(decide(c, facts(), r), c, r, null, p)).assigneeId!);
    expect(got).toEqual([1, 2, 3, 1, 2, 3, 1].map(user));
  });

  it('least loaded never picks the busiest while a less busy one is eligible', async () => {
    const c = set([rule('ll', { strategy: AssignmentStrategy.ASSIGNMENT_STRATEGY_LEAST_LOADED })]);
    const r = roster([dept(D1)], [1, 2, 3].map((n) => rosterUser(user(n), [D1])));
    const p = new MemoryPicker();
    p.loads = new Map([[user(1), 5], [user(2), 1], [user(3), 1]]);
    const a = await assign(decide(c, facts(), r), c, r, null, p);
    expect(a).toMatchObject({ assigneeId: user(2), assignedBy: 'least_loaded' });
    expect((await assign(decide(c, facts(), r), c, r, null, p)).assigneeId).toBe(user(3));
  });

  it('owner first when the owner is eligible, else the strategy', async () => {
    const c = set([rule('o', { ownerFirst: true })]);
    const r = roster([dept(D1)], [rosterUser(user(1), [D1]), rosterUser(user(2), [D1]), rosterUser(user(9), [D1], { away: true })]);
    expect(await assign(decide(c, facts(), r), c, r, user(2), new MemoryPicker())).toMatchObject({ assigneeId: user(2), assignedBy: 'owner' });
    expect(await assign(decide(c, facts(), r), c, r, user(9), new MemoryPicker())).toMatchObject({ assigneeId: user(1), assignedBy: 'round_robin' });
  });

  it('nobody eligible: the overflow department with its own policy, else the first department’s queue', async () => {
    const c = set([
      rule('a', { departmentId: D1, overflowDepartmentId: D2 }),
      rule('b', { departmentId: D2, strategy: AssignmentStrategy.ASSIGNMENT_STRATEGY_LEAST_LOADED, overflowDepartmentId: D3, when: { channels: [2] } }),
    ]);
    const off = roster([dept(D1), dept(D2), dept(D3)], [rosterUser(user(1), [D1], { onShift: false }), rosterUser(user(2), [D2])]);
    expect(await assign(decide(c, facts(), off), c, off, null, new MemoryPicker())).toMatchObject({ departmentId: D2, assigneeId: user(2), assignedBy: 'least_loaded', overflowPath: [D2] });
    const nobody = roster([dept(D1), dept(D2), dept(D3)], [rosterUser(user(1), [D1], { away: true })]);
    expect(await assign(decide(c, facts(), nobody), c, nobody, null, new MemoryPicker())).toMatchObject({
      departmentId: D1,
      assigneeId: null,
      unassignedReason: 'nobody_eligible',
      overflowPath: [D2, D3],
    });
  });

  it('queue strategy and an unreachable identity leave the request unassigned in its department', async () => {
    const q = set([rule('q', { strategy: AssignmentStrategy.ASSIGNMENT_STRATEGY_QUEUE })]);
    const r = roster([dept(D1)], [rosterUser(user(1), [D1])]);
    expect(await assign(decide(q, facts(), r), q, r, null, new MemoryPicker())).toMatchObject({ departmentId: D1, assigneeId: null, unassignedReason: 'strategy_queue' });
    const rr = set([rule('rr')]);
    expect(await assign(decide(rr, facts(), null), rr, null, null, new MemoryPicker())).toMatchObject({ departmentId: D1, assigneeId: null, unassignedReason: 'team_unavailable' });
  });
});
