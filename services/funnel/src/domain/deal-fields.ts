/**
 * A deal's own fields checked and written in their canonical forms. Pure: the title, custom field values
 * by the pipeline's FieldType, the expected close date, the sales channel (proto enum ↔ the word the
 * table and the events keep), small free texts (comments, attribution), and which fields a stage's
 * guard finds missing on a deal.
 */
import { SalesChannel } from '@crm/contracts/crm/funnel/v1/deals';
import { FieldType, type PipelineDefinition, type StageDefinition } from '@crm/contracts/crm/funnel/v1/pipelines';
import { ValidationError, type FieldViolation } from '@crm/errors';

export const TITLE_MAX = 200;
export const COMMENT_MAX = 500;
export const TEXT_FIELD_MAX = 1000;
export const CONTACT_IDS_MAX = 50;

// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const ANY_CONTROL_RE = /[\u0000-\u001f\u007f]/;
export const KEY_RE = /^[a-z][a-z0-9_]{0,39}$/;

const refuse = (field: string, message: string): never => {
  throw new ValidationError(`${field} ${message}`, [{ field, message }]);
};

/** A title: trimmed, 1..200 characters, one line (no control characters). */
export function dealTitle(raw: string | undefined, field = 'title'): string {
  const v = (raw ?? '').trim();
  if (!v) refuse(field, 'is required');
  if (v.length > TITLE_MAX) refuse(field, `must be at most ${TITLE_MAX} characters`);
  if (ANY_CONTROL_RE.test(v)) refuse(field, 'must not contain control characters');
  return v;
}

/** Free text kept as given (trimmed; '' is null), at most `max` characters, line breaks allowed. */
export function freeText(field: string, raw: string | undefined, max: number): string | null {
  const v = (raw ?? '').trim();
  if (!v) return null;
  if (v.length > max) refuse(field, `must be at most ${max} characters`);
  if (CONTROL_RE.test(v)) refuse(field, 'must not contain control characters');
  return v;
}

/** A stage, checklist item or field key as a caller names it ([a-z][a-z0-9_]{0,39}). */
export function keyArg(field: string, raw: string | undefined): string {
  const v = raw ?? '';
  if (!KEY_RE.test(v)) refuse(field, 'must be a key ([a-z][a-z0-9_]{0,39})');
  return v;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True when `v` is YYYY-MM-DD naming a real day of years 1900..2999. */
export function isRealDate(v: string): boolean {
  const m = DATE_RE.exec(v);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1900 || y > 2999 || mo < 1 || mo > 12 || d < 1) return false;
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return d <= days;
}

/** An expected close date: '' or absent is null, else a real YYYY-MM-DD. */
export function closeDate(raw: string | undefined, field = 'expected_close_date'): string | null {
  const v = (raw ?? '').trim();
  if (!v) return null;
  if (!isRealDate(v)) refuse(field, 'must be a real date YYYY-MM-DD');
  return v;
}

// ---- sales channel --------------------------------------------------------------------------------------

export const CHANNEL_WORDS = ['agents', 'ad_agencies', 'inbound_leadgen', 'cold_sales', 'tech_partners'] as const;
export type ChannelWord = (typeof CHANNEL_WORDS)[number];

const WORD_OF: Partial<Record<SalesChannel, ChannelWord>> = {
  [SalesChannel.SALES_CHANNEL_AGENTS]: 'agents',
  [SalesChannel.SALES_CHANNEL_AD_AGENCIES]: 'ad_agencies',
  [SalesChannel.SALES_CHANNEL_INBOUND_LEADGEN]: 'inbound_leadgen',
  [SalesChannel.SALES_CHANNEL_COLD_SALES]: 'cold_sales',
  [SalesChannel.SALES_CHANNEL_TECH_PARTNERS]: 'tech_partners',
};

/** The word of a channel (null for UNSPECIFIED); an unknown number is INVALID_ARGUMENT. */
export function channelWord(ch: SalesChannel | undefined, field = 'sales_channel'): ChannelWord | null {
  if (ch === undefined || ch === SalesChannel.SALES_CHANNEL_UNSPECIFIED) return null;
  const w = WORD_OF[ch];
  if (!w) refuse(field, 'is not a sales channel');
  return w!;
}

/** The enum of a stored word (UNSPECIFIED for null or anything unknown). */
export function channelOf(word: string | null | undefined): SalesChannel {
  for (const [k, w] of Object.entries(WORD_OF)) if (w === word) return Number(k) as SalesChannel;
  return SalesChannel.SALES_CHANNEL_UNSPECIFIED;
}

// ---- custom fields --------------------------------------------------------------------------------------

const INTEGER_RE = /^-?(0|[1-9]\d{0,17})$/;
const NUMBER_RE = /^-?(0|[1-9]\d{0,17})(\.\d{1,10})?$/;

/**
 * One custom field's value in its canonical form, else the reason it is refused: text trimmed (1..1000,
 * no control characters but line breaks), number a plain decimal with no trailing zeros ("12.50" →
 * "12.5", "-0" → "0"), integer without leading zeros, boolean true/false (any case), date a real
 * YYYY-MM-DD, enum exactly one of the options.
 */
export function canonicalValue(type: FieldType, options: readonly string[], raw: string): { value: string } | { error: string } {
  const v = raw.trim();
  switch (type) {
    case FieldType.FIELD_TYPE_TEXT:
      if (v.length > TEXT_FIELD_MAX) return { error: `must be at most ${TEXT_FIELD_MAX} characters` };
      if (CONTROL_RE.test(v)) return { error: 'must not contain control characters' };
      return { value: v };
    case FieldType.FIELD_TYPE_INTEGER:
      if (!INTEGER_RE.test(v)) return { error: 'must be an integer' };
      return { value: v === '-0' ? '0' : v };
    case FieldType.FIELD_TYPE_NUMBER: {
      if (!NUMBER_RE.test(v)) return { error: 'must be a decimal number like 12.5' };
      let s = v.includes('.') ? v.replace(/0+$/, '').replace(/\.$/, '') : v;
      if (/^-0(\.0*)?$/.test(s)) s = '0';
      return { value: s };
    }
    case FieldType.FIELD_TYPE_BOOLEAN: {
      const l = v.toLowerCase();
      if (l !== 'true' && l !== 'false') return { error: 'must be true or false' };
      return { value: l };
    }
    case FieldType.FIELD_TYPE_DATE:
      if (!isRealDate(v)) return { error: 'must be a real date YYYY-MM-DD' };
      return { value: v };
    case FieldType.FIELD_TYPE_ENUM:
      if (!options.includes(v)) return { error: `must be one of the field's options` };
      return { value: v };
    default:
      return { error: 'has a field type this service does not know' };
  }
}

/**
 * Custom field values of a create or an update checked against the definition's fields: every key a
 * field of the definition, every value canonical. With `allowEmpty` (an update) a value "" means
 * "remove the key" and is returned as null. All problems at once (INVALID_ARGUMENT with violations).
 */
export function customFields(def: PipelineDefinition, raw: Record<string, string> | undefined, opts: { allowEmpty?: boolean } = {}): Record<string, string | null> {
  const entries = Object.entries(raw ?? {});
  if (entries.length > 100) refuse('custom_fields', 'must have at most 100 keys');
  const out: Record<string, string | null> = {};
  const violations: FieldViolation[] = [];
  for (const [key, value] of entries) {
    const field = `custom_fields.${KEY_RE.test(key) ? key : '?'}`;
    const fd = def.fields.find((f) => f.key === key);
    if (!fd) {
      violations.push({ field, message: 'is not a field of the pipeline' });
      continue;
    }
    if (value.trim() === '') {
      if (opts.allowEmpty) out[key] = null;
      // A create simply leaves an empty value out.
      continue;
    }
    const c = canonicalValue(fd.type, fd.options, value);
    if ('error' in c) violations.push({ field, message: c.error });
    else out[key] = c.value;
  }
  if (violations.length) throw new ValidationError(`custom_fields are invalid: ${violations.map((v) => `${v.field} ${v.message}`).join('; ')}`, violations);
  return out;
}

// ---- guards ---------------------------------------------------------------------------------------------

/** What a guard reads of a deal. */
export interface GuardedDeal {
  amount_minor: string | number;
  expected_close_date: string | null;
  client_card_id: string | null;
  company_id: string | null;
  owner_id: string | null;
  department_id: string | null;
  project_id: string | null;
  sales_channel: string | null;
  contact_ids: string[] | null;
  custom_fields: Record<string, string> | null;
}

/** The built-in fields a guard may require and when a deal has them (a non-zero amount, a non-empty list). */
export const BUILTIN_PRESENT: Readonly<Record<string, (d: GuardedDeal) => boolean>> = Object.freeze({
  amount: (d) => Number(d.amount_minor) > 0,
  expected_close_date: (d) => !!d.expected_close_date,
  client_card_id: (d) => !!d.client_card_id,
  company_id: (d) => !!d.company_id,
  owner_id: (d) => !!d.owner_id,
  department_id: (d) => !!d.department_id,
  project_id: (d) => !!d.project_id,
  sales_channel: (d) => !!d.sales_channel,
  contact_ids: (d) => (d.contact_ids ?? []).length > 0,
});

/**
 * The required fields of `stage`'s guard that `deal` lacks, in the guard's order (a built-in by
 * BUILTIN_PRESENT, a custom field when it has a non-empty value; a name that is neither is missing).
 */
export function missingFields(_def: PipelineDefinition, stage: StageDefinition, deal: GuardedDeal): string[] {
  const missing: string[] = [];
  for (const name of stage.guard?.requiredFields ?? []) {
    const builtin = BUILTIN_PRESENT[name];
    const has = builtin ? builtin(deal) : !!(deal.custom_fields ?? {})[name];
    if (!has && !missing.includes(name)) missing.push(name);
  }
  return missing;
}
