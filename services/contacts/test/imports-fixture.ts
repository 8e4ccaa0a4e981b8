/**
 * What the import tests share: a generated contact list with known counts, Windows-1251 encoding, and
 * the upload → analyse → start → done steps over gRPC.
 */
import { ImportField, ImportStatus, ImportsServiceService, type Import } from '@crm/contracts/crm/contacts/v1/imports';
import type { PromiseClient, TenantContext } from '@crm/grpc';
import { eventually } from '@crm/testing';

export type ImportsClient = PromiseClient<typeof ImportsServiceService>;

const CP1251_TABLE = new TextDecoder('windows-1251').decode(Uint8Array.from({ length: 256 }, (_, i) => i));

/** Text → Windows-1251 bytes (Node has the decoder only). */
export function toCp1251(text: string): Buffer {
  return Buffer.from(
    [...text].map((ch) => {
      const b = CP1251_TABLE.indexOf(ch);
      if (b < 0) throw new Error(`not in windows-1251: ${ch}`);
      return b;
    }),
  );
}

const FIRST = ['Иван', 'Пётр', 'Анна', 'Мария', 'Олег', 'Юлия', 'Сергей', 'Ёлка', 'John', 'Zoë'];
const LAST = ['Иванов', 'Петрова', 'Сидоров', 'Кузнецова', 'Smith', 'Ёжиков'];

/** A valid Russian mobile number for n, written one of three ways. */
export function phone(prefix: string, n: number): { written: string; e164: string } {
  const digits = String(n).padStart(7, '0');
  const e164 = `+7${prefix}${digits}`;
  const written = [`8 (${prefix}) ${digits.slice(0, 3)}-${digits.slice(3, 5)}-${digits.slice(5)}`, `+7 ${prefix} ${digits}`, `7${prefix}${digits}`][n % 3]!;
  return { written, e164 };
}

export interface ListSpec {
  rows: number;
  /** Contacts that exist before the import: their phones (prefix 915) and e-mails. */
  existing: number;
}

export interface GeneratedList {
  csv: Buffer;
  expected: { total: number; created: number; duplicates: number; invalid: number; withPoints: number; points: number };
  /** Row numbers (1-based, the header is row 1) of the invalid rows. */
  invalidRows: number[];
}

/** The rows of the pre-existing contacts: name, phone (+7915…), e-mail pre<i>@old.example. */
export function existingList(n: number): Buffer {
  const lines = ['name,phone,email'];
  for (let i = 0; i < n; i++) lines.push(`Старый ${i},${phone('915', i).written},pre${i}@old.example`);
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

/**
 * `ФИО,Телефон,E-mail` rows: of every 20, one invalid (bad phone, bad e-mail or nothing at all), one (the
 * last) a duplicate of an earlier row of the file (its phone, another e-mail), one a duplicate of an existing
 * contact (its phone or its e-mail), one with a name only, the rest new people with a phone and an e-mail.
 */
export function generateList(spec: ListSpec): GeneratedList {
  const lines = ['\ufeffФИО,Телефон,E-mail'];
  const uniquePhones: string[] = [];
  const invalidRows: number[] = [];
  let created = 0;
  let duplicates = 0;
  let withPoints = 0;
  for (let k = 0; k < spec.rows; k++) {
    const row = k + 2;
    const name = `${FIRST[k % FIRST.length]} ${LAST[k % LAST.length]} ${k}`;
    const kind = k % 20;
    if (kind === 0) {
      invalidRows.push(row);
      const bad = (k / 20) % 3;
      lines.push(bad === 0 ? `${name},12-34,` : bad === 1 ? `${name},,ivan@` : ',,');
    } else if (kind === 19) {
      duplicates++;
      // A phone of an earlier new row, up to ~3,000 rows back (often in an earlier batch).
      const ref = uniquePhones[Math.max(0, uniquePhones.length - 1 - ((k * 7) % 2600))]!;
      lines.push(`"${name.toUpperCase()}, дубль",${ref},dup${k}@example.com`);
    } else if (kind === 2 && spec.existing > 0) {
      duplicates++;
      const i = k % spec.existing;
      lines.push((k / 20) % 2 === 0 ? `${name},${phone('915', i).written},` : `${name},,PRE${i}@old.example`);
    } else if (kind === 3) {
      created++;
      lines.push(`${name},,`);
    } else {
      created++;
      withPoints++;
      const p = phone('912', k);
      uniquePhones.push(p.written);
      lines.push(`${name},${p.written},user${k}@Example.com`);
    }
  }
  return {
    csv: Buffer.from(`${lines.join('\n')}\n`),
    expected: { total: spec.rows, created, duplicates, invalid: invalidRows.length, withPoints, points: withPoints * 2 },
    invalidRows,
  };
}

export const CHUNK = 1024 * 1024;

/** Creates the import and uploads the bytes in 1 MiB chunks; returns the import id. */
export async function upload(client: ImportsClient, tenant: TenantContext, fileName: string, bytes: Buffer): Promise<string> {
  const { import: created } = await client.createImport({ fileName, sizeBytes: bytes.length, defaultCountry: 'RU' }, tenant);
  for (let seq = 0, off = 0; off < bytes.length; seq++, off += CHUNK) {
    await client.appendImportChunk({ importId: created!.id, seq, data: bytes.subarray(off, off + CHUNK) }, tenant, { deadlineMs: 30_000 });
  }
  return created!.id;
}

export const NAME_PHONE_EMAIL = [
  { column: 0, field: ImportField.IMPORT_FIELD_NAME },
  { column: 1, field: ImportField.IMPORT_FIELD_PHONE },
  { column: 2, field: ImportField.IMPORT_FIELD_EMAIL },
];

/** Waits for the import to leave `running`. */
export async function finished(client: ImportsClient, tenant: TenantContext, id: string, timeoutMs = 120_000): Promise<Import> {
  const imp = await eventually(async () => (await client.getImport({ id }, tenant)).import!, {
    until: (i) => i.status !== ImportStatus.IMPORT_STATUS_RUNNING,
    timeoutMs,
    intervalMs: 100,
  });
  return imp!;
}

/** Upload, analyse, start; returns the id. */
export async function runImport(client: ImportsClient, tenant: TenantContext, bytes: Buffer, opts: { dryRun?: boolean; fileName?: string } = {}): Promise<string> {
  const id = await upload(client, tenant, opts.fileName ?? 'list.csv', bytes);
  await client.analyseImport({ importId: id, encoding: '', delimiter: '' }, tenant, { deadlineMs: 60_000 });
  await client.startImport({ importId: id, mapping: NAME_PHONE_EMAIL, dryRun: opts.dryRun ?? false }, tenant);
  return id;
}
