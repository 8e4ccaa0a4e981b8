/**
 * The pipeline editor's model, pure (no React, no I/O; unit-tested in test/browser/funnel-editor-logic.test.ts):
 * the draft as the editor holds it (stages, checklist items and fields with local ids, so moves survive a
 * renamed key), keys made from names (Russian transliterated), the definition the API takes, the place of
 * each server violation next to its field, the template pipeline, and amounts typed in major units.
 */
import type { FieldType, Pipeline, PipelineDefinition, StageOutcome, Violation } from './editor-api';

/** Deal fields a guard may require besides the pipeline's custom fields (pipelines.proto, StageGuard). */
export const BUILTIN_FIELDS = ['amount', 'expected_close_date', 'client_card_id', 'company_id', 'owner_id', 'department_id', 'project_id', 'sales_channel', 'contact_ids'] as const;
export const OUTCOMES: readonly StageOutcome[] = ['open', 'won', 'lost'];
export const FIELD_TYPES: readonly FieldType[] = ['text', 'number', 'integer', 'boolean', 'date', 'enum'];
/** Offered in the currency box (any ISO 4217 code may be typed; the server checks it). */
export const COMMON_CURRENCIES = ['RUB', 'USD', 'EUR', 'CNY', 'KZT', 'BYN', 'UZS', 'AMD', 'GEL', 'AZN', 'KGS', 'TRY', 'AED', 'GBP', 'INR'] as const;
/** Every violation code of pipelines.proto (`Violation.code`): each has a text in both languages. */
export const VIOLATION_CODES = [
  'duplicate_key',
  'duplicate_name',
  'unreachable',
  'no_way_out',
  'unlabelled_terminal',
  'labelled_open',
  'unknown_stage',
  'terminal_has_transitions',
  'start_not_open',
  'unknown_field',
  'unknown_questionnaire',
  'no_lost_reasons',
  'trap_cycle',
  'too_many',
  'invalid',
  'required',
  'unknown_currency',
] as const;

export const KEY_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;

export interface Keyed {
  /** A local id (React keys, references between stages); never sent. */
  uid: string;
  key: string;
  /** The key is stored already (stable across versions): not editable. */
  keyLocked: boolean;
  /** Typed by hand: no longer follows the name. */
  keyEdited: boolean;
}

export interface DraftItem extends Keyed {
  text: string;
}

export interface DraftStage extends Keyed {
  name: string;
  outcome: StageOutcome | '';
  /** uids of the stages a deal may move to. */
  to: string[];
  required_fields: string[];
  checklist_complete: boolean;
  checklist: DraftItem[];
  probability: string;
}

export interface DraftField extends Keyed {
  label: string;
  type: FieldType;
  /** Enum options, one per line. */
  options: string;
}

export interface DraftReason {
  uid: string;
  text: string;
}

export interface Draft {
  name: string;
  default_currency: string;
  stages: DraftStage[];
  lost_reasons: DraftReason[];
  fields: DraftField[];
}

let seq = 0;
export function uid(): string {
  seq += 1;
  return `u${seq.toString(36)}`;
}

const RU: Record<string, string> = {
  а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ё: 'e', ж: 'zh', з: 'z', и: 'i', й: 'y', к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r',
  с: 's', т: 't', у: 'u', ф: 'f', х: 'kh', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'shch', ъ: '', ы: 'y', ь: '', э: 'e', ю: 'yu', я: 'ya',
};

/** A key from a name: `Квалификация` → `kvalifikatsiya`, `Won deal!` → `won_deal` ('' when nothing is left). */
export function slug(text: string): string {
  let out = '';
  for (const ch of text.toLowerCase()) out += RU[ch] ?? ch;
  out = out
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (out && !/^[a-z]/.test(out)) out = `s_${out}`;
  return out.slice(0, 40).replace(/_+$/, '');
}

/** `slug(text)` (or `fallback`) made unique among `taken` with `_2`, `_3`, … */
export function uniqueKey(text: string, taken: Iterable<string>, fallback: string): string {
  const used = new Set(taken);
  const base = slug(text) || fallback;
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base.slice(0, 40 - String(n).length - 1)}_${n}`;
    if (!used.has(candidate)) return candidate;
  }
}

/** Re-derives the keys that still follow their names (new, never typed by hand), unique within the list. */
export function rekey<T extends Keyed>(list: T[], textOf: (x: T) => string, fallback: (i: number) => string): T[] {
  const fixed = list.filter((x) => x.keyLocked || x.keyEdited).map((x) => x.key);
  const taken = new Set(fixed);
  return list.map((x, i) => {
    if (x.keyLocked || x.keyEdited) return x;
    const key = uniqueKey(textOf(x), taken, fallback(i + 1));
    taken.add(key);
    return key === x.key ? x : { ...x, key };
  });
}

export function newStage(name = '', outcome: StageOutcome | '' = ''): DraftStage {
  return { uid: uid(), key: '', keyLocked: false, keyEdited: false, name, outcome, to: [], required_fields: [], checklist_complete: false, checklist: [], probability: '' };
}

export function newItem(text = ''): DraftItem {
  return { uid: uid(), key: '', keyLocked: false, keyEdited: false, text };
}

export function newField(): DraftField {
  return { uid: uid(), key: '', keyLocked: false, keyEdited: false, label: '', type: 'text', options: '' };
}

/** Keys of every new stage, checklist item and field made again from their names. */
export function withKeys(d: Draft): Draft {
  const stages = rekey(d.stages, (s) => s.name, (i) => `stage_${i}`).map((s) => ({ ...s, checklist: rekey(s.checklist, (c) => c.text, (i) => `item_${i}`) }));
  return { ...d, stages, fields: rekey(d.fields, (f) => f.label, (i) => `field_${i}`) };
}

export function emptyDraft(): Draft {
  return withKeys({ name: '', default_currency: 'RUB', stages: [newStage('', 'open')], lost_reasons: [], fields: [] });
}

const CURRENCY = /^[A-Z]{3}$/;

/** A probability as typed: '' (none) or a whole percentage 0..100. */
function probabilityOf(text: string): number | null {
  const t = text.trim();
  if (t === '') return 0;
  return /^\d{1,3}$/.test(t) && Number(t) <= 100 ? Number(t) : null;
}

/**
 * What the editor checks itself because the API's schema would refuse the whole body for it (no
 * violations then): a currency that is not three letters, a probability that is not 0..100.
 */
export function localViolations(d: Draft): Violation[] {
  const out: Violation[] = [];
  if (!CURRENCY.test(d.default_currency.trim().toUpperCase())) out.push({ field: 'default_currency', code: 'unknown_currency', message: '' });
  d.stages.forEach((s, i) => {
    if (probabilityOf(s.probability) === null) out.push({ field: `stages[${i}].probability`, code: 'invalid', message: '' });
  });
  return out;
}

/**
 * The definition the API takes: moves by key in board order, blank lines dropped, numbers as numbers;
 * what `localViolations` reports is left out (the server's defaults), so the rest is still checked.
 */
export function toDefinition(d: Draft): PipelineDefinition {
  const keyOf = new Map(d.stages.map((s) => [s.uid, s.key]));
  const currency = d.default_currency.trim().toUpperCase();
  return {
    name: d.name.trim(),
    ...(CURRENCY.test(currency) ? { default_currency: currency } : {}),
    lost_reasons: d.lost_reasons.map((r) => r.text.trim()),
    fields: d.fields.map((f) => ({
      key: f.key,
      label: f.label.trim(),
      type: f.type,
      options: f.type === 'enum' ? f.options.split('\n').map((o) => o.trim()).filter(Boolean) : [],
    })),
    stages: d.stages.map((s) => {
      const probability = probabilityOf(s.probability);
      return {
        key: s.key,
        name: s.name.trim(),
        ...(s.outcome ? { outcome: s.outcome } : {}),
        to: d.stages.filter((t) => t.uid !== s.uid && s.to.includes(t.uid)).map((t) => keyOf.get(t.uid) ?? ''),
        guard: { required_fields: s.required_fields, checklist_complete: s.checklist_complete },
        checklist: s.checklist.map((c) => ({ key: c.key, text: c.text.trim() })),
        ...(probability !== null ? { probability } : {}),
      };
    }),
  };
}

/** A stored pipeline as a draft: every key it has is locked (deals and history refer to it). */
export function fromPipeline(p: Pipeline): Draft {
  const stages = p.stages.map((s) => ({
    uid: uid(),
    key: s.key,
    keyLocked: true,
    keyEdited: false,
    name: s.name,
    outcome: (s.outcome ?? '') as StageOutcome | '',
    to: [] as string[],
    required_fields: [...(s.guard?.required_fields ?? [])],
    checklist_complete: !!s.guard?.checklist_complete,
    checklist: (s.checklist ?? []).map((c) => ({ uid: uid(), key: c.key, keyLocked: true, keyEdited: false, text: c.text })),
    probability: s.probability ? String(s.probability) : '',
  }));
  const uidOf = new Map(stages.map((s) => [s.key, s.uid]));
  p.stages.forEach((s, i) => {
    stages[i].to = (s.to ?? []).map((k) => uidOf.get(k)).filter((x): x is string => !!x);
  });
  return {
    name: p.name,
    default_currency: p.default_currency || 'RUB',
    stages,
    lost_reasons: (p.lost_reasons ?? []).map((text) => ({ uid: uid(), text })),
    fields: (p.fields ?? []).map((f) => ({ uid: uid(), key: f.key, keyLocked: true, keyEdited: false, label: f.label, type: f.type, options: (f.options ?? []).join('\n') })),
  };
}

interface TemplateWords {
  name: string;
  stages: [string, string, string, string, string, string];
  reasons: string[];
  checklist: [string, string];
  field: string;
}

const TEMPLATE: Record<'ru' | 'en', TemplateWords> = {
  ru: {
    name: 'Продажи B2B',
    stages: ['Новая', 'Квалификация', 'Предложение', 'Переговоры', 'Выиграна', 'Проиграна'],
    reasons: ['Дорого', 'Выбрали конкурента', 'Нет бюджета', 'Не отвечает', 'Неактуально'],
    checklist: ['Выяснить потребность и сроки', 'Найти лицо, принимающее решение'],
    field: 'Источник бюджета',
  },
  en: {
    name: 'B2B sales',
    stages: ['New', 'Qualification', 'Proposal', 'Negotiation', 'Won', 'Lost'],
    reasons: ['Too expensive', 'Chose a competitor', 'No budget', 'Not responding', 'No longer relevant'],
    checklist: ['Learn the need and the timing', 'Find the decision maker'],
    field: 'Budget source',
  },
};

/**
 * A B2B pipeline to start from: New → Qualification → Proposal → Negotiation → Won / Lost, a checklist
 * at qualification that must be complete to leave it for the proposal, the amount required from
 * negotiation on, the usual reasons to lose. Stage keys are English words in both languages.
 */
export function templateDraft(locale: 'ru' | 'en'): Draft {
  const w = TEMPLATE[locale];
  const keys = ['new', 'qualification', 'proposal', 'negotiation', 'won', 'lost'];
  const stages = keys.map((key, i) => ({ ...newStage(w.stages[i], i < 4 ? 'open' : i === 4 ? 'won' : 'lost'), key, keyEdited: true }));
  const [nw, qual, prop, neg, won, lost] = stages;
  nw.to = [qual.uid, lost.uid];
  qual.to = [prop.uid, lost.uid];
  qual.checklist = [
    { ...newItem(w.checklist[0]), key: 'need', keyEdited: true },
    { ...newItem(w.checklist[1]), key: 'decision_maker', keyEdited: true },
  ];
  prop.to = [qual.uid, neg.uid, lost.uid];
  prop.checklist_complete = true;
  neg.to = [prop.uid, won.uid, lost.uid];
  neg.required_fields = ['amount'];
  won.required_fields = ['amount'];
  [nw.probability, qual.probability, prop.probability, neg.probability, won.probability, lost.probability] = ['10', '25', '50', '75', '100', '0'];
  return {
    name: w.name,
    default_currency: 'RUB',
    stages,
    lost_reasons: w.reasons.map((text) => ({ uid: uid(), text })),
    fields: [{ ...newField(), key: 'budget_source', keyEdited: true, label: w.field }],
  };
}

/** `lostReasons[0]` → `lost_reasons[0]` (the service may speak its proto's camelCase). */
function snake(path: string): string {
  return path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The prefixes of a path, longest first: `stages[2].to[0]` → itself, `stages[2].to`, `stages[2]`, `stages`. */
export function prefixes(path: string): string[] {
  const out = [path];
  for (let i = path.length - 1; i > 0; i--) if (path[i] === '.' || path[i] === '[') out.push(path.slice(0, i));
  return out;
}

/**
 * Violations grouped by the field the editor shows them next to: the longest prefix of the violation's
 * path among `slots` (`''` when none: shown above the form).
 */
export function placeViolations(violations: Violation[], slots: ReadonlySet<string>): Map<string, Violation[]> {
  const out = new Map<string, Violation[]>();
  for (const v of violations) {
    const slot = prefixes(snake(v.field ?? '')).find((p) => slots.has(p)) ?? '';
    out.set(slot, [...(out.get(slot) ?? []), v]);
  }
  return out;
}

/** Every place of a draft a violation can be shown at. */
export function slotsOf(d: Draft): Set<string> {
  const s = new Set(['name', 'default_currency', 'stages', 'lost_reasons', 'fields']);
  d.stages.forEach((st, i) => {
    for (const part of ['', '.key', '.name', '.outcome', '.to', '.guard', '.checklist', '.probability']) s.add(`stages[${i}]${part}`);
    st.checklist.forEach((_, j) => s.add(`stages[${i}].checklist[${j}]`));
  });
  d.lost_reasons.forEach((_, i) => s.add(`lost_reasons[${i}]`));
  d.fields.forEach((_, i) => {
    for (const part of ['', '.key', '.label', '.type', '.options']) s.add(`fields[${i}]${part}`);
  });
  return s;
}

/** Digits after the point of a currency (RUB 2, JPY 0); 2 when the browser does not know it. */
export function fractionDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

export const MAX_AMOUNT_MINOR = 1_000_000_000_000_000;

/**
 * An amount typed in major units (`1 500,50`, `1500.5`, `1500`) as integer minor units; '' is no amount.
 * Digits only, at most `digits` after the point (two for most currencies), at most 10^15 minor units.
 */
export function parseAmount(text: string, digits = 2): { ok: true; minor: number | undefined } | { ok: false; error: 'format' | 'decimals' | 'tooLarge' } {
  const s = text.replace(/[\s\u00a0\u202f]/g, '');
  if (!s) return { ok: true, minor: undefined };
  const m = /^(\d+)(?:[.,](\d+))?$/.exec(s);
  if (!m) return { ok: false, error: 'format' };
  const frac = m[2] ?? '';
  if (frac.length > digits) return { ok: false, error: 'decimals' };
  const whole = m[1].replace(/^0+(?=\d)/, '');
  if (whole.length > 16) return { ok: false, error: 'tooLarge' };
  const minor = Number(whole) * 10 ** digits + Number(frac.padEnd(digits, '0') || '0');
  if (!Number.isSafeInteger(minor) || minor > MAX_AMOUNT_MINOR) return { ok: false, error: 'tooLarge' };
  return { ok: true, minor };
}

/** Minor units shown in the user's language with the currency (`150 000,50 ₽`). */
export function formatAmount(minor: number, currency: string, locale: string): string {
  const digits = fractionDigits(currency);
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: 0, maximumFractionDigits: digits }).format(minor / 10 ** digits);
  } catch {
    return `${minor / 10 ** digits} ${currency}`;
  }
}
