/**
 * The import's mapping step as a draft in sessionStorage (per import), so a reload of the page keeps
 * what the person chose: encoding and delimiter overrides, the header switch and each column's field.
 * Pure functions over a Storage, so they are unit-tested under Node.
 */
import { IMPORT_FIELDS, type ColumnMapping, type ImportFieldName } from './api';

export interface ImportDraft {
  /** '' = detected. */
  encoding: '' | 'utf-8' | 'windows-1251';
  /** '' = detected. */
  delimiter: '' | ',' | ';' | '\t';
  hasHeader: boolean;
  /** The field of each column, by 0-based index. */
  fields: ImportFieldName[];
}

/** What the draft needs of `window.sessionStorage` (declared here: the Node side has no DOM types). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const PREFIX = 'crm.import.draft.';

export function draftKey(importId: string): string {
  return PREFIX + importId;
}

function isField(v: unknown): v is ImportFieldName {
  return typeof v === 'string' && (IMPORT_FIELDS as readonly string[]).includes(v);
}

export function loadDraft(storage: Pick<KeyValueStore, 'getItem'> | undefined, importId: string): ImportDraft | null {
  try {
    const raw = storage?.getItem(draftKey(importId));
    if (!raw) return null;
    const v = JSON.parse(raw) as Partial<ImportDraft>;
    if (!v || typeof v !== 'object' || !Array.isArray(v.fields)) return null;
    return {
      encoding: v.encoding === 'utf-8' || v.encoding === 'windows-1251' ? v.encoding : '',
      delimiter: v.delimiter === ',' || v.delimiter === ';' || v.delimiter === '\t' ? v.delimiter : '',
      hasHeader: v.hasHeader !== false,
      fields: v.fields.map((f) => (isField(f) ? f : 'ignore')),
    };
  } catch {
    return null;
  }
}

export function saveDraft(storage: Pick<KeyValueStore, 'setItem'> | undefined, importId: string, draft: ImportDraft): void {
  try {
    storage?.setItem(draftKey(importId), JSON.stringify(draft));
  } catch {
    // Storage full or disabled: the draft lasts for this page only.
  }
}

export function dropDraft(storage: Pick<KeyValueStore, 'removeItem'> | undefined, importId: string): void {
  try {
    storage?.removeItem(draftKey(importId));
  } catch {
    // Nothing to do.
  }
}

/** One field per column: the draft's choice where it has one, else the suggestion, else "ignore". */
export function fieldsFor(columns: number, suggested: ColumnMapping[], draft: ImportDraft | null): ImportFieldName[] {
  const out: ImportFieldName[] = Array.from({ length: columns }, () => 'ignore');
  for (const m of suggested) if (m.column >= 0 && m.column < columns && isField(m.field)) out[m.column] = m.field;
  if (draft) for (let i = 0; i < columns && i < draft.fields.length; i++) out[i] = draft.fields[i];
  return out;
}

/** The mapping sent to the API: every column that is not ignored. */
export function mappingOf(fields: ImportFieldName[]): ColumnMapping[] {
  return fields.flatMap((field, column) => (field === 'ignore' ? [] : [{ column, field }]));
}

/** What the mapping lacks to import anything: at least one phone, e-mail or messenger column. */
export function mappingProblem(fields: ImportFieldName[]): 'no_point' | 'twice' | null {
  const used = fields.filter((f) => f !== 'ignore');
  if (!used.some((f) => f === 'phone' || f === 'email' || f === 'telegram' || f === 'whatsapp' || f === 'vk')) return 'no_point';
  const once: ImportFieldName[] = ['name', 'first_name', 'last_name', 'company', 'tax_id'];
  if (once.some((f) => used.filter((u) => u === f).length > 1)) return 'twice';
  return null;
}
