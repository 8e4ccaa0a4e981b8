/**
 * npm run bench:contacts-import — CSV import through gRPC into a fresh database: a generated list of
 * BENCH_IMPORT_ROWS rows (100,000; of every 20 one invalid, two duplicates, one name only) is uploaded in
 * 1 MiB chunks to contacts running as its own process (`services/contacts/src/main.ts`), analysed and
 * imported; prints the upload, analysis and import times, rows/s (target ≥ 10,000) and the machine.
 */
import { ImportStatus, ImportsServiceService } from '@crm/contracts/crm/contacts/v1/imports';
import { createClient, type TenantContext } from '@crm/grpc';
import { createTestDatabase } from '@crm/testing';
import { existingList, generateList, NAME_PHONE_EMAIL, upload } from '../../services/contacts/test/imports-fixture';
import { dropBenchTopics, startContactsProcess } from './contacts-process';
import { fmt, machine, postgresSettings } from './stats';

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 100_000);
const tenant: TenantContext = { tenantId: 'bench-import', callerId: 'bench', callerKind: 'user' };

async function main() {
  const db = await createTestDatabase('bench_import');
  const svc = await startContactsProcess(db.url);
  const client = createClient(ImportsServiceService, { address: svc.address, defaultDeadlineMs: 60_000 });
  try {
    const existing = Math.max(1, Math.round(ROWS / 20));
    const run = async (bytes: Buffer, name: string) => {
      const t0 = performance.now();
      const id = await upload(client, tenant, name, bytes);
      const t1 = performance.now();
      await client.analyseImport({ importId: id, encoding: '', delimiter: '' }, tenant);
      const t2 = performance.now();
      await client.startImport({ importId: id, mapping: NAME_PHONE_EMAIL, dryRun: false }, tenant);
      let imp = (await client.getImport({ id }, tenant)).import!;
      while (imp.status === ImportStatus.IMPORT_STATUS_RUNNING) {
        await new Promise((r) => setTimeout(r, 50));
        imp = (await client.getImport({ id }, tenant)).import!;
      }
      const t3 = performance.now();
      if (imp.status !== ImportStatus.IMPORT_STATUS_DONE) throw new Error(`import ${id} ended ${ImportStatus[imp.status]}: ${imp.error}`);
      return { imp, upload: (t1 - t0) / 1000, analyse: (t2 - t1) / 1000, run: (t3 - t2) / 1000 };
    };
    await run(existingList(existing), 'existing.csv');
    const list = generateList({ rows: ROWS, existing });
    const r = await run(list.csv, 'bench.csv');
    const c = r.imp.counts!;
    console.log(`machine: ${machine()}; ${await postgresSettings(db.url)}`);
    console.log(`file: ${ROWS} rows, ${fmt(list.csv.length / 2 ** 20, 1)} MiB; ${existing} contacts existed before`);
    console.log(`upload ${fmt(r.upload, 2)} s, analyse ${fmt(r.analyse, 2)} s, import ${fmt(r.run, 2)} s`);
    console.log(`counts: created ${c.created}, duplicates ${c.duplicates}, invalid ${c.invalid} (expected ${list.expected.created}/${list.expected.duplicates}/${list.expected.invalid})`);
    console.log(`CSV import: ${fmt(ROWS / r.run, 0)} rows/s (service-reported ${fmt(r.imp.rowsPerSecond, 0)} rows/s; target ≥ 10,000)`);
    if (c.created !== list.expected.created || c.duplicates !== list.expected.duplicates || c.invalid !== list.expected.invalid) throw new Error('counts differ from the expected ones');
  } finally {
    client.close();
    await svc.stop();
    await db.drop();
    await dropBenchTopics();
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
