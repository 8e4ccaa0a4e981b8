import { compile, decide } from './evaluate';
import { parseRuleSet } from './rules';
import { AssignmentStrategy, Channel, D1, D2, D3, P1, dept, facts, roster, rule, user } from './fixtures.test-util';

const parsed = (rules: ReturnType<typeof rule>[]) =>
  compile(parseRuleSet({ rules, fallbackDepartmentId: D3, fallbackStrategy: AssignmentStrategy.ASSIGNMENT_STRATEGY_QUEUE }), 7);

// Weekdays 09:00–18:00 Moscow (UTC+3): 2026-12-01 (Tuesday) 10:00Z is open, 20:00Z is closed.
const office = { timeZone: 'Europe/Moscow', hours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, from: '09:00', to: '18:00' })), holidays: [] };

describe('decide', () => {
  const c = parsed([
    rule('off', { disabled: true, departmentId: D2 }),
    rule('ads-phone', { departmentId: D1, when: { channels: [Channel.CHANNEL_PHONE], dialedNumberKinds: ['advertising'] } }),
    rule('project', { departmentId: D2, when: { projectIds: [P1], utmSources: ['yandex', 'none'] } }),
    rule('owned-active', { departmentId: D2, when: { clientStates: ['active'], owner: 'has_owner' } }),
    rule('night', { departmentId: D1, when: { workingHours: 'closed' } }),
  ]);
  const r = roster([dept(D1, { schedule: office }), dept(D2), dept(D3)], []);

  it('takes the first enabled rule whose every condition holds, with a trace of the earlier ones', () => {
    const m = decide(c, facts({ channel: 'phone', dialedNumberKind: 'advertising' }), r);
    expect(m.rule!.id).toBe('ads-phone');
    expect(m.departmentId).toBe(D1);
    expect(m.strategy).toBe('round_robin');
    expect(m.trace).toEqual([
      { ruleId: 'off', matched: false, failedCondition: '', disabled: true },
      { ruleId: 'ads-phone', matched: true, failedCondition: '', disabled: false },
    ]);
  });

  it('names the first failed condition of each rule', () => {
    const m = decide(c, facts({ channel: 'chat', projectId: P1, utmSource: 'google', clientState: 'active' }), r);
    expect(m.rule).toBeNull();
    expect(m.departmentId).toBe(D3);
    expect(m.trace.map((t) => t.failedCondition)).toEqual(['', 'channel', 'utm_source', 'owner', 'working_hours']);
  });

  it('matches utm `none` for a request without one, and the client state / owner conditions', () => {
    expect(decide(c, facts({ channel: 'chat', projectId: P1 }), r).rule!.id).toBe('project');
    expect(decide(c, facts({ channel: 'chat', clientState: 'active', ownerId: user(1) }), r).rule!.id).toBe('owned-active');
  });

  it('evaluates working hours on the rule department schedule; without a roster they count as open', () => {
    const night = facts({ channel: 'email', at: new Date('2026-12-01T20:00:00Z') });
    expect(decide(c, night, r).rule!.id).toBe('night');
    expect(decide(c, facts({ channel: 'email' }), r).rule).toBeNull();
    expect(decide(c, night, null).rule).toBeNull();
  });

  it('an empty set routes everything to the fallback; no fallback: no department', () => {
    expect(decide(parsed([]), facts(), r).departmentId).toBe(D3);
    const none = compile(parseRuleSet({ rules: [], fallbackDepartmentId: '', fallbackStrategy: 0 }), 1);
    expect(decide(none, facts(), r).departmentId).toBeNull();
  });

  it('skips the trace on request', () => {
    expect(decide(c, facts(), r, { trace: false }).trace).toEqual([]);
  });
});
