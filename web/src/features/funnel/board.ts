/**
 * The board's and the deal page's pure logic (no React, no I/O; unit-tested under Node in
 * test/browser/funnel-logic.test.ts): money in minor units shown and typed in the UI language, the
 * weighted column total, time in a stage in words, the board's filters in the URL, the optimistic move
 * of a card between columns and its revert, and a refused move's reason in words.
 */
import type { BoardColumn, BoardFilters, Deal, Money, Pipeline, Stage } from './api';

/** How many fraction digits `currency` has (RUB 2, JPY 0, …); an unknown code: 2. */
export function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** An amount in minor units as money in `locale` (`1 500,00 ₽`, `RUB 1,500.00`). */
export function formatMoney(amountMinor: number, currency: string, locale: string): string {
  const digits = minorDigits(currency);
  const value = amountMinor / 10 ** digits;
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
  } catch {
    return `${value.toFixed(digits)} ${currency}`;
  }
}

/**
 * What a person typed as an amount (`1 500`, `1500,5`, `1,500.50`) in minor units of `currency`, or
 * null when it is not a non-negative amount with at most the currency's fraction digits.
 */
export function parseAmount(text: string, currency: string): number | null {
  const digits = minorDigits(currency);
  let s = text.replace(/[\s\u00a0\u202f']/g, '');
  if (!s) return null;
  const lastComma = s.lastIndexOf(',');
  const lastDot = s.lastIndexOf('.');
  // The last separator is the decimal one; the other kind groups thousands.
  if (lastComma > lastDot) s = s.replace(/\./g, '').replace(',', '.');
  else s = s.replace(/,/g, '');
  const m = /^(\d+)(?:\.(\d*))?$/.exec(s);
  if (!m) return null;
  const frac = m[2] ?? '';
  if (frac.length > digits) return null;
  const minor = Number(m[1]) * 10 ** digits + Number(frac.padEnd(digits, '0') || '0');
  return Number.isSafeInteger(minor) && minor <= 1e15 ? minor : null;
}

/** Minor units as the text an amount field starts with (`1500.5` → `1500.50`, no grouping). */
export function amountInput(amountMinor: number, currency: string): string {
  const digits = minorDigits(currency);
  return digits ? (amountMinor / 10 ** digits).toFixed(digits) : String(amountMinor);
}

/** A column's totals weighted by its stage's probability (0 or absent: none — the totals as they are). */
export function weightedTotals(totals: Money[], probability: number | undefined): Money[] | null {
  if (!probability || probability <= 0 || probability >= 100) return null;
  return totals.map((m) => ({ currency: m.currency, amount_minor: Math.round((m.amount_minor * probability) / 100) }));
}

const UNITS = {
  ru: { d: 'д', h: 'ч', m: 'мин', less: '< 1 мин' },
  en: { d: 'd', h: 'h', m: 'min', less: '< 1 min' },
} as const;

/** A span of seconds in words, the two largest units (`3 д 4 ч`, `2 h 5 min`, `< 1 min`). */
export function humanDuration(seconds: number, locale: 'ru' | 'en'): string {
  const u = UNITS[locale];
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return u.less;
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3_600);
  const minutes = Math.floor((s % 3_600) / 60);
  if (days) return hours ? `${days} ${u.d} ${hours} ${u.h}` : `${days} ${u.d}`;
  if (hours) return minutes ? `${hours} ${u.h} ${minutes} ${u.m}` : `${hours} ${u.h}`;
  return `${minutes} ${u.m}`;
}

/** Seconds from `iso` to `now` (0 for a time that is not one). */
export function secondsSince(iso: string, now: number = Date.now()): number {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? 0 : Math.max(0, Math.round((now - ms) / 1000));
}

export interface BoardQuery extends BoardFilters {
  pipeline?: string;
}

/** The board's pipeline and filters from the URL query (`?pipeline=&owner=&department=&channel=`). */
export function boardQueryOf(search: URLSearchParams): BoardQuery {
  const get = (k: string) => search.get(k)?.trim() || undefined;
  return { pipeline: get('pipeline'), owner_id: get('owner'), department_id: get('department'), sales_channel: get('channel') };
}

/** `/deals?…` for a pipeline and filters (empty ones left out). */
export function boardHref(q: BoardQuery): string {
  const qs = new URLSearchParams();
  if (q.pipeline) qs.set('pipeline', q.pipeline);
  if (q.owner_id) qs.set('owner', q.owner_id);
  if (q.department_id) qs.set('department', q.department_id);
  if (q.sales_channel) qs.set('channel', q.sales_channel);
  const s = qs.toString();
  return s ? `/deals?${s}` : '/deals';
}

function addMoney(totals: Money[], m: Money, sign: 1 | -1): Money[] {
  const out = totals.map((t) => ({ ...t }));
  const hit = out.find((t) => t.currency === m.currency);
  if (hit) hit.amount_minor = Math.max(0, hit.amount_minor + sign * m.amount_minor);
  else if (sign > 0) out.push({ currency: m.currency, amount_minor: m.amount_minor });
  return out.filter((t) => t.amount_minor > 0);
}

/** Where a deal is on the board (its column's stage), or null. */
export function columnOf(columns: BoardColumn[], dealId: string): string | null {
  return columns.find((c) => c.items.some((d) => d.id === dealId))?.stage ?? null;
}

/**
 * The columns with the deal moved to `toStage` (on top of it), the counts and totals of both columns
 * changed accordingly; `deal` (e.g. the server's answer) replaces the card's data. Unchanged when the
 * deal is not on the board or already there.
 */
export function moveCard(columns: BoardColumn[], dealId: string, toStage: string, deal?: Deal): BoardColumn[] {
  const from = columns.find((c) => c.items.some((d) => d.id === dealId));
  const to = columns.find((c) => c.stage === toStage);
  if (!from || !to || from === to) return deal ? replaceCard(columns, deal) : columns;
  const card = from.items.find((d) => d.id === dealId)!;
  const moved: Deal = deal ?? { ...card, stage: to.stage, stage_name: to.name, state: to.outcome };
  const money = { currency: card.currency, amount_minor: card.amount_minor };
  const movedMoney = { currency: moved.currency, amount_minor: moved.amount_minor };
  return columns.map((c) => {
    if (c === from) return { ...c, count: Math.max(0, c.count - 1), totals: addMoney(c.totals, money, -1), items: c.items.filter((d) => d.id !== dealId) };
    if (c === to) return { ...c, count: c.count + 1, totals: addMoney(c.totals, movedMoney, 1), items: [moved, ...c.items] };
    return c;
  });
}

/** The columns with the card's data replaced by `deal` (in place; counts unchanged). */
export function replaceCard(columns: BoardColumn[], deal: Deal): BoardColumn[] {
  return columns.map((c) => (c.items.some((d) => d.id === deal.id) ? { ...c, items: c.items.map((d) => (d.id === deal.id ? deal : d)) } : c));
}

/** The stages a deal at `stageKey` may move to, in board order (the definition's `to`). */
export function allowedTargets(pipeline: Pipeline, stageKey: string): Stage[] {
  const stage = pipeline.stages.find((s) => s.key === stageKey);
  if (!stage) return [];
  const to = new Set(stage.to);
  return pipeline.stages.filter((s) => to.has(s.key));
}

/** A stage's name in `pipeline`, or its key. */
export function stageName(pipeline: Pipeline | null, key: string): string {
  return pipeline?.stages.find((s) => s.key === key)?.name ?? key;
}

/** The built-in deal fields a guard may require (their label keys are `funnel.deal.field.<name>`). */
export const BUILTIN_FIELDS = ['amount', 'expected_close_date', 'client_card_id', 'company_id', 'owner_id', 'department_id', 'project_id', 'sales_channel', 'contact_ids'] as const;

/** The parts of a refused move's problem (409) the UI explains. */
export interface Refusal {
  detail: string;
  stage?: string;
  allowed?: string[];
  guard?: string;
  missing?: string[];
}

export function refusalOf(problem: object): Refusal {
  const p = problem as Record<string, unknown>;
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);
  return {
    detail: typeof p.detail === 'string' ? p.detail : typeof p.title === 'string' ? p.title : '',
    stage: typeof p.stage === 'string' ? p.stage : undefined,
    allowed: strings(p.allowed),
    guard: typeof p.guard === 'string' ? p.guard : undefined,
    missing: strings(p.missing),
  };
}

export interface RefusalWords {
  allowed: (names: string) => string;
  noneAllowed: string;
  missingFields: (names: string) => string;
  missingChecklist: (names: string) => string;
  /** A built-in field's label (`amount` → "Сумма"), or undefined. */
  builtin: (key: string) => string | undefined;
}

/**
 * A refused move in words (the UI language): the stages allowed from here by name, or the missing
 * fields by label, or the unticked checklist items by text (from the stage the deal leaves); '' when
 * the problem says none of these (its detail then speaks alone).
 */
export function refusalText(r: Refusal, pipeline: Pipeline | null, fromStage: string, words: RefusalWords): string {
  if (r.allowed) return r.allowed.length ? words.allowed(r.allowed.map((k) => stageName(pipeline, k)).join(', ')) : words.noneAllowed;
  if (r.missing?.length && r.guard === 'checklist_complete') {
    const items = pipeline?.stages.find((s) => s.key === fromStage)?.checklist ?? [];
    return words.missingChecklist(r.missing.map((k) => items.find((i) => i.key === k)?.text ?? k).join(', '));
  }
  if (r.missing?.length) return words.missingFields(r.missing.map((k) => pipeline?.fields.find((f) => f.key === k)?.label ?? words.builtin(k) ?? k).join(', '));
  return '';
}

/** A custom field's canonical string from what its input holds, or an error code. */
export function fieldValue(type: string, raw: string, options: string[] = []): { value: string } | { error: 'number' | 'integer' | 'date' | 'option' } {
  const v = raw.trim();
  if (!v) return { value: '' };
  if (type === 'number') {
    const s = v.replace(',', '.');
    return /^-?\d+(\.\d+)?$/.test(s) ? { value: s } : { error: 'number' };
  }
  if (type === 'integer') return /^-?\d+$/.test(v) ? { value: v } : { error: 'integer' };
  if (type === 'date') return /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)) ? { value: v } : { error: 'date' };
  if (type === 'enum') return options.includes(v) ? { value: v } : { error: 'option' };
  if (type === 'boolean') return { value: v === 'true' ? 'true' : 'false' };
  return { value: v };
}
