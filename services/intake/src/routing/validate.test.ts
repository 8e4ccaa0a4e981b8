import { parseRuleSet } from './rules';
import { validateRuleSet } from './validate';
import { AssignmentStrategy, Channel, D1, D2, D3, P1, rule } from './fixtures.test-util';

const known = { departmentIds: new Set([D1, D2, D3]), projectIds: new Set([P1]) };
const check = (rules: ReturnType<typeof rule>[], fallback = D3) =>
  validateRuleSet(parseRuleSet({ rules, fallbackDepartmentId: fallback, fallbackStrategy: AssignmentStrategy.ASSIGNMENT_STRATEGY_QUEUE }), known).map((p) => `${p.ruleId}:${p.code}`);

describe('validateRuleSet', () => {
  it('a clean set has no problems', () => {
    expect(check([rule('phone', { when: { channels: [Channel.CHANNEL_PHONE] } }), rule('chat', { departmentId: D2, when: { channels: [Channel.CHANNEL_CHAT] } })])).toEqual([]);
  });

  it('reports unknown departments and projects (another tenant’s ids are unknown here)', () => {
    const other = '00000000-0000-7000-8000-0000000000ee';
    const other2 = '00000000-0000-7000-8000-0000000000ef';
    expect(check([rule('a', { departmentId: other, overflowDepartmentId: other2, when: { projectIds: [other] } })], other)).toEqual([
      'a:unknown_department',
      'a:unknown_department',
      'a:unknown_project',
      ':unknown_department',
    ]);
  });

  it('reports a rule shadowed by an earlier superset, but not by a narrower or disabled one', () => {
    expect(check([rule('all-phone', { when: { channels: [Channel.CHANNEL_PHONE] } }), rule('ads-phone', { when: { channels: [Channel.CHANNEL_PHONE], dialedNumberKinds: ['advertising'] } })])).toEqual([
      'ads-phone:unreachable',
    ]);
    expect(check([rule('ads-phone', { when: { channels: [Channel.CHANNEL_PHONE], dialedNumberKinds: ['advertising'] } }), rule('all-phone', { when: { channels: [Channel.CHANNEL_PHONE] } })])).toEqual([]);
    expect(check([rule('any', { disabled: true }), rule('phone', { when: { channels: [Channel.CHANNEL_PHONE] } })])).toEqual([]);
    expect(check([rule('any'), rule('phone', { when: { channels: [Channel.CHANNEL_PHONE, Channel.CHANNEL_CHAT] } })])).toEqual(['phone:unreachable']);
    // Working hours of different departments are not comparable.
    expect(check([rule('d1-open', { when: { workingHours: 'open' } }), rule('d2-open', { departmentId: D2, when: { workingHours: 'open' } })])).toEqual([]);
  });

  it('reports overflow cycles (also a department overflowing into itself) and a missing fallback', () => {
    expect(
      check([
        rule('a', { departmentId: D1, overflowDepartmentId: D2, when: { channels: [Channel.CHANNEL_PHONE] } }),
        rule('b', { departmentId: D2, overflowDepartmentId: D3, when: { channels: [Channel.CHANNEL_CHAT] } }),
        rule('c', { departmentId: D3, overflowDepartmentId: D1, when: { channels: [Channel.CHANNEL_EMAIL] } }),
      ]),
    ).toEqual(['a:overflow_cycle', 'b:overflow_cycle', 'c:overflow_cycle']);
    expect(check([rule('self', { overflowDepartmentId: D1 })])).toEqual(['self:overflow_cycle']);
    expect(check([rule('chain', { overflowDepartmentId: D2 })])).toEqual([]);
    expect(check([], '')).toEqual([':no_fallback']);
  });
});
