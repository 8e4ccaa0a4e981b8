import { FieldType } from '@crm/contracts/crm/funnel/v1/pipelines';
import { BROKEN, basePipeline, broken, chain, LOST, OPEN, stage, VALID, WON } from '../../test/pipeline-corpus';
import { normalizeDefinition, validateDefinition, type Violation } from './validate';

const check = (def: Parameters<typeof normalizeDefinition>[0]): Violation[] => validateDefinition(normalizeDefinition(def));
const pairs = (vs: Violation[]) => vs.map(({ field, code }) => ({ field, code }));

describe('validateDefinition: the corpus of broken definitions', () => {
  it('has at least 15 cases, each with its own code', () => {
    expect(BROKEN.length).toBeGreaterThanOrEqual(15);
    const codes = new Set(BROKEN.map((c) => c.expect[0]!.code));
    // Every code of pipelines.proto's Violation.code comment is exercised by some case.
    expect([...codes].sort()).toEqual(
      [
        'duplicate_key', 'duplicate_name', 'unreachable', 'no_way_out', 'unlabelled_terminal', 'labelled_open', 'unknown_stage', 'terminal_has_transitions',
        'start_not_open', 'unknown_field', 'unknown_questionnaire', 'no_lost_reasons', 'trap_cycle', 'too_many', 'invalid', 'required', 'unknown_currency',
      ].sort(),
    );
  });

  it.each(BROKEN.map((c) => [c.name, c] as const))('refuses %s', (_name, c) => {
    const vs = check(c.def);
    expect(pairs(vs)).toEqual(c.expect);
    for (const v of vs) expect(v.message.length).toBeGreaterThan(10);
  });
});

describe('validateDefinition: valid definitions', () => {
  it.each(VALID.map((c) => [c.name, c] as const))('accepts %s', (_name, c) => {
    expect(check(c.def)).toEqual([]);
  });
});

describe('validateDefinition: all problems at once and the cost of big inputs', () => {
  it('reports every problem of one definition, in definition order', () => {
    const def = broken((d) => {
      d.name = '';
      d.defaultCurrency = 'ZZZ';
      d.stages[1]!.to = [];
      d.stages[2]!.guard!.requiredFields = ['nope'];
      d.fields[0]!.label = '';
    });
    expect(pairs(check(def))).toEqual([
      { field: 'name', code: 'required' },
      { field: 'default_currency', code: 'unknown_currency' },
      { field: 'fields[0].label', code: 'required' },
      { field: 'stages[1].to', code: 'no_way_out' },
      { field: 'stages[2].guard.required_fields[0]', code: 'unknown_field' },
    ]);
  });

  it('refuses 10,000 stages without looking at them and checks 100 stages of 20 moves each quickly', () => {
    const huge = normalizeDefinition(BROKEN.find((c) => c.name === '10,000 stages')!.def);
    const t0 = performance.now();
    expect(pairs(validateDefinition(huge))).toEqual([{ field: 'stages', code: 'too_many' }]);
    // One comparison, no per-stage work (bounds generous: the machine is shared).
    expect(performance.now() - t0).toBeLessThan(25);

    // Dense but legal: every open stage moves to the next 18 open ones (wrapping) and to won and lost.
    const d = chain(100);
    const open = d.stages.filter((s) => s.outcome === OPEN);
    open.forEach((s, i) => (s.to = [...Array.from({ length: 18 }, (_, k) => open[(i + k + 1) % open.length]!.key), 'won', 'lost']));
    const t1 = performance.now();
    expect(check(d)).toEqual([]);
    expect(performance.now() - t1).toBeLessThan(500);
  });

  it('a trap that is left only into another trap is reported once, at the set with no exit', () => {
    const def = broken((d) => {
      d.stages[1]!.to.push('a');
      d.stages.push(stage('a', OPEN, ['b']), stage('b', OPEN, ['a', 'c']), stage('c', OPEN, ['d']), stage('d', OPEN, ['c']));
    });
    expect(pairs(check(def))).toEqual([{ field: 'stages[6]', code: 'trap_cycle' }]);
  });

  it('a stage leading only into a stage with no way out is covered by that stage’s no_way_out', () => {
    const def = broken((d) => {
      d.stages[1]!.to.push('a');
      d.stages.push(stage('a', OPEN, ['b']), stage('b', OPEN, []));
    });
    expect(pairs(check(def))).toEqual([{ field: 'stages[5].to', code: 'no_way_out' }]);
  });

  it('an unreachable trap is only unreachable', () => {
    const def = broken((d) => void d.stages.push(stage('a', OPEN, ['b']), stage('b', OPEN, ['a'])));
    expect(pairs(check(def))).toEqual([
      { field: 'stages[4]', code: 'unreachable' },
      { field: 'stages[5]', code: 'unreachable' },
    ]);
  });

  it('checks enum options, option lists on other types, field labels and checklist texts', () => {
    const def = broken((d) => {
      d.fields.push({ key: 'segment', label: 'Segment', type: FieldType.FIELD_TYPE_ENUM, options: ['SMB', 'smb', ''] });
      d.fields.push({ key: 'size', label: 'x'.repeat(101), type: FieldType.FIELD_TYPE_INTEGER, options: ['1'] });
      d.stages[1]!.checklist.push({ key: 'need', text: '' });
      d.stages[2]!.guard!.requiredFields = ['amount', 'amount'];
    });
    expect(pairs(check(def))).toEqual([
      { field: 'fields[1].options[1]', code: 'duplicate_name' },
      { field: 'fields[1].options[2]', code: 'required' },
      { field: 'fields[2].label', code: 'invalid' },
      { field: 'fields[2].options', code: 'invalid' },
      { field: 'stages[1].checklist[1].key', code: 'duplicate_key' },
      { field: 'stages[1].checklist[1].text', code: 'required' },
      { field: 'stages[2].guard.required_fields[1]', code: 'duplicate_key' },
    ]);
  });

  it('an unknown outcome number is invalid', () => {
    expect(pairs(check(broken((d) => void (d.stages[3]!.outcome = 9 as never))))).toEqual([{ field: 'stages[3].outcome', code: 'invalid' }]);
  });

  it('a won stage that leads back into the pipeline it is reachable without is a terminal with moves', () => {
    const def = broken((d) => void (d.stages[2]!.to = ['qualified']));
    expect(pairs(check(def))).toEqual([{ field: 'stages[2].to', code: 'terminal_has_transitions' }]);
    const lostToo = broken((d) => void (d.stages[3]!.to = ['new']));
    expect(pairs(check(lostToo))).toEqual([{ field: 'stages[3].to', code: 'terminal_has_transitions' }]);
  });
});

describe('normalizeDefinition', () => {
  it('trims what people type, defaults the currency to RUB, upper-cases it, keeps keys and repeats as given', () => {
    const d = basePipeline('  Sales  ');
    d.defaultCurrency = ' usd ';
    d.stages[1]!.name = '  Qualified ';
    d.stages[1]!.checklist[0]!.text = ' Learn the need ';
    d.lostReasons = [' Too expensive', 'Too expensive '];
    d.fields[0]!.label = ' Budget ';
    d.stages.push({ ...stage(' spaced ', WON), guard: undefined });
    const n = normalizeDefinition(d);
    expect(n.name).toBe('Sales');
    expect(n.defaultCurrency).toBe('USD');
    expect(n.stages[1]!.name).toBe('Qualified');
    expect(n.stages[1]!.checklist[0]!.text).toBe('Learn the need');
    expect(n.lostReasons).toEqual(['Too expensive', 'Too expensive']);
    expect(n.fields[0]!.label).toBe('Budget');
    expect(n.stages[4]!.key).toBe(' spaced ');
    expect(n.stages[4]!.guard).toEqual({ requiredFields: [], checklistComplete: false, questionnaireId: '' });
    expect(normalizeDefinition({ ...basePipeline(), defaultCurrency: '' }).defaultCurrency).toBe('RUB');
    expect(normalizeDefinition(undefined)).toEqual({ name: '', stages: [], lostReasons: [], fields: [], defaultCurrency: 'RUB' });
    expect(LOST).not.toBe(WON);
  });
});
