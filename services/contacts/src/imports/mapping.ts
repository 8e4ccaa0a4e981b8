import { normaliseEmail, normalisePhone, normaliseSocial, phoneDigits } from '@crm/contact-points';
import { ImportField, type ColumnMapping } from '@crm/contracts/crm/contacts/v1/imports';
import { ValidationError, type FieldViolation } from '@crm/errors';
import type { CountryCode } from 'libphonenumber-js';
import { isValidInn } from '../domain/inn';

/** Column mapping of an import and the conversion of one CSV row into a contact (pure; unit-tested). */
export type FieldName = 'name' | 'first_name' | 'last_name' | 'phone' | 'email' | 'company' | 'tax_id' | 'telegram' | 'whatsapp' | 'vk';

const FIELD_BY_PROTO: Partial<Record<ImportField, FieldName>> = {
  [ImportField.IMPORT_FIELD_NAME]: 'name',
  [ImportField.IMPORT_FIELD_FIRST_NAME]: 'first_name',
  [ImportField.IMPORT_FIELD_LAST_NAME]: 'last_name',
  [ImportField.IMPORT_FIELD_PHONE]: 'phone',
  [ImportField.IMPORT_FIELD_EMAIL]: 'email',
  [ImportField.IMPORT_FIELD_COMPANY]: 'company',
  [ImportField.IMPORT_FIELD_TAX_ID]: 'tax_id',
  [ImportField.IMPORT_FIELD_TELEGRAM]: 'telegram',
  [ImportField.IMPORT_FIELD_WHATSAPP]: 'whatsapp',
  [ImportField.IMPORT_FIELD_VK]: 'vk',
};
const PROTO_BY_FIELD = Object.fromEntries(Object.entries(FIELD_BY_PROTO).map(([k, v]) => [v, Number(k)])) as Record<FieldName, ImportField>;

/** The stored mapping: column index → field (ignored columns are left out). */
export type Mapping = { column: number; field: FieldName }[];

export function mappingToProto(m: Mapping | null, columns: number): ColumnMapping[] {
  const byColumn = new Map((m ?? []).map((c) => [c.column, c.field]));
  const out: ColumnMapping[] = [];
  for (let column = 0; column < columns; column++) {
    const f = byColumn.get(column);
    out.push({ column, field: f ? PROTO_BY_FIELD[f] : ImportField.IMPORT_FIELD_IGNORE });
  }
  for (const c of m ?? []) if (c.column >= columns) out.push({ column: c.column, field: PROTO_BY_FIELD[c.field] });
  return out;
}

const IDENTIFYING: FieldName[] = ['name', 'first_name', 'last_name', 'phone', 'email', 'telegram', 'whatsapp', 'vk'];

/**
 * Validates a mapping from StartImport: columns 0..columns-1, each once; a field (other than ignore) on
 * at most one column; at least one of name/first/last name, phone, e-mail or a messenger.
 */
export function validateMapping(raw: ColumnMapping[], columns: number): Mapping {
  const violations: FieldViolation[] = [];
  const seenColumns = new Set<number>();
  const seenFields = new Map<FieldName, number>();
  const out: Mapping = [];
  raw.forEach((c, i) => {
    if (!Number.isInteger(c.column) || c.column < 0 || c.column >= columns) {
      violations.push({ field: `mapping[${i}].column`, message: `must be 0..${columns - 1} (the file has ${columns} columns)` });
      return;
    }
    if (seenColumns.has(c.column)) violations.push({ field: `mapping[${i}].column`, message: `column ${c.column} is mapped twice` });
    seenColumns.add(c.column);
    if (c.field === ImportField.IMPORT_FIELD_IGNORE) return;
    const f = FIELD_BY_PROTO[c.field];
    if (!f) {
      violations.push({ field: `mapping[${i}].field`, message: 'must be a known field (or ignore)' });
      return;
    }
    const other = seenFields.get(f);
    if (other !== undefined) violations.push({ field: `mapping[${i}].field`, message: `${f} is already mapped to column ${other}` });
    seenFields.set(f, c.column);
    out.push({ column: c.column, field: f });
  });
  if (!violations.length && !out.some((c) => IDENTIFYING.includes(c.field))) {
    violations.push({ field: 'mapping', message: 'map at least one of name, phone, e-mail or a messenger' });
  }
  if (violations.length) throw new ValidationError('invalid mapping', violations);
  return out.sort((a, b) => a.column - b.column);
}

/** Header names (lower-cased, letters and digits only) → field. */
const HEADER_WORDS: [FieldName, string[]][] = [
  ['name', ['имя', 'фио', 'name', 'fullname', 'имяфамилия', 'фамилияимя', 'фамилияимяотчество', 'контакт', 'контактноелицо', 'клиент', 'contact', 'contactname', 'person']],
  ['first_name', ['firstname', 'givenname', 'first']],
  ['last_name', ['фамилия', 'lastname', 'surname', 'familyname', 'last']],
  ['phone', ['телефон', 'тел', 'phone', 'phonenumber', 'мобильный', 'мобильныйтелефон', 'моб', 'сотовый', 'номер', 'номертелефона', 'tel', 'telephone', 'mobile', 'cell']],
  ['email', ['email', 'mail', 'почта', 'эпочта', 'элпочта', 'электроннаяпочта', 'емейл', 'емэйл', 'имейл', 'emailaddress']],
  ['company', ['компания', 'организация', 'фирма', 'company', 'organization', 'organisation', 'companyname', 'названиекомпании']],
  ['tax_id', ['инн', 'inn', 'taxid', 'tin', 'vat', 'innкомпании']],
  ['telegram', ['telegram', 'телеграм', 'телеграмм', 'tg']],
  ['whatsapp', ['whatsapp', 'ватсап', 'вотсап', 'вацап', 'wa']],
  ['vk', ['vk', 'вк', 'вконтакте', 'vkontakte']],
];
const WORD_TO_FIELD = new Map<string, FieldName>(HEADER_WORDS.flatMap(([f, words]) => words.map((w) => [w, f] as [string, FieldName])));

const headerKey = (h: string) => h.toLowerCase().replace(/ё/g, 'е').replace(/[^\p{L}\p{N}]/gu, '');

/**
 * A suggested mapping from the header (Russian or English names) and, for columns the header does not
 * name, from the sample's values (e-mails, phones). With both `Имя` and `Фамилия`, `Имя` is the first name.
 */
export function suggestMapping(header: string[] | null, sample: string[][], columns: number, country: CountryCode): ColumnMapping[] {
  const fields: (FieldName | null)[] = Array.from({ length: columns }, () => null);
  const used = new Set<FieldName>();
  if (header) {
    const keys = header.map(headerKey);
    const hasLast = keys.some((k) => WORD_TO_FIELD.get(k) === 'last_name');
    keys.forEach((k, i) => {
      if (i >= columns) return;
      let f = WORD_TO_FIELD.get(k) ?? null;
      if (f === 'name' && k === 'имя' && hasLast) f = 'first_name';
      if (f && !used.has(f)) {
        fields[i] = f;
        used.add(f);
      }
    });
  }
  for (let i = 0; i < columns; i++) {
    if (fields[i]) continue;
    const values = sample.map((r) => (r[i] ?? '').trim()).filter(Boolean);
    if (!values.length) continue;
    const all = (ok: (v: string) => boolean) => values.filter(ok).length >= Math.ceil(values.length * 0.8);
    let f: FieldName | null = null;
    if (all((v) => normaliseEmail(v).ok)) f = 'email';
    else if (all((v) => normalisePhone(v, country).ok)) f = 'phone';
    if (f && !used.has(f)) {
      fields[i] = f;
      used.add(f);
    }
  }
  return fields.map((f, column) => ({ column, field: f ? PROTO_BY_FIELD[f] : ImportField.IMPORT_FIELD_IGNORE }));
}

export type PointType = 'phone' | 'email' | 'social';
export interface RowPoint {
  type: PointType;
  value: string;
  network: string | null;
  digits: string | null;
}
export interface ContactRow {
  name: string | null;
  points: RowPoint[];
  company: string | null;
  taxId: string | null;
}
export type Converted = { ok: true; row: ContactRow } | { ok: false; reason: string };

export const NAME_MAX = 200;
export const COMPANY_MAX = 300;

/**
 * A messenger cell as people write it: a link (t.me/…, vk.com/…, wa.me/…) reduced to its id, a WhatsApp
 * phone's spaces and brackets dropped; then the shared rule (@crm/contact-points normaliseSocial).
 */
export function socialPoint(network: 'telegram' | 'whatsapp' | 'vk', raw: string): { ok: true; value: string } | { ok: false; problem: string } {
  let id = raw.trim().replace(/^https?:\/\//i, '').replace(/^(www\.)?(t\.me|telegram\.me|vk\.com|m\.vk\.com|wa\.me)\//i, '').replace(/\/+$/, '');
  if (network === 'whatsapp') id = id.replace(/[\s()-]/g, '');
  const r = normaliseSocial(network, id);
  return r.ok ? { ok: true, value: r.value } : { ok: false, problem: r.problem };
}

const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();

/** One CSV row (its decoded cells) as a contact, or the reason it is invalid. */
export function convertRow(cells: string[], mapping: Mapping, country: CountryCode): Converted {
  let name = '';
  let first = '';
  let last = '';
  let company: string | null = null;
  let taxId: string | null = null;
  const points: RowPoint[] = [];
  for (const { column, field } of mapping) {
    const cell = cells[column];
    if (cell === undefined) continue;
    const v = cell.trim();
    if (!v) continue;
    switch (field) {
      case 'name':
        name = collapse(v);
        break;
      case 'first_name':
        first = collapse(v);
        break;
      case 'last_name':
        last = collapse(v);
        break;
      case 'phone': {
        const p = normalisePhone(v, country);
        if (!p.ok) return { ok: false, reason: `phone "${clip(v)}" ${p.problem}` };
        points.push({ type: 'phone', value: p.value, network: null, digits: phoneDigits(p.value) });
        break;
      }
      case 'email': {
        const e = normaliseEmail(v);
        if (!e.ok) return { ok: false, reason: `e-mail "${clip(v)}" ${e.problem}` };
        points.push({ type: 'email', value: e.value, network: null, digits: null });
        break;
      }
      case 'telegram':
      case 'whatsapp':
      case 'vk': {
        const s = socialPoint(field, v);
        if (!s.ok) return { ok: false, reason: `${field} "${clip(v)}" ${s.problem}` };
        points.push({ type: 'social', value: s.value, network: field, digits: null });
        break;
      }
      case 'company':
        company = collapse(v);
        if (company.length > COMPANY_MAX) return { ok: false, reason: `company must be at most ${COMPANY_MAX} characters` };
        break;
      case 'tax_id': {
        const inn = v.replace(/[\s-]/g, '');
        if (!isValidInn(inn)) return { ok: false, reason: `tax id (INN) "${clip(v)}" is not 10 or 12 digits with valid check digits` };
        taxId = inn;
        break;
      }
    }
  }
  const fullName = name || collapse(`${first} ${last}`);
  if (fullName.length > NAME_MAX) return { ok: false, reason: `name must be at most ${NAME_MAX} characters` };
  if (!fullName && !points.length) return { ok: false, reason: 'no name, phone, e-mail or messenger' };
  if (taxId && !company) company = `ИНН ${taxId}`;
  // One contact may list the same point twice (two phone columns are not mapped, but e.g. a vk link and id).
  const unique = points.filter((p, i) => points.findIndex((q) => q.type === p.type && q.value === p.value) === i);
  return { ok: true, row: { name: fullName || null, points: unique, company, taxId } };
}

function clip(v: string): string {
  return v.length > 40 ? `${v.slice(0, 40)}…` : v;
}
