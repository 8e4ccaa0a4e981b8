/**
 * CSV import and export against the real engines over real gRPC (the service in-process, a fresh
 * database, per-run topics), always with two tenants: a 100,000-row list with invalid and duplicate rows
 * lands exactly once with exact counts; Windows-1251; the refusals (UTF-16, binary, a 10 MB cell, a
 * 2 GB file, a bad mapping); a dry run; cancel; the export.
 */
import { ExportList, ImportField, ImportStatus, ImportsServiceService } from '@crm/contracts/crm/contacts/v1/imports';
import { createClient, status, type ServiceError, type TenantContext } from '@crm/grpc';
import type { RunningService } from '@crm/service';
import { uniqueName, type TestDatabase } from '@crm/testing';
import type { Kafka } from 'kafkajs';
import { startTestContacts, stopTestContacts } from './harness';
import { existingList, finished, generateList, NAME_PHONE_EMAIL, runImport, toCp1251, upload, type ImportsClient } from './imports-fixture';

const tenantA: TenantContext = { tenantId: uniqueName('tenant_a'), callerId: 'user-a', callerKind: 'user' };
const tenantB: TenantContext = { tenantId: uniqueName('tenant_b'), callerId: 'user-b', callerKind: 'user' };
const tenantC: TenantContext = { tenantId: uniqueName('tenant_c'), callerId: 'user-c', callerKind: 'user' };
const suffix = `.${uniqueName('imports')}`;

let db: TestDatabase;
let kafka: Kafka;
let svc: RunningService;
let client: ImportsClient;

beforeAll(async () => {
  ({ db, kafka, svc } = await startTestContacts('imports', suffix));
  client = createClient(ImportsServiceService, { address: `127.0.0.1:${svc.grpc.port}`, defaultDeadlineMs: 30_000 });
}, 60_000);

afterAll(async () => {
  client?.close();
  await stopTestContacts({ db, kafka, svc }, suffix);
});

async function failure(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

async function one<T = number>(sql: string, params: unknown[] = []): Promise<T> {
  const rows = await svc.orm!.em.fork().execute<Record<string, T>[]>(sql, params);
  return Object.values(rows[0]!)[0]!;
}

const countOf = (sql: string, params: unknown[] = []) => one<number>(`SELECT count(*)::int AS n FROM ${sql}`, params);

describe('CSV import', () => {
  it('imports 100,000 rows with 5 % invalid and 10 % duplicate rows: exact counts, every valid row once', async () => {
    // The contacts that exist before: most from an earlier import, a few written by another path.
    const pre = await runImport(client, tenantA, existingList(5000), { fileName: 'old.csv' });
    expect((await finished(client, tenantA, pre)).counts).toMatchObject({ created: 5000, duplicates: 0, invalid: 0 });

    const list = generateList({ rows: 100_000, existing: 5000 });
    expect(list.expected).toMatchObject({ total: 100_000, invalid: 5000, duplicates: 10_000, created: 85_000 });
    const started = performance.now();
    const id = await runImport(client, tenantA, list.csv, { fileName: 'cold-base.csv' });
    // Progress is visible while it runs.
    const seen = new Set<number>();
    let imp = (await client.getImport({ id }, tenantA)).import!;
    while (imp.status === ImportStatus.IMPORT_STATUS_RUNNING) {
      seen.add(imp.percent);
      await new Promise((r) => setTimeout(r, 200));
      imp = (await client.getImport({ id }, tenantA)).import!;
    }
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`100k import: ${seconds.toFixed(1)} s, ${imp.rowsPerSecond} rows/s reported\n`);
    expect(imp.status).toBe(ImportStatus.IMPORT_STATUS_DONE);
    expect(imp.percent).toBe(100);
    expect([...seen].some((p) => p > 0 && p < 100)).toBe(true);
    expect(imp.rowsPerSecond).toBeGreaterThan(0);
    expect(imp.counts).toEqual({
      totalRows: 100_000,
      processedRows: 100_000,
      created: 85_000,
      duplicates: 10_000,
      invalid: 5000,
      bytesProcessed: list.csv.length,
    });

    // The valid rows landed once: contacts, points, a personal card and its history row each.
    expect(await countOf(`contacts WHERE tenant_id = ? AND provenance_kind = 'import' AND provenance_ref = ?`, [tenantA.tenantId, id])).toBe(85_000);
    expect(await countOf(`contact_points WHERE tenant_id = ? AND provenance_ref = ? AND verification = 'unverified'`, [tenantA.tenantId, id])).toBe(list.expected.points);
    expect(await countOf(`contacts c WHERE c.provenance_ref = ? AND (SELECT count(*) FROM client_cards k WHERE k.contact_id = c.id AND k.state = 'not_client' AND k.kind = 'direct') <> 1`, [id])).toBe(0);
    expect(
      await countOf(`client_card_history h JOIN client_cards k ON k.id = h.card_id JOIN contacts c ON c.id = k.contact_id WHERE c.provenance_ref = ? AND h.field = 'created'`, [id]),
    ).toBe(85_000);
    expect(await countOf(`outbox WHERE tenant_id = ? AND event_type = 'crm.contacts.contact.created.v1'`, [tenantA.tenantId])).toBe(90_000);
    // Phones written three ways are stored once in E.164; e-mails lower-cased.
    expect(await countOf(`contact_points WHERE provenance_ref = ? AND type = 'phone' AND value !~ '^\\+79'`, [id])).toBe(0);
    expect(await countOf(`contact_points WHERE provenance_ref = ? AND type = 'email' AND value <> lower(value)`, [id])).toBe(0);

    // The invalid rows' report, in row order, paged.
    const first = await client.listImportErrors({ importId: id, pageSize: 100, afterRow: 0 }, tenantA);
    expect(first.total).toBe(5000);
    expect(first.errors.map((e) => e.rowNumber)).toEqual(list.invalidRows.slice(0, 100));
    expect(first.errors[0]!.reason).toMatch(/^phone "12-34"/);
    expect(first.errors[1]!.reason).toMatch(/^e-mail "ivan@"/);
    expect(first.errors[2]!.reason).toBe('no name, phone, e-mail or messenger');
    expect(first.nextAfterRow).toBe(list.invalidRows[99]);
    const rest = await client.listImportErrors({ importId: id, pageSize: 100, afterRow: first.nextAfterRow }, tenantA);
    expect(rest.errors[0]!.rowNumber).toBe(list.invalidRows[100]);
    expect(await countOf('import_errors WHERE import_id = ?', [id])).toBe(5000);
    expect((await failure(client.listImportErrors({ importId: id, pageSize: 101, afterRow: 0 }, tenantA))).code).toBe(status.INVALID_ARGUMENT);

    // Tenant B sees, reads and touches none of it.
    expect(await countOf('contacts WHERE tenant_id = ?', [tenantB.tenantId])).toBe(0);
    expect((await client.listImports({ pageSize: 100, cursor: '' }, tenantB)).imports).toEqual([]);
    const listed = await client.listImports({ pageSize: 1, cursor: '' }, tenantA);
    expect(listed.imports.map((i) => i.id)).toEqual([id]);
    expect((await client.listImports({ pageSize: 1, cursor: listed.nextCursor }, tenantA)).imports.map((i) => i.id)).toEqual([pre]);
  }, 600_000);

  it('does not let another tenant read, append to, analyse, start, cancel or list errors of an import', async () => {
    const id = await upload(client, tenantA, 'a.csv', Buffer.from('name,phone\nIvan,89991234567\n'));
    const calls: Promise<unknown>[] = [
      client.getImport({ id }, tenantB),
      client.appendImportChunk({ importId: id, seq: 1, data: Buffer.from('x') }, tenantB),
      client.analyseImport({ importId: id, encoding: '', delimiter: '' }, tenantB),
      client.startImport({ importId: id, mapping: NAME_PHONE_EMAIL, dryRun: false }, tenantB),
      client.cancelImport({ id }, tenantB),
      client.listImportErrors({ importId: id, pageSize: 10, afterRow: 0 }, tenantB),
    ];
    for (const call of calls) expect((await failure(call)).code).toBe(status.NOT_FOUND);
    expect((await client.getImport({ id }, tenantA)).import!.status).toBe(ImportStatus.IMPORT_STATUS_UPLOADING);
    expect(await countOf('import_chunks WHERE import_id = ?', [id])).toBe(1);
  });

  it('imports a Windows-1251 file with semicolons and Cyrillic names', async () => {
    const text = 'Фамилия;Имя;Телефон;Почта;Компания;ИНН\r\nЁжиков;Пётр;8 (903) 111-22-33;Petr@Ezh.ru;ООО «Ёлка»;7707083893\r\nЩукина;Юлия;+7 903 111 22 44;;ООО «Ёлка»;7707083893\r\nЭйлер;Леонард;;;;\r\n';
    const id = await upload(client, tenantA, 'из-excel.csv', toCp1251(text));
    const analysed = await client.analyseImport({ importId: id, encoding: '', delimiter: '' }, tenantA);
    expect(analysed.import).toMatchObject({ encoding: 'windows-1251', delimiter: ';', hasHeader: true, header: ['Фамилия', 'Имя', 'Телефон', 'Почта', 'Компания', 'ИНН'] });
    expect(analysed.import!.counts!.totalRows).toBe(3);
    expect(analysed.sample.map((s) => [s.rowNumber, s.cells[0], s.cells[1]])).toEqual([
      [2, 'Ёжиков', 'Пётр'],
      [3, 'Щукина', 'Юлия'],
      [4, 'Эйлер', 'Леонард'],
    ]);
    const F = ImportField;
    expect(analysed.suggestedMapping.map((m) => m.field)).toEqual([
      F.IMPORT_FIELD_LAST_NAME,
      F.IMPORT_FIELD_FIRST_NAME,
      F.IMPORT_FIELD_PHONE,
      F.IMPORT_FIELD_EMAIL,
      F.IMPORT_FIELD_COMPANY,
      F.IMPORT_FIELD_TAX_ID,
    ]);
    await client.startImport({ importId: id, mapping: analysed.suggestedMapping, dryRun: false }, tenantA);
    const done = await finished(client, tenantA, id);
    expect(done.counts).toMatchObject({ created: 3, duplicates: 0, invalid: 0 });
    const names = await svc.orm!.em
      .fork()
      .execute<{ name: string; company: string | null; tax_id: string | null }[]>(
        'SELECT c.name, co.name AS company, co.tax_id FROM contacts c LEFT JOIN companies co ON co.id = c.company_id WHERE c.provenance_ref = ? ORDER BY c.name',
        [id],
      );
    expect(names).toEqual([
      { name: 'Леонард Эйлер', company: null, tax_id: null },
      { name: 'Пётр Ёжиков', company: 'ООО «Ёлка»', tax_id: '7707083893' },
      { name: 'Юлия Щукина', company: 'ООО «Ёлка»', tax_id: '7707083893' },
    ]);
    expect(await countOf(`company_contacts WHERE tenant_id = ?`, [tenantA.tenantId])).toBe(2);
  });

  it('refuses a UTF-16 and a binary file clearly and fails the import', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Имя,Телефон\r\nИван,89991234567\r\n', 'utf16le')]);
    const binary = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919 + 13) % 256));
    for (const [name, bytes, expected] of [
      ['utf16.csv', utf16, /UTF-16/],
      ['photo.jpg', binary, /control byte/],
    ] as const) {
      const id = await upload(client, tenantA, name, bytes);
      const err = await failure(client.analyseImport({ importId: id, encoding: '', delimiter: '' }, tenantA));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toMatch(/neither UTF-8 nor Windows-1251/);
      expect(err.details).toMatch(expected);
      const imp = (await client.getImport({ id }, tenantA)).import!;
      expect(imp.status).toBe(ImportStatus.IMPORT_STATUS_FAILED);
      expect(imp.error).toMatch(/neither UTF-8 nor Windows-1251/);
      expect(await countOf('import_chunks WHERE import_id = ?', [id])).toBe(0);
      expect((await failure(client.startImport({ importId: id, mapping: NAME_PHONE_EMAIL, dryRun: false }, tenantA))).code).toBe(status.FAILED_PRECONDITION);
    }
  });

  it('refuses 10 MB in one cell, naming the row', async () => {
    const bytes = Buffer.concat([Buffer.from('name,phone\nIvan,89991234567\nPetr,"'), Buffer.alloc(10 * 1024 * 1024, 'x'), Buffer.from('"\n')]);
    const id = await upload(client, tenantA, 'huge-cell.csv', bytes);
    const err = await failure(client.analyseImport({ importId: id, encoding: '', delimiter: '' }, tenantA, { deadlineMs: 60_000 }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/^row 3 is over 1048576 bytes/);
    expect((await client.getImport({ id }, tenantA)).import).toMatchObject({ status: ImportStatus.IMPORT_STATUS_FAILED, error: expect.stringMatching(/^row 3/) });
  }, 60_000);

  it('refuses a file over the maximum at CreateImport, before any byte is stored', async () => {
    const before = await countOf('imports');
    const err = await failure(client.createImport({ fileName: 'base.csv', sizeBytes: 2 * 1024 ** 3, defaultCountry: '' }, tenantA));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/at most 67108864 bytes/);
    expect(await countOf('imports')).toBe(before);
    for (const bad of [
      { fileName: '', sizeBytes: 10, defaultCountry: '' },
      { fileName: 'a.csv', sizeBytes: 0, defaultCountry: '' },
      { fileName: 'a.csv', sizeBytes: 10, defaultCountry: 'XX' },
    ]) {
      expect((await failure(client.createImport(bad, tenantA))).code).toBe(status.INVALID_ARGUMENT);
    }
  });

  it('takes chunks idempotently by seq, in order, never past size_bytes', async () => {
    const { import: imp } = await client.createImport({ fileName: 'c.csv', sizeBytes: 30, defaultCountry: 'RU' }, tenantA);
    const importId = imp!.id;
    const a = Buffer.from('name,phone\n');
    expect((await client.appendImportChunk({ importId, seq: 0, data: a }, tenantA)).receivedBytes).toBe(a.length);
    expect((await client.appendImportChunk({ importId, seq: 0, data: a }, tenantA)).receivedBytes).toBe(a.length);
    expect((await failure(client.appendImportChunk({ importId, seq: 0, data: Buffer.from('other') }, tenantA))).code).toBe(status.FAILED_PRECONDITION);
    expect((await failure(client.appendImportChunk({ importId, seq: 2, data: a }, tenantA))).code).toBe(status.FAILED_PRECONDITION);
    expect((await failure(client.appendImportChunk({ importId, seq: 1, data: Buffer.alloc(40, 'x') }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(client.appendImportChunk({ importId, seq: 1, data: Buffer.alloc(1024 * 1024 + 1) }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
    // Analysing an incomplete upload is a precondition failure.
    expect((await failure(client.analyseImport({ importId, encoding: '', delimiter: '' }, tenantA))).code).toBe(status.FAILED_PRECONDITION);
    expect((await failure(client.getImport({ id: 'nope' }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
    await client.cancelImport({ id: importId }, tenantA);
    expect((await failure(client.appendImportChunk({ importId, seq: 1, data: a }, tenantA))).code).toBe(status.FAILED_PRECONDITION);
  });

  it('validates the mapping, dry-runs without writing, then imports the same counts', async () => {
    const list = generateList({ rows: 3000, existing: 0 });
    const id = await upload(client, tenantC, 'dry.csv', list.csv);
    const analysed = await client.analyseImport({ importId: id, encoding: '', delimiter: '' }, tenantC);
    expect(analysed.import).toMatchObject({ encoding: 'utf-8', delimiter: ',', header: ['ФИО', 'Телефон', 'E-mail'] });
    expect(analysed.suggestedMapping.map((m) => m.field)).toEqual(NAME_PHONE_EMAIL.map((m) => m.field));
    const F = ImportField;
    for (const mapping of [
      [{ column: 0, field: F.IMPORT_FIELD_PHONE }, { column: 1, field: F.IMPORT_FIELD_PHONE }],
      [{ column: 0, field: F.IMPORT_FIELD_COMPANY }],
      [{ column: 7, field: F.IMPORT_FIELD_NAME }],
    ]) {
      expect((await failure(client.startImport({ importId: id, mapping, dryRun: true }, tenantC))).code).toBe(status.INVALID_ARGUMENT);
    }
    // A tenant of its own: the generated phones are the 100k list's too.
    const contactsBefore = await countOf('contacts');
    await client.startImport({ importId: id, mapping: NAME_PHONE_EMAIL, dryRun: true }, tenantC);
    const dry = await finished(client, tenantC, id);
    expect(dry).toMatchObject({ status: ImportStatus.IMPORT_STATUS_DONE, dryRun: true });
    expect(dry.counts).toMatchObject({ processedRows: 3000, created: list.expected.created, duplicates: list.expected.duplicates, invalid: list.expected.invalid });
    expect(await countOf('contacts')).toBe(contactsBefore);
    expect((await client.listImportErrors({ importId: id, pageSize: 0, afterRow: 0 }, tenantC)).total).toBe(list.expected.invalid);

    await client.startImport({ importId: id, mapping: NAME_PHONE_EMAIL, dryRun: false }, tenantC);
    const real = await finished(client, tenantC, id);
    expect(real.counts).toEqual(dry.counts);
    expect(await countOf('contacts')).toBe(contactsBefore + list.expected.created);
    // Done for real: it cannot run again.
    expect((await failure(client.startImport({ importId: id, mapping: NAME_PHONE_EMAIL, dryRun: false }, tenantC))).code).toBe(status.FAILED_PRECONDITION);
  });

  it('overrides the detected separator and header, and cancels', async () => {
    const id = await upload(client, tenantA, 'no-header.csv', Buffer.from('Ivan;89991230001\nPetr;89991230002\n'));
    const analysed = await client.analyseImport({ importId: id, encoding: '', delimiter: ';', hasHeader: false }, tenantA);
    expect(analysed.import).toMatchObject({ delimiter: ';', hasHeader: false, header: [] });
    expect(analysed.sample.map((s) => s.rowNumber)).toEqual([1, 2]);
    expect((await failure(client.analyseImport({ importId: id, encoding: 'koi8-r', delimiter: '' }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
    const cancelled = (await client.cancelImport({ id }, tenantA)).import!;
    expect(cancelled.status).toBe(ImportStatus.IMPORT_STATUS_CANCELLED);
    expect((await failure(client.startImport({ importId: id, mapping: NAME_PHONE_EMAIL, dryRun: false }, tenantA))).code).toBe(status.FAILED_PRECONDITION);
  });
});

describe('CSV export', () => {
  it('exports a list as UTF-8 CSV with a BOM, RFC 4180 quoting and the formula guard, in keyset pages', async () => {
    const text = 'name,phone,email\n"=HYPERLINK(""http://x"")",89991110001,a1@x.ru\n"Иванов, Иван",89991110002,a2@x.ru\n@Петров,89991110003,a3@x.ru\n';
    const id = await runImport(client, tenantB, Buffer.from(text));
    await finished(client, tenantB, id);
    const first = await client.exportContacts({ list: ExportList.EXPORT_LIST_CONTACTS, query: '', pageSize: 2, cursor: '' }, tenantB);
    const csv1 = Buffer.from(first.csv).toString('utf8');
    expect(csv1.startsWith('\ufeffid,name,phone,email,messengers,company,tax_id,created_at\r\n')).toBe(true);
    expect(first.rows).toBe(2);
    expect(first.nextCursor).not.toBe('');
    const second = await client.exportContacts({ list: ExportList.EXPORT_LIST_CONTACTS, query: '', pageSize: 2, cursor: first.nextCursor }, tenantB);
    const csv2 = Buffer.from(second.csv).toString('utf8');
    expect(csv2.startsWith('\ufeff')).toBe(false);
    expect(second.rows).toBe(1);
    expect(second.nextCursor).toBe('');
    const all = csv1 + csv2;
    expect(all).toContain(`,"'=HYPERLINK(""http://x"")",'+79991110001,a1@x.ru,`);
    expect(all).toContain(`,"Иванов, Иван",'+79991110002,a2@x.ru,`);
    expect(all).toContain(`,'@Петров,'+79991110003,`);
    // Search as in ListContacts; the cold base has them (no requests, no deals); tenant A's contacts are not there.
    const found = await client.exportContacts({ list: ExportList.EXPORT_LIST_CONTACTS, query: 'иванов', pageSize: 0, cursor: '' }, tenantB);
    expect(found.rows).toBe(1);
    const cold = await client.exportContacts({ list: ExportList.EXPORT_LIST_COLD, query: '', pageSize: 0, cursor: '' }, tenantB);
    expect(cold.rows).toBe(3);
    const cards = await client.exportContacts({ list: ExportList.EXPORT_LIST_CLIENT_CARDS, query: '', pageSize: 0, cursor: '' }, tenantB);
    expect(cards.rows).toBe(3);
    expect(Buffer.from(cards.csv).toString('utf8')).toContain(',not_client,direct,');
    expect((await client.exportContacts({ list: ExportList.EXPORT_LIST_DISCONNECTED, query: '', pageSize: 0, cursor: '' }, tenantB)).rows).toBe(0);
    const companies = await client.exportContacts({ list: ExportList.EXPORT_LIST_COMPANIES, query: '', pageSize: 0, cursor: '' }, tenantB);
    expect(companies.rows).toBe(0);
    for (const bad of [
      { list: ExportList.EXPORT_LIST_UNSPECIFIED, query: '', pageSize: 0, cursor: '' },
      { list: ExportList.EXPORT_LIST_CONTACTS, query: '', pageSize: 5001, cursor: '' },
      { list: ExportList.EXPORT_LIST_COLD, query: '', pageSize: 0, cursor: first.nextCursor },
    ]) {
      expect((await failure(client.exportContacts(bad, tenantB))).code).toBe(status.INVALID_ARGUMENT);
    }
  });
});
