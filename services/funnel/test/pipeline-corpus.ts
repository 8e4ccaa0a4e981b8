/**
 * Pipeline definitions for the tests: a small valid one to mutate, valid variants, and the corpus of
 * broken ones — each with exactly the violations (path and code) it must be refused with. Shared by
 * src/domain/validate.test.ts (the rules) and test/pipelines.integration.test.ts (the same corpus through
 * CreatePipeline over gRPC).
 */
import { FieldType, StageOutcome, type PipelineDefinition, type StageDefinition } from '@crm/contracts/crm/funnel/v1/pipelines';
import { defaultPipeline } from '../src/domain/template';

export const OPEN = StageOutcome.STAGE_OUTCOME_OPEN;
export const WON = StageOutcome.STAGE_OUTCOME_WON;
export const LOST = StageOutcome.STAGE_OUTCOME_LOST;
export const UNLABELLED = StageOutcome.STAGE_OUTCOME_UNSPECIFIED;

export function stage(key: string, outcome: StageOutcome, to: string[] = [], over: Partial<StageDefinition> = {}): StageDefinition {
  return {
    key,
    name: key.charAt(0).toUpperCase() + key.slice(1).replace(/_/g, ' '),
    outcome,
    to,
    guard: { requiredFields: [], checklistComplete: false, questionnaireId: '' },
    checklist: [],
    probability: 0,
    ...over,
  };
}

/** new → qualified → won | lost (and new → won | lost directly), one checklist, one custom field. */
export function basePipeline(name = 'Sales'): PipelineDefinition {
  return {
    name,
    defaultCurrency: 'RUB',
    lostReasons: ['Too expensive', 'Chose a competitor'],
    fields: [{ key: 'budget', label: 'Budget source', type: FieldType.FIELD_TYPE_TEXT, options: [] }],
    stages: [
      stage('new', OPEN, ['qualified', 'won', 'lost']),
      stage('qualified', OPEN, ['won', 'lost'], { checklist: [{ key: 'need', text: 'Learn the need' }], probability: 40 }),
      stage('won', WON, [], { probability: 100 }),
      stage('lost', LOST),
    ],
  };
}

const clone = (d: PipelineDefinition): PipelineDefinition => structuredClone(d);

/** base with `fn` applied to a copy. */
export function broken(fn: (d: PipelineDefinition) => void, base = basePipeline()): PipelineDefinition {
  const d = clone(base);
  fn(d);
  return d;
}

/** A chain of `n` stages: n − 2 open ones, then won and lost. */
export function chain(n: number): PipelineDefinition {
  const stages: StageDefinition[] = [];
  for (let i = 0; i < n - 2; i++) stages.push(stage(`s${i}`, OPEN, [i + 1 < n - 2 ? `s${i + 1}` : 'won', 'lost']));
  stages.push(stage('won', WON), stage('lost', LOST));
  return { ...basePipeline('Chain'), stages };
}

export interface ValidCase {
  name: string;
  def: PipelineDefinition;
}

export const VALID: ValidCase[] = [
  { name: 'the base pipeline', def: basePipeline() },
  { name: 'the Russian template', def: defaultPipeline('ru') },
  { name: 'the English template', def: defaultPipeline('en') },
  {
    name: 'a cycle with a way out (proposal ↔ negotiation, both may lose)',
    def: broken((d) => {
      d.stages.splice(2, 0, stage('proposal', OPEN, ['negotiation', 'lost']), stage('negotiation', OPEN, ['proposal', 'won', 'lost']));
      d.stages[1]!.to = ['proposal', 'lost'];
    }),
  },
  {
    name: 'checklist_complete on a stage whose predecessor has no checklist (nothing to complete)',
    def: broken((d) => {
      d.stages[1]!.guard!.checklistComplete = true;
    }),
  },
  {
    name: 'guards requiring built-in and custom fields; an enum field',
    def: broken((d) => {
      d.fields.push({ key: 'segment', label: 'Segment', type: FieldType.FIELD_TYPE_ENUM, options: ['SMB', 'Enterprise'] });
      d.stages[2]!.guard!.requiredFields = ['amount', 'client_card_id', 'budget', 'segment'];
    }),
  },
  { name: 'no lost stage and no lost reasons', def: broken((d) => {
    d.stages = d.stages.filter((s) => s.key !== 'lost').map((s) => ({ ...s, to: s.to.filter((t) => t !== 'lost') }));
    d.lostReasons = [];
  }) },
  { name: 'exactly 100 stages', def: chain(100) },
  { name: 'empty currency (RUB) and names with spaces around them', def: broken((d) => {
    d.defaultCurrency = '';
    d.name = '  Sales  ';
  }) },
];

export interface BrokenCase {
  name: string;
  def: PipelineDefinition;
  /** Exactly these violations (path + code), in the order reported. */
  expect: { field: string; code: string }[];
}

const stages21 = (): PipelineDefinition =>
  broken((d) => {
    const extra = Array.from({ length: 20 }, (_, i) => stage(`x${i}`, OPEN, ['won', 'lost']));
    d.stages.splice(2, 0, ...extra);
    d.stages[0]!.to = [...extra.map((s) => s.key), 'qualified'];
  });

export const BROKEN: BrokenCase[] = [
  { name: 'no name', def: broken((d) => void (d.name = '   ')), expect: [{ field: 'name', code: 'required' }] },
  { name: 'a name of 101 characters', def: broken((d) => void (d.name = 'x'.repeat(101))), expect: [{ field: 'name', code: 'invalid' }] },
  { name: 'no stages', def: broken((d) => void (d.stages = [])), expect: [{ field: 'stages', code: 'required' }] },
  {
    name: '10,000 stages',
    def: broken((d) => void (d.stages = Array.from({ length: 10_000 }, (_, i) => stage(`s${i}`, OPEN, [`s${(i + 1) % 10_000}`])))),
    expect: [{ field: 'stages', code: 'too_many' }],
  },
  { name: 'a stage key repeated', def: broken((d) => void d.stages.push(stage('won', WON, [], { name: 'Won again' }))), expect: [{ field: 'stages[4].key', code: 'duplicate_key' }, { field: 'stages[4]', code: 'unreachable' }] },
  { name: 'a stage name repeated in another case', def: broken((d) => void (d.stages[3]!.name = 'WON')), expect: [{ field: 'stages[3].name', code: 'duplicate_name' }] },
  { name: 'a checklist key that is not a key', def: broken((d) => void (d.stages[1]!.checklist[0]!.key = 'Need it')), expect: [{ field: 'stages[1].checklist[0].key', code: 'invalid' }] },
  { name: 'a stage nothing leads to', def: broken((d) => void d.stages.push(stage('nurture', OPEN, ['won']))), expect: [{ field: 'stages[4]', code: 'unreachable' }] },
  { name: 'an open stage with no way out', def: broken((d) => void (d.stages[1]!.to = [])), expect: [{ field: 'stages[1].to', code: 'no_way_out' }] },
  { name: 'an unlabelled terminal', def: broken((d) => void (d.stages[2]!.outcome = UNLABELLED)), expect: [{ field: 'stages[2].outcome', code: 'unlabelled_terminal' }] },
  { name: 'an unlabelled stage with moves', def: broken((d) => void (d.stages[1]!.outcome = UNLABELLED)), expect: [{ field: 'stages[1].outcome', code: 'invalid' }] },
  {
    name: 'a won label on a stage deals pass through',
    def: broken((d) => {
      d.stages[0]!.to = ['qualified', 'lost'];
      d.stages[1]!.outcome = WON;
      d.stages[1]!.to = ['proposal'];
      d.stages.push(stage('proposal', OPEN, ['won', 'lost']));
    }),
    expect: [{ field: 'stages[1].outcome', code: 'labelled_open' }],
  },
  { name: 'a terminal with a move', def: broken((d) => void (d.stages[2]!.to = ['lost'])), expect: [{ field: 'stages[2].to', code: 'terminal_has_transitions' }] },
  { name: 'a move to an unknown stage', def: broken((d) => void d.stages[1]!.to.push('nowhere')), expect: [{ field: 'stages[1].to[2]', code: 'unknown_stage' }] },
  { name: 'a move to itself', def: broken((d) => void d.stages[1]!.to.push('qualified')), expect: [{ field: 'stages[1].to[2]', code: 'invalid' }] },
  { name: 'a move listed twice', def: broken((d) => void d.stages[1]!.to.push('won')), expect: [{ field: 'stages[1].to[2]', code: 'duplicate_key' }] },
  { name: 'the first stage is won', def: broken((d) => void (d.stages[0]!.outcome = WON)), expect: [{ field: 'stages[0].outcome', code: 'start_not_open' }] },
  { name: 'a guard naming an unknown field', def: broken((d) => void (d.stages[2]!.guard!.requiredFields = ['budget', 'colour'])), expect: [{ field: 'stages[2].guard.required_fields[1]', code: 'unknown_field' }] },
  { name: 'a guard naming a questionnaire', def: broken((d) => void (d.stages[1]!.guard!.questionnaireId = 'q-1')), expect: [{ field: 'stages[1].guard.questionnaire_id', code: 'unknown_questionnaire' }] },
  { name: 'a lost stage without lost reasons', def: broken((d) => void (d.lostReasons = [])), expect: [{ field: 'lost_reasons', code: 'no_lost_reasons' }] },
  { name: 'a lost reason repeated', def: broken((d) => void d.lostReasons.push(' too expensive ')), expect: [{ field: 'lost_reasons[2]', code: 'duplicate_name' }] },
  {
    name: 'a cycle that traps deals',
    def: broken((d) => {
      d.stages[1]!.to.push('limbo');
      d.stages.push(stage('limbo', OPEN, ['purgatory']), stage('purgatory', OPEN, ['limbo']));
    }),
    expect: [{ field: 'stages[4]', code: 'trap_cycle' }],
  },
  { name: '21 moves from one stage', def: stages21(), expect: [{ field: 'stages[0].to', code: 'too_many' }] },
  { name: '51 checklist items', def: broken((d) => void (d.stages[1]!.checklist = Array.from({ length: 51 }, (_, i) => ({ key: `c${i}`, text: `Item ${i}` })))), expect: [{ field: 'stages[1].checklist', code: 'too_many' }] },
  {
    name: '101 fields',
    def: broken((d) => void (d.fields = Array.from({ length: 101 }, (_, i) => ({ key: `f${i}`, label: `F${i}`, type: FieldType.FIELD_TYPE_TEXT, options: [] })))),
    expect: [{ field: 'fields', code: 'too_many' }],
  },
  { name: '101 lost reasons', def: broken((d) => void (d.lostReasons = Array.from({ length: 101 }, (_, i) => `Reason ${i}`))), expect: [{ field: 'lost_reasons', code: 'too_many' }] },
  { name: 'a custom field named like a built-in', def: broken((d) => void (d.fields[0]!.key = 'amount')), expect: [{ field: 'fields[0].key', code: 'duplicate_key' }] },
  {
    name: 'a custom field key repeated',
    def: broken((d) => void d.fields.push({ key: 'budget', label: 'Budget again', type: FieldType.FIELD_TYPE_INTEGER, options: [] })),
    expect: [{ field: 'fields[1].key', code: 'duplicate_key' }],
  },
  { name: 'an enum field without options', def: broken((d) => void (d.fields[0]!.type = FieldType.FIELD_TYPE_ENUM)), expect: [{ field: 'fields[0].options', code: 'required' }] },
  { name: 'a field without a type', def: broken((d) => void (d.fields[0]!.type = FieldType.FIELD_TYPE_UNSPECIFIED)), expect: [{ field: 'fields[0].type', code: 'required' }] },
  { name: 'an unknown currency', def: broken((d) => void (d.defaultCurrency = 'XYZ')), expect: [{ field: 'default_currency', code: 'unknown_currency' }] },
  { name: 'a probability over 100', def: broken((d) => void (d.stages[1]!.probability = 101)), expect: [{ field: 'stages[1].probability', code: 'invalid' }] },
  { name: 'a control character in a stage name', def: broken((d) => void (d.stages[1]!.name = 'Quali\u0000fied')), expect: [{ field: 'stages[1].name', code: 'invalid' }] },
];
