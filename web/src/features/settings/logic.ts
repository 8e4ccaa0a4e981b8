/** The settings pages' pure logic (no React), unit-tested in test/browser/settings-logic.test.ts. */
import type { AuditEntry, FieldMapping } from './api';

/** The interval index and part a violation's field names (`schedule.hours[2].to`, `hours.2.from`, `hours[1]`). */
export function intervalOfField(field: string): { index: number; part: 'from' | 'to' | 'weekday' | '' } | null {
  const m = /(?:^|\.)hours(?:\[(\d+)\]|\.(\d+))(?:\.(from|to|weekday))?/.exec(field);
  if (!m) return null;
  return { index: Number(m[1] ?? m[2]), part: (m[3] as 'from' | 'to' | 'weekday' | undefined) ?? '' };
}

/** The Monday (YYYY-MM-DD) of the week holding `day`. */
export function mondayOf(day: string): string {
  const [y, m, d] = day.split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  const back = (date.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(y, m - 1, d - back)).toISOString().slice(0, 10);
}

/** `day` (YYYY-MM-DD) plus `n` days. */
export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

const escapeAttr = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** What a customer pastes into their site to post the form here (the first mapped name of each field, else the default). */
export function embedSnippet(origin: string, formId: string, mapping?: FieldMapping): string {
  const field = (target: keyof FieldMapping, fallback: string) => escapeAttr(mapping?.[target]?.[0] || fallback);
  const action = escapeAttr(`${origin}/v1/forms/${encodeURIComponent(formId)}/submissions`);
  return [
    `<form method="post" action="${action}" accept-charset="utf-8">`,
    `  <input name="${field('name', 'name')}" placeholder="Имя">`,
    `  <input name="${field('phone', 'phone')}" type="tel" placeholder="Телефон">`,
    `  <input name="${field('email', 'email')}" type="email" placeholder="E-mail">`,
    `  <textarea name="${field('message', 'message')}"></textarea>`,
    `  <button type="submit">Отправить</button>`,
    `</form>`,
  ].join('\n');
}

/** Comma-separated field names as a list (trimmed, no blanks, no repeats). */
export function parseNames(text: string): string[] {
  return [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))];
}

/** What changed, as one line of text (never more than a few hundred characters). */
export function detailsText(e: Pick<AuditEntry, 'details'>): string {
  const d = e.details;
  if (!d || Object.keys(d).length === 0) return '';
  const text = JSON.stringify(d);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
