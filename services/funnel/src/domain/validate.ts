/**
 * A pipeline definition checked as a state machine. Pure: `normalizeDefinition` trims what a person
 * types (names, labels, texts, reasons, options) and fills the defaults; `validateDefinition` reports
 * every problem at once as violations `{field, code, message}` with a path into the definition
 * (`stages[2].to[0]`, `fields[1].key`, `name`) and a code from pipelines.proto's `Violation.code`.
 *
 * What a valid definition is:
 * - limits: 1..100 stages, at most 20 transitions and 50 checklist items per stage, 100 fields, 100 lost
 *   reasons, 100 enum options; names 1..100 characters, checklist texts and lost reasons 1..200; no
 *   control characters anywhere. A list over its limit is reported once (`too_many`) and its items are
 *   not looked at: a 10,000-stage definition costs one comparison, never a graph walk.
 * - keys `[a-z][a-z0-9_]{0,39}`; stage keys, field keys, checklist keys within a stage unique
 *   (`duplicate_key`); stage names unique case-insensitively, lost reasons and enum options too
 *   (`duplicate_name`); a custom field key may not be a built-in deal field (`duplicate_key`).
 * - outcomes: the first stage is OPEN (`start_not_open`); a stage that lists transitions is open and is
 *   labelled OPEN (UNSPECIFIED with transitions is `invalid`); a stage without transitions is a terminal
 *   labelled WON or LOST (UNSPECIFIED without transitions is `unlabelled_terminal`; OPEN without
 *   transitions is `no_way_out`). A WON/LOST stage with transitions is `labelled_open` when some stage
 *   is reachable only through it (it is really an open stage with a terminal's label) and
 *   `terminal_has_transitions` otherwise (a terminal that lists moves it can never make).
 * - transitions name stages of the definition (`unknown_stage`), each once (`duplicate_key`), never the
 *   stage itself (`invalid`).
 * - the graph: every stage reachable from the first (`unreachable`, breadth-first from stages[0]); from
 *   every reachable open stage some terminal reachable — a set of open stages that only lead to one
 *   another is a trap (`trap_cycle`, reported once per such strongly connected set, at its first stage).
 * - a LOST stage needs lost reasons (`no_lost_reasons`).
 * - guards: `required_fields` name built-in deal fields (GUARD_FIELDS) or the definition's custom field
 *   keys (`unknown_field`); `questionnaire_id` is refused until segments exist (`unknown_questionnaire`).
 *   `checklist_complete` on a stage means: a deal may enter it only when the checklist of the stage it
 *   leaves is complete (a stage left without a checklist has nothing to complete, so it passes).
 * - fields: a type from FieldType (`required` when unspecified); enum fields have 1..100 distinct
 *   options (`required` when none), other types none (`invalid`).
 * - `default_currency`: ISO 4217 from ./money.ts (`unknown_currency`); empty is RUB.
 */
import {
  FieldType,
  StageOutcome,
  type FieldDefinition,
  type PipelineDefinition,
  type StageDefinition,
  type StageGuard,
} from '@crm/contracts/crm/funnel/v1/pipelines';
import { DEFAULT_CURRENCY, isCurrency } from './money';

export type ViolationCode =
  | 'duplicate_key'
  | 'duplicate_name'
  | 'unreachable'
  | 'no_way_out'
  | 'unlabelled_terminal'
  | 'labelled_open'
  | 'unknown_stage'
  | 'terminal_has_transitions'
  | 'start_not_open'
  | 'unknown_field'
  | 'unknown_questionnaire'
  | 'no_lost_reasons'
  | 'trap_cycle'
  | 'too_many'
  | 'invalid'
  | 'required'
  | 'unknown_currency';

export interface Violation {
  field: string;
  code: ViolationCode;
  message: string;
}

export const LIMITS = {
  stages: 100,
  transitionsPerStage: 20,
  checklistPerStage: 50,
  fields: 100,
  lostReasons: 100,
  enumOptions: 100,
  /** Built-ins plus every custom field, with room to spare; beyond it the list is certainly repeated. */
  requiredFields: 120,
  nameLength: 100,
  textLength: 200,
} as const;

/** Built-in deal fields a guard may require (a deal "has" them when set: non-zero amount, non-empty list). */
export const GUARD_FIELDS: readonly string[] = Object.freeze([
  'amount',
  'expected_close_date',
  'client_card_id',
  'company_id',
  'owner_id',
  'department_id',
  'project_id',
  'sales_channel',
  'contact_ids',
]);

/** Names a custom field key may not take: the guard built-ins and every other field of a deal. */
export const RESERVED_FIELD_KEYS: ReadonlySet<string> = new Set([
  ...GUARD_FIELDS,
  'id',
  'tenant_id',
  'title',
  'amount_minor',
  'currency',
  'pipeline_id',
  'pipeline_version',
  'stage',
  'stage_name',
  'state',
  'lost_reason',
  'partner_card_id',
  'attribution',
  'origin_request_id',
  'custom_fields',
  'checklist',
  'version',
  'stage_entered_at',
  'closed_at',
  'created_at',
  'updated_at',
  'created_by',
]);

const KEY_RE = /^[a-z][a-z0-9_]{0,39}$/;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

const NO_GUARD: StageGuard = { requiredFields: [], checklistComplete: false, questionnaireId: '' };

const trimmed = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');
const list = <T>(v: T[] | undefined | null): T[] => (Array.isArray(v) ? v : []);

/**
 * The definition as it is stored: names, labels, texts, lost reasons and options trimmed, the guard
 * present, the currency upper-cased (empty: RUB). Keys are kept as given (they must match exactly); no
 * list is deduplicated (a repeat is a violation, not something to hide).
 */
export function normalizeDefinition(def: PipelineDefinition | undefined): PipelineDefinition {
  const d = def ?? { name: '', stages: [], lostReasons: [], fields: [], defaultCurrency: '' };
  return {
    name: trimmed(d.name),
    stages: list(d.stages).map((s) => ({
      key: typeof s.key === 'string' ? s.key : '',
      name: trimmed(s.name),
      outcome: s.outcome ?? StageOutcome.STAGE_OUTCOME_UNSPECIFIED,
      to: list(s.to),
      guard: {
        requiredFields: list(s.guard?.requiredFields),
        checklistComplete: s.guard?.checklistComplete === true,
        questionnaireId: trimmed(s.guard?.questionnaireId),
      },
      checklist: list(s.checklist).map((c) => ({ key: typeof c.key === 'string' ? c.key : '', text: trimmed(c.text) })),
      probability: typeof s.probability === 'number' ? s.probability : 0,
    })),
    lostReasons: list(d.lostReasons).map(trimmed),
    fields: list(d.fields).map((f) => ({
      key: typeof f.key === 'string' ? f.key : '',
      label: trimmed(f.label),
      type: f.type ?? FieldType.FIELD_TYPE_UNSPECIFIED,
      options: list(f.options).map(trimmed),
    })),
    defaultCurrency: trimmed(d.defaultCurrency).toUpperCase() || DEFAULT_CURRENCY,
  };
}

class Report {
  readonly violations: Violation[] = [];
  add(field: string, code: ViolationCode, message: string): void {
    this.violations.push({ field, code, message });
  }
}

const show = (s: string): string => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);

/** A required text of 1..max characters without control characters. False when it is not usable. */
function text(r: Report, field: string, value: string, max: number, what: string): boolean {
  if (!value) {
    r.add(field, 'required', `${what} is required`);
    return false;
  }
  const length = value.length > max ? Array.from(value).length : value.length;
  if (length > max) {
    r.add(field, 'invalid', `${what} is ${length} characters long; at most ${max}`);
    return false;
  }
  if (CONTROL_RE.test(value)) {
    r.add(field, 'invalid', `${what} contains control characters`);
    return false;
  }
  return true;
}

function key(r: Report, field: string, value: string, what: string): boolean {
  if (!value) {
    r.add(field, 'required', `${what} is required`);
    return false;
  }
  if (!KEY_RE.test(value)) {
    r.add(field, 'invalid', `${what} ${show(value)} must be a lower-case letter, then up to 39 lower-case letters, digits or _`);
    return false;
  }
  return true;
}

/** Over the limit: reported once, and the caller skips the items. */
function tooMany(r: Report, field: string, count: number, max: number, what: string): boolean {
  if (count <= max) return false;
  r.add(field, 'too_many', `${count} ${what}; at most ${max}`);
  return true;
}

/** Texts of a list: each valid and unique case-insensitively. */
function distinctTexts(r: Report, path: string, values: string[], max: number, what: string): void {
  const seen = new Map<string, number>();
  values.forEach((v, i) => {
    const field = `${path}[${i}]`;
    if (!text(r, field, v, max, what)) return;
    const folded = v.toLowerCase();
    const first = seen.get(folded);
    if (first !== undefined) r.add(field, 'duplicate_name', `${what} ${show(v)} repeats ${path}[${first}]`);
    else seen.set(folded, i);
  });
}

const FIELD_TYPES = new Set<number>([
  FieldType.FIELD_TYPE_TEXT,
  FieldType.FIELD_TYPE_NUMBER,
  FieldType.FIELD_TYPE_INTEGER,
  FieldType.FIELD_TYPE_BOOLEAN,
  FieldType.FIELD_TYPE_DATE,
  FieldType.FIELD_TYPE_ENUM,
]);

/** Custom fields; returns the keys a guard may name (valid, unique, not built-in). */
function checkFields(r: Report, fields: FieldDefinition[]): Set<string> {
  const keys = new Set<string>();
  if (tooMany(r, 'fields', fields.length, LIMITS.fields, 'fields')) return keys;
  const seen = new Map<string, number>();
  fields.forEach((f, i) => {
    const at = `fields[${i}]`;
    if (key(r, `${at}.key`, f.key, 'a field key')) {
      const first = seen.get(f.key);
      if (RESERVED_FIELD_KEYS.has(f.key)) r.add(`${at}.key`, 'duplicate_key', `field key ${show(f.key)} is a built-in deal field`);
      else if (first !== undefined) r.add(`${at}.key`, 'duplicate_key', `field key ${show(f.key)} repeats fields[${first}].key`);
      else {
        seen.set(f.key, i);
        keys.add(f.key);
      }
    }
    text(r, `${at}.label`, f.label, LIMITS.nameLength, 'a field label');
    if (f.type === FieldType.FIELD_TYPE_UNSPECIFIED) r.add(`${at}.type`, 'required', 'a field type is required (text, number, integer, boolean, date or enum)');
    else if (!FIELD_TYPES.has(f.type)) r.add(`${at}.type`, 'invalid', `field type ${String(f.type)} is unknown`);
    if (f.type === FieldType.FIELD_TYPE_ENUM) {
      if (!f.options.length) r.add(`${at}.options`, 'required', 'an enum field needs at least one option');
      else if (!tooMany(r, `${at}.options`, f.options.length, LIMITS.enumOptions, 'options')) distinctTexts(r, `${at}.options`, f.options, LIMITS.nameLength, 'an option');
    } else if (f.options.length) {
      r.add(`${at}.options`, 'invalid', 'only an enum field has options');
    }
  });
  return keys;
}

const isTerminalLabel = (o: StageOutcome): boolean => o === StageOutcome.STAGE_OUTCOME_WON || o === StageOutcome.STAGE_OUTCOME_LOST;
const KNOWN_OUTCOMES = new Set<number>([StageOutcome.STAGE_OUTCOME_UNSPECIFIED, StageOutcome.STAGE_OUTCOME_OPEN, StageOutcome.STAGE_OUTCOME_WON, StageOutcome.STAGE_OUTCOME_LOST]);

/** Nodes reachable from `from` over `edges` (breadth-first), as a boolean per index. */
function reach(edges: number[][], from: number[]): boolean[] {
  const seen = new Array<boolean>(edges.length).fill(false);
  const queue = [...from];
  for (const f of from) seen[f] = true;
  for (let q = 0; q < queue.length; q++) {
    for (const t of edges[queue[q]!]!) {
      if (!seen[t]) {
        seen[t] = true;
        queue.push(t);
      }
    }
  }
  return seen;
}

/** Every problem of the definition (empty: valid). Give it a normalized definition (normalizeDefinition). */
export function validateDefinition(def: PipelineDefinition): Violation[] {
  const r = new Report();
  text(r, 'name', def.name, LIMITS.nameLength, 'the pipeline name');
  if (!isCurrency(def.defaultCurrency)) r.add('default_currency', 'unknown_currency', `${show(def.defaultCurrency)} is not an ISO 4217 currency code this service knows`);
  if (!tooMany(r, 'lost_reasons', def.lostReasons.length, LIMITS.lostReasons, 'lost reasons')) distinctTexts(r, 'lost_reasons', def.lostReasons, LIMITS.textLength, 'a lost reason');
  const fieldKeys = checkFields(r, def.fields);

  const stages = def.stages;
  if (!stages.length) {
    r.add('stages', 'required', 'a pipeline needs stages: an open one to start at and a won or lost one to end at');
    return r.violations;
  }
  // Cheap refusal before anything per stage: a 10,000-stage definition stops here.
  if (tooMany(r, 'stages', stages.length, LIMITS.stages, 'stages')) return r.violations;

  // Keys and names first: transitions refer to keys.
  const index = new Map<string, number>();
  const names = new Map<string, number>();
  stages.forEach((s, i) => {
    const at = `stages[${i}]`;
    if (key(r, `${at}.key`, s.key, 'a stage key')) {
      const first = index.get(s.key);
      if (first !== undefined) r.add(`${at}.key`, 'duplicate_key', `stage key ${show(s.key)} repeats stages[${first}].key`);
      else index.set(s.key, i);
    }
    if (text(r, `${at}.name`, s.name, LIMITS.nameLength, 'a stage name')) {
      const folded = s.name.toLowerCase();
      const first = names.get(folded);
      if (first !== undefined) r.add(`${at}.name`, 'duplicate_name', `stage name ${show(s.name)} repeats stages[${first}].name`);
      else names.set(folded, i);
    }
  });

  // Each stage alone: outcome, transitions, guard, checklist, probability. `edges` are the valid moves.
  const edges: number[][] = stages.map(() => []);
  let graphComplete = true;
  let hasLost = false;
  stages.forEach((s: StageDefinition, i) => {
    const at = `stages[${i}]`;
    const guard = s.guard ?? NO_GUARD;
    if (s.outcome === StageOutcome.STAGE_OUTCOME_LOST) hasLost = true;
    if (!KNOWN_OUTCOMES.has(s.outcome)) r.add(`${at}.outcome`, 'invalid', `outcome ${String(s.outcome)} is unknown; open, won or lost`);
    else if (i === 0 && s.outcome !== StageOutcome.STAGE_OUTCOME_OPEN) r.add(`${at}.outcome`, 'start_not_open', 'the first stage is where new deals start: it must be open');
    else if (s.outcome === StageOutcome.STAGE_OUTCOME_UNSPECIFIED) {
      if (s.to.length) r.add(`${at}.outcome`, 'invalid', `stage ${show(s.key)} has moves, so it is open: label it open`);
      else r.add(`${at}.outcome`, 'unlabelled_terminal', `stage ${show(s.key)} has no moves, so it ends the pipeline: label it won or lost`);
    } else if (s.outcome === StageOutcome.STAGE_OUTCOME_OPEN && !s.to.length) {
      r.add(`${at}.to`, 'no_way_out', `open stage ${show(s.key)} has no moves: deals would be stuck in it`);
    }

    if (tooMany(r, `${at}.to`, s.to.length, LIMITS.transitionsPerStage, 'moves')) graphComplete = false;
    else {
      const targets = new Set<number>();
      s.to.forEach((t, j) => {
        const field = `${at}.to[${j}]`;
        const target = typeof t === 'string' ? index.get(t) : undefined;
        if (target === undefined) {
          r.add(field, 'unknown_stage', `move to ${show(String(t))}: no stage has that key`);
          graphComplete = false;
        } else if (target === i) r.add(field, 'invalid', `stage ${show(s.key)} cannot move to itself`);
        else if (targets.has(target)) r.add(field, 'duplicate_key', `the move to ${show(t)} is listed twice`);
        else {
          targets.add(target);
          edges[i]!.push(target);
        }
      });
    }

    if (!tooMany(r, `${at}.guard.required_fields`, guard.requiredFields.length, LIMITS.requiredFields, 'required fields')) {
      const seen = new Set<string>();
      guard.requiredFields.forEach((f, k) => {
        const field = `${at}.guard.required_fields[${k}]`;
        if (typeof f !== 'string' || !(GUARD_FIELDS.includes(f) || fieldKeys.has(f))) r.add(field, 'unknown_field', `${show(String(f))} is neither a built-in deal field (${GUARD_FIELDS.join(', ')}) nor a field of this pipeline`);
        else if (seen.has(f)) r.add(field, 'duplicate_key', `${show(f)} is required twice`);
        else seen.add(f);
      });
    }
    if (guard.questionnaireId) r.add(`${at}.guard.questionnaire_id`, 'unknown_questionnaire', 'questionnaires come with segments; none exists yet');

    if (!tooMany(r, `${at}.checklist`, s.checklist.length, LIMITS.checklistPerStage, 'checklist items')) {
      const seen = new Map<string, number>();
      s.checklist.forEach((c, k) => {
        const item = `${at}.checklist[${k}]`;
        if (key(r, `${item}.key`, c.key, 'a checklist item key')) {
          const first = seen.get(c.key);
          if (first !== undefined) r.add(`${item}.key`, 'duplicate_key', `checklist key ${show(c.key)} repeats ${at}.checklist[${first}].key`);
          else seen.set(c.key, k);
        }
        text(r, `${item}.text`, c.text, LIMITS.textLength, 'a checklist item text');
      });
    }
    if (!Number.isInteger(s.probability) || s.probability < 0 || s.probability > 100) r.add(`${at}.probability`, 'invalid', 'probability is a whole percentage 0..100');
  });
  if (hasLost && !def.lostReasons.length) r.add('lost_reasons', 'no_lost_reasons', 'a lost stage needs at least one reason to lose a deal with');

  // The graph, only when every move is known (else its conclusions would be about a different graph).
  if (graphComplete) checkGraph(r, stages, edges);
  return r.violations;
}

function checkGraph(r: Report, stages: StageDefinition[], edges: number[][]): void {
  const n = stages.length;
  const labelledTerminal = stages.map((s) => isTerminalLabel(s.outcome));
  // An end in the graph: a won or lost stage (with moves or not: those are reported below), or a stage
  // without moves that is not labelled open (unlabelled: already reported; counting it as an end avoids
  // reporting the stages before it as trapped too).
  const terminal = stages.map((s, i) => labelledTerminal[i] || (edges[i]!.length === 0 && s.outcome !== StageOutcome.STAGE_OUTCOME_OPEN));
  const reachable = reach(edges, [0]);

  // Won/lost stages that list moves: a pass-through (labelled_open) or a terminal with moves.
  const withoutTerminalMoves = edges.map((e, i) => (labelledTerminal[i] ? [] : e));
  const reachableWithout = reach(withoutTerminalMoves, [0]);
  stages.forEach((s, i) => {
    // The first stage labelled won or lost is start_not_open already.
    if (i === 0 || !labelledTerminal[i] || !s.to.length) return;
    const label = s.outcome === StageOutcome.STAGE_OUTCOME_WON ? 'won' : 'lost';
    const through = reachable[i] && edges[i]!.some((t) => !reachableWithout[t]);
    if (through) r.add(`stages[${i}].outcome`, 'labelled_open', `stage ${show(s.key)} is labelled ${label} but deals go on from it to stages reachable only through it: label it open`);
    else r.add(`stages[${i}].to`, 'terminal_has_transitions', `stage ${show(s.key)} is ${label}, a terminal: it has no moves (reopening a deal is its own action)`);
  });

  stages.forEach((s, i) => {
    if (i > 0 && !reachable[i]) r.add(`stages[${i}]`, 'unreachable', `no sequence of moves from the first stage ${show(stages[0]!.key)} reaches stage ${show(s.key)}`);
  });

  // Traps: reachable open stages from which no terminal can be reached. Reported per strongly connected
  // set with no way out of it (the "bottom" of the trap); stages that merely lead into a trap or into a
  // stage with no moves are covered by that report.
  const reverse: number[][] = stages.map(() => []);
  edges.forEach((e, i) => e.forEach((t) => reverse[t]!.push(i)));
  const endsAt = reach(reverse, terminal.flatMap((t, i) => (t ? [i] : [])));
  const from = Array.from({ length: n }, (_, i) => (reachable[i] && !endsAt[i] && edges[i]!.length ? reach(edges, [i]) : null));
  const reported = new Array<boolean>(n).fill(false);
  for (let i = 0; i < n; i++) {
    const ri = from[i];
    if (!ri || reported[i]) continue;
    const members: number[] = [];
    for (let j = 0; j < n; j++) if (ri[j] && from[j]?.[i]) members.push(j);
    // i is on a cycle when it reaches itself through another stage (members has more than i alone).
    const closed = members.length > 1 && members.every((m) => edges[m]!.every((t) => members.includes(t)));
    for (const m of members) reported[m] = true;
    if (!closed) continue;
    const keys = members.map((m) => stages[m]!.key);
    r.add(`stages[${i}]`, 'trap_cycle', `deals in ${keys.map(show).join(', ')} can only move among them and never reach a won or lost stage: add a move out`);
  }
}
