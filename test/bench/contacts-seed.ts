/**
 * The contacts benchmarks' seeder: fills a contacts database that the service has already migrated
 * with N contacts of one tenant (default 1,000,000, BENCH_CONTACTS) and a few thousand of a second
 * (BENCH_CONTACTS_OTHER, default 5,000; their phones are the first tenant's first phones, so a
 * cross-tenant leak would show), all in SQL (`INSERT … SELECT generate_series`, no gRPC):
 * - names from Russian (60 %: "Фамилия Имя Отчество", "Имя Фамилия", "Фамилия Имя") and English lists,
 *   search_name lower-cased as the service does (contacts-names.ts searchNameOf);
 * - one phone each, E.164 `+79XXXXXXXXX`, unique: contact i has seedPhone(i) (a bijection of i mod 10⁹,
 *   so the benchmark knows which phones exist and can make new ones), digits = E.164 without `+`;
 * - an e-mail for every second contact; 10 % of the points verified;
 * - the personal client card (`not_client` / `direct`) with its `created` history row;
 * - request links for ~30 % of the contacts (1–3 each).
 * Secondary indexes are dropped for the load and re-created from their own definitions after it
 * (pg_get_indexdef), FK triggers are skipped for the session (session_replication_role = replica: the
 * rows are consistent by construction); then VACUUM ANALYZE. No events are written (nothing consumes them).
 *
 * Standalone: `npm run bench:contacts:seed` creates a fresh database, migrates it by starting the
 * service once, seeds it and prints the timings; BENCH_CONTACTS_KEEP_DB=1 keeps it (its name is
 * printed: pass it to bench:contacts as BENCH_CONTACTS_DB), otherwise it is dropped.
 */
import { Client } from 'pg';
import { NAMES, searchNameOf, translit } from './contacts-names';

/** The multiplier of the phone permutation (3¹⁸, coprime with 10⁹). */
const PHONE_MULT = 387420489n;
const PHONE_SPACE = 1_000_000_000n;

/** The E.164 phone of the seeded contact i (1-based); i ≥ N gives phones nobody has. */
export function seedPhone(i: number): string {
  return `+79${((BigInt(i) * PHONE_MULT) % PHONE_SPACE).toString().padStart(9, '0')}`;
}

export interface SeedOptions {
  databaseUrl: string;
  tenantId: string;
  contacts: number;
  otherTenantId: string;
  otherContacts: number;
  /** Progress lines (default console.log). */
  log?: (line: string) => void;
}

export interface SeedResult {
  seconds: number;
  steps: { step: string; seconds: number; rows?: number }[];
  rows: Record<string, number>;
}

const SEEDED_TABLES = ['contacts', 'contact_points', 'client_cards', 'client_card_history', 'request_links'];
const EMAIL_DOMAINS = ['gmail.com', 'mail.ru', 'yandex.ru', 'outlook.com', 'bk.ru', 'example.com'];
const CHANNELS = ['web_form', 'phone', 'email', 'chat', 'signup'];
const QUALIFICATIONS = ['pending', 'lead', 'not_lead'];

/**
 * SQL array parameters for the name parts in three forms: as written, lower-cased (search_name) and
 * Latin (e-mail); a parameter is numbered when an expression first uses it (unused ones would be untyped).
 */
function partParams() {
  const parts: Record<string, string[]> = {
    ruFirstM: NAMES.ruFirst[0],
    ruFirstF: NAMES.ruFirst[1],
    ruPatM: NAMES.ruPatronymic[0],
    ruPatF: NAMES.ruPatronymic[1],
    ruSurM: NAMES.ruSurname[0],
    ruSurF: NAMES.ruSurname[1],
    enFirst: NAMES.enFirst,
    enLast: NAMES.enLast,
  };
  const forms = { shown: (v: string) => v, lower: searchNameOf, latin: translit };
  const params: string[][] = [];
  const numbered = new Map<string, number>();
  const arr = (key: string, form: keyof typeof forms): string => {
    const id = `${key}.${form}`;
    if (!numbered.has(id)) {
      params.push(parts[key].map(forms[form]));
      numbered.set(id, params.length);
    }
    return `$${numbered.get(id)}::text[]`;
  };
  return { params, arr, len: (key: string) => parts[key].length };
}
type Parts = ReturnType<typeof partParams>;

/** A name expression over the seed columns (ru, g, h2, h3, h4, style) in one form. */
function nameSql({ arr, len }: Parts, form: 'shown' | 'lower'): string {
  const pick = (m: string, f: string, h: string) => `(CASE WHEN g = 0 THEN (${arr(m, form)})[1 + ${h} % ${len(m)}] ELSE (${arr(f, form)})[1 + ${h} % ${len(f)}] END)`;
  const first = pick('ruFirstM', 'ruFirstF', 'h2');
  const pat = pick('ruPatM', 'ruPatF', 'h3');
  const sur = pick('ruSurM', 'ruSurF', 'h4');
  const en = `(${arr('enFirst', form)})[1 + h2 % ${len('enFirst')}] || ' ' || (${arr('enLast', form)})[1 + h4 % ${len('enLast')}]`;
  return `CASE WHEN NOT ru THEN ${en}
    WHEN style = 0 THEN ${sur} || ' ' || ${first} || ' ' || ${pat}
    WHEN style = 1 THEN ${first} || ' ' || ${sur}
    ELSE ${sur} || ' ' || ${first} END`;
}

function emailSql({ arr, len }: Parts): string {
  const pick = (m: string, f: string, h: string) => `(CASE WHEN g = 0 THEN (${arr(m, 'latin')})[1 + ${h} % ${len(m)}] ELSE (${arr(f, 'latin')})[1 + ${h} % ${len(f)}] END)`;
  const first = `CASE WHEN ru THEN ${pick('ruFirstM', 'ruFirstF', 'h2')} ELSE (${arr('enFirst', 'latin')})[1 + h2 % ${len('enFirst')}] END`;
  const last = `CASE WHEN ru THEN ${pick('ruSurM', 'ruSurF', 'h4')} ELSE (${arr('enLast', 'latin')})[1 + h4 % ${len('enLast')}] END`;
  const domains = `ARRAY[${EMAIL_DOMAINS.map((d) => `'${d}'`).join(',')}]`;
  return `(${first}) || '.' || (${last}) || i::text || '@' || (${domains})[1 + h3 % ${EMAIL_DOMAINS.length}]`;
}

/** Seeds one tenant: n contacts with phones seedPhone(1..n). */
async function seedTenant(c: Client, tenantId: string, n: number, step: (name: string, fn: () => Promise<number | void>) => Promise<void>): Promise<void> {
  const parts = partParams();
  const select = `${nameSql(parts, 'shown')} AS name, ${nameSql(parts, 'lower')} AS search_name,
              '+79' || lpad(((i::bigint * ${PHONE_MULT}) % ${PHONE_SPACE})::text, 9, '0') AS phone,
              CASE WHEN i % 2 = 0 THEN ${emailSql(parts)} END AS email`;
  const nParam = `$${parts.params.length + 1}::int`;
  await c.query('DROP TABLE IF EXISTS seed');
  await step(`${tenantId}: generate ${n.toLocaleString('en-US')} people`, async () => {
    // Created over the last three years, oldest first; ids are UUIDv7 of created_at (PostgreSQL 18's uuidv7(shift)).
    const res = await c.query(
      `CREATE TEMP TABLE seed AS
       SELECT i, ts, uuidv7(ts - now()) AS id, ${select}, h5
       FROM (
         SELECT i, now() - make_interval(secs => (${nParam} - i) * (94608000.0 / ${nParam})) AS ts,
                (hashint8(i::bigint * 8) & 2147483647) % 10 < 6 AS ru, (hashint8(i::bigint * 8 + 1) & 2147483647) % 2 AS g,
                (hashint8(i::bigint * 8 + 2) & 2147483647) AS h2, (hashint8(i::bigint * 8 + 3) & 2147483647) AS h3, (hashint8(i::bigint * 8 + 4) & 2147483647) AS h4,
                (hashint8(i::bigint * 8 + 5) & 2147483647) % 3 AS style, (hashint8(i::bigint * 8 + 6) & 2147483647) AS h5
         FROM generate_series(1, ${nParam}) AS i
       ) s`,
      [...parts.params, n],
    );
    return res.rowCount ?? n;
  });
  await step(`${tenantId}: contacts`, async () => {
    const r = await c.query(
      `INSERT INTO contacts (id, tenant_id, name, search_name, provenance_kind, provenance_ref, version, created_at, updated_at)
       SELECT id, $1, name, search_name, 'import', NULL, 1, ts, ts FROM seed ORDER BY i`,
      [tenantId],
    );
    return r.rowCount ?? 0;
  });
  await step(`${tenantId}: contact_points (phones, e-mails)`, async () => {
    const r = await c.query(
      `INSERT INTO contact_points (id, tenant_id, contact_id, type, value, network, digits, verification, verified_by, provenance_kind, provenance_ref, created_at)
       SELECT uuidv7(ts - now()), $1, id, 'phone', phone, NULL, substr(phone, 2), CASE WHEN h5 % 10 = 0 THEN 'verified' ELSE 'unverified' END, NULL, 'import', NULL, ts FROM seed
       UNION ALL
       SELECT uuidv7(ts - now()), $1, id, 'email', email, NULL, NULL, CASE WHEN h5 % 10 = 1 THEN 'verified' ELSE 'unverified' END, NULL, 'import', NULL, ts FROM seed WHERE email IS NOT NULL`,
      [tenantId],
    );
    return r.rowCount ?? 0;
  });
  await step(`${tenantId}: client cards + history`, async () => {
    await c.query(
      `CREATE TEMP TABLE seed_cards AS SELECT uuidv7(ts - now()) AS card_id, id AS contact_id, ts FROM seed`,
    );
    const r = await c.query(
      `INSERT INTO client_cards (id, tenant_id, contact_id, company_id, state, kind, owner_id, agent_card_id, version, created_at, updated_at)
       SELECT card_id, $1, contact_id, NULL, 'not_client', 'direct', NULL, NULL, 1, ts, ts FROM seed_cards`,
      [tenantId],
    );
    await c.query(
      `INSERT INTO client_card_history (id, tenant_id, card_id, field, from_value, to_value, reason, actor_kind, actor_ref, at)
       SELECT uuidv7(ts - now()), $1, card_id, 'created', NULL, 'not_client', NULL, 'rule', 'bench-seed', ts FROM seed_cards`,
      [tenantId],
    );
    await c.query('DROP TABLE seed_cards');
    return r.rowCount ?? 0;
  });
  await step(`${tenantId}: request links`, async () => {
    // ~30 % of the contacts have 1–3 requests, made after the contact within ~30 days.
    const r = await c.query(
      `INSERT INTO request_links (request_id, tenant_id, contact_id, channel, qualification, created_at)
       SELECT uuidv7(rt - now()), $1, id, (ARRAY[${CHANNELS.map((x) => `'${x}'`).join(',')}])[1 + (h5 / 7 + k) % ${CHANNELS.length}],
              (ARRAY[${QUALIFICATIONS.map((x) => `'${x}'`).join(',')}])[1 + (h5 / 11 + k) % ${QUALIFICATIONS.length}], rt
       FROM (SELECT id, h5, k, least(now(), ts + make_interval(secs => ((h5 / 13 + k * 86400) % 2592000)::int)) AS rt
             FROM seed, generate_series(0, 2) AS k
             WHERE h5 % 10 < 3 AND k <= (h5 / 3) % 3) s`,
      [tenantId],
    );
    return r.rowCount ?? 0;
  });
  await c.query('DROP TABLE seed');
}

/** Fills the migrated contacts database behind databaseUrl (see the file's comment). */
export async function seedContacts(opts: SeedOptions): Promise<SeedResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const c = new Client({ connectionString: opts.databaseUrl });
  await c.connect();
  const steps: SeedResult['steps'] = [];
  const t0 = performance.now();
  const step = async (name: string, fn: () => Promise<number | void>) => {
    const s = performance.now();
    const rows = await fn();
    const seconds = (performance.now() - s) / 1000;
    steps.push({ step: name, seconds, rows: typeof rows === 'number' ? rows : undefined });
    log(`  seed: ${name}: ${seconds.toFixed(1)} s${typeof rows === 'number' ? ` (${rows.toLocaleString('en-US')} rows)` : ''}`);
  };
  try {
    await c.query(`SET maintenance_work_mem = '1GB'`);
    await c.query(`SET work_mem = '256MB'`);
    await c.query('SET synchronous_commit = off');
    await c.query('SET session_replication_role = replica'); // no per-row FK triggers (superuser; the stack's role is)
    const { rows: indexes } = await c.query<{ name: string; def: string }>(
      `SELECT ci.relname AS name, pg_get_indexdef(i.indexrelid) AS def
       FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_class ci ON ci.oid = i.indexrelid
       WHERE t.relnamespace = 'public'::regnamespace AND t.relname = ANY($1)
         AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`,
      [SEEDED_TABLES],
    );
    await step(`drop ${indexes.length} secondary indexes`, async () => {
      for (const ix of indexes) await c.query(`DROP INDEX ${ix.name}`);
    });
    await seedTenant(c, opts.tenantId, opts.contacts, step);
    await seedTenant(c, opts.otherTenantId, opts.otherContacts, step);
    for (const ix of indexes) await step(`index ${ix.name}`, async () => void (await c.query(ix.def)));
    await c.query('SET session_replication_role = origin');
    await step('VACUUM ANALYZE', async () => {
      for (const table of SEEDED_TABLES) await c.query(`VACUUM (ANALYZE) ${table}`);
    });
    const rows: Record<string, number> = {};
    for (const table of SEEDED_TABLES) rows[table] = Number((await c.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
    const seconds = (performance.now() - t0) / 1000;
    log(`  seed: done in ${seconds.toFixed(1)} s: ${Object.entries(rows).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ')}`);
    return { seconds, steps, rows };
  } finally {
    await c.end();
  }
}

async function standalone() {
  const { createTestDatabase } = await import('@crm/testing');
  const { startContactsProcess, migrateContactsDb, dropBenchTopics, BENCH_TENANT_A, BENCH_TENANT_B } = await import('./contacts-process');
  const contacts = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
  const other = Number(process.env.BENCH_CONTACTS_OTHER ?? 5_000);
  const db = await createTestDatabase('bench_contacts');
  const keep = process.env.BENCH_CONTACTS_KEEP_DB === '1';
  try {
    // Migrated by starting the service once; BENCH_CONTACTS_MIGRATE=inprocess applies the same migrations
    // without it (while the service cannot start yet).
    if (process.env.BENCH_CONTACTS_MIGRATE === 'inprocess') await migrateContactsDb(db.url);
    else await (await startContactsProcess(db.url)).stop();
    console.log(`database ${db.name} migrated; seeding ${contacts.toLocaleString('en-US')} + ${other.toLocaleString('en-US')} contacts`);
    await seedContacts({ databaseUrl: db.url, tenantId: BENCH_TENANT_A, contacts, otherTenantId: BENCH_TENANT_B, otherContacts: other });
  } finally {
    if (keep) console.log(`kept database ${db.name}: BENCH_CONTACTS_DB=${db.name} npm run bench:contacts`);
    else await db.drop();
    await dropBenchTopics();
  }
  process.exit(0);
}

if (require.main === module) {
  standalone().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
