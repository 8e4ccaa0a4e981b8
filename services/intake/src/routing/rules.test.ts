import { ValidationError } from '@crm/errors';
import { parseRuleSet, ruleToProto } from './rules';
import { AssignmentStrategy, Channel, D1, D2, P1, rule } from './fixtures.test-util';

function violations(fn: () => unknown): { field: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).violations;
  }
  throw new Error('expected a ValidationError');
}

const set = (rules = [rule('a')], over: Partial<Parameters<typeof parseRuleSet>[0]> = {}) => ({
  rules,
  fallbackDepartmentId: D2,
  fallbackStrategy: AssignmentStrategy.ASSIGNMENT_STRATEGY_QUEUE,
  comment: '',
  ...over,
});

describe('parseRuleSet', () => {
  it('normalises a valid set (ids lower-cased, utm sources lower-cased, duplicates dropped, defaults)', () => {
    const s = parseRuleSet(set([rule('vip', { departmentId: D1.toUpperCase(), when: { channels: [Channel.CHANNEL_PHONE, Channel.CHANNEL_PHONE], utmSources: ['Yandex', 'yandex'], projectIds: [P1] } })]));
    expect(s.rules[0]).toEqual({
      id: 'vip',
      name: 'Rule vip',
      departmentId: D1,
      strategy: 'round_robin',
      ownerFirst: false,
      overflowDepartmentId: null,
      disabled: false,
      when: { channels: ['phone'], dialedNumberKinds: [], projectIds: [P1], utmSources: ['yandex'], clientStates: [], owner: 'any', workingHours: 'any' },
    });
    expect(s.fallbackStrategy).toBe('queue');
    expect(ruleToProto(s.rules[0]).when!.channels).toEqual([Channel.CHANNEL_PHONE]);
  });

  it('names every malformed field by its path, all at once', () => {
    const v = violations(() =>
      parseRuleSet(
        set([
          rule('ok'),
          rule('Bad Id!', { name: '', departmentId: 'nope', strategy: 99 as AssignmentStrategy, overflowDepartmentId: 'x' }),
          rule('ok', { when: { channels: [0 as Channel], dialedNumberKinds: ['fax'], clientStates: ['vip'], owner: 'mine', workingHours: 'night', projectIds: ['p'] } }),
        ], { fallbackDepartmentId: 'zzz', fallbackStrategy: 42 as AssignmentStrategy }),
      ),
    );
    expect(v.map((x) => x.field).sort()).toEqual(
      [
        'rules[1].id',
        'rules[1].name',
        'rules[1].department_id',
        'rules[1].overflow_department_id',
        'rules[1].strategy',
        'rules[2].id',
        'rules[2].when.channels[0]',
        'rules[2].when.dialed_number_kinds[0]',
        'rules[2].when.project_ids[0]',
        'rules[2].when.client_states[0]',
        'rules[2].when.owner',
        'rules[2].when.working_hours',
        'fallback_department_id',
        'fallback_strategy',
      ].sort(),
    );
    expect(v.find((x) => x.field === 'rules[2].id')!.message).toContain('duplicates rules[0].id');
  });

  it('refuses more than 500 rules and a name over 100 characters', () => {
    expect(violations(() => parseRuleSet(set(Array.from({ length: 501 }, (_, i) => rule(`r${i}`)))))[0].field).toBe('rules');
    expect(parseRuleSet(set(Array.from({ length: 500 }, (_, i) => rule(`r${i}`)))).rules).toHaveLength(500);
    expect(violations(() => parseRuleSet(set([rule('a', { name: 'x'.repeat(101) })])))[0].field).toBe('rules[0].name');
  });
});
