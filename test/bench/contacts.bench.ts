/**
 * npm run bench:contacts — contacts over gRPC with a tenant of BENCH_CONTACTS contacts (default
 * 1,000,000; a second tenant has BENCH_CONTACTS_OTHER, default 5,000, with the same phones). The
 * service runs as a real process (`node --import tsx services/contacts/src/main.ts`, contacts-process.ts)
 * on a fresh database that it migrates on its first start, is stopped, seeded in SQL (contacts-seed.ts),
 * and started again; this process is the load generator (on the same 2 cores). Phases, each
 * BENCH_CONTACTS_SECONDS (default 15 s) after a 2 s warm-up, with BENCH_CONTACTS_CONCURRENCY callers
 * (default 50) on one channel:
 * 1. MatchOrCreate: BENCH_CONTACTS_MATCH_SHARE (0.8) of the calls give an existing phone written in
 *    another format (8 (9xx) …, +7 9xx …, 9xxxxxxxxx, …) and must match; the rest give a new phone (and
 *    for half an e-mail) and must create. Target p99 ≤ 10 ms.
 * 2. LookupContact by phone (95 % existing in another format, 5 % unknown → NOT_FOUND): p99 ≤ 5 ms.
 * 3. ListContacts search (page of 25): a Cyrillic name fragment (4+ letters of a name in the lists, any
 *    case), a Latin one, 4–7 digits from the middle of an existing phone, and one query in ten a name
 *    nobody has (a typo); BENCH_CONTACTS_SEARCH_MIX changes the mix. p50/p99 ≤ 50 ms, each kind too.
 * Each phase runs closed-loop (every caller sends its next call when the previous one answers: the
 * capacity) and then at a fixed offered rate of BENCH_CONTACTS_LOAD (0.5) × that capacity, at most
 * CONCURRENCY in flight, latency counted from each call's scheduled time. Answers are checked (a match
 * must not create, a lookup must return the contact owning the phone, a search hit must contain the
 * fragment and be of the tenant, an absent name find nothing) and counted as "wrong". Prints a table:
 * offered, achieved, p50, p99, target, met/missed, and the contacts process's CPU per call (from /proc,
 * its idle rate subtracted).
 * BENCH_CONTACTS_DB=<name> reuses a database seeded by `BENCH_CONTACTS_KEEP_DB=1 npm run bench:contacts:seed`
 * (and keeps it); otherwise the database is dropped at the end.
 */
import { ContactsServiceService, PointType, type Contact } from '@crm/contracts/crm/contacts/v1/contacts';
import { ProvenanceKind } from '@crm/contracts/crm/contacts/v1/contacts';
import { databaseUrl } from '@crm/db';
import { createClient, status, type PromiseClient, type ServiceError, type TenantContext } from '@crm/grpc';
import { createTestDatabase, runId, stackUrls } from '@crm/testing';
import { readFileSync } from 'node:fs';
import { Client as PgClient } from 'pg';
import { NAMES, searchNameOf } from './contacts-names';
import { BENCH_TENANT_A, BENCH_TENANT_B, dropBenchTopics, startContactsProcess, type ContactsProcess } from './contacts-process';
import { seedContacts, seedPhone } from './contacts-seed';
import { fmt, machine, percentile, postgresSettings } from './stats';

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const OTHER = Number(process.env.BENCH_CONTACTS_OTHER ?? 5_000);
const SECONDS = Number(process.env.BENCH_CONTACTS_SECONDS ?? 15);
const CONCURRENCY = Number(process.env.BENCH_CONTACTS_CONCURRENCY ?? 50);
const MATCH_SHARE = Number(process.env.BENCH_CONTACTS_MATCH_SHARE ?? 0.8);
const LOAD = Number(process.env.BENCH_CONTACTS_LOAD ?? 0.5);
const REUSE_DB = process.env.BENCH_CONTACTS_DB;
const WARMUP_S = 2;

type Client = PromiseClient<typeof ContactsServiceService>;
const tenant: TenantContext = { tenantId: BENCH_TENANT_A, callerId: 'bench', callerKind: 'service' };

const rnd = (n: number) => Math.floor(Math.random() * n);
const pickOf = <T>(xs: T[]): T => xs[rnd(xs.length)];
/** A seeded contact's index, 1..CONTACTS. */
const existing = () => 1 + rnd(CONTACTS);
/** A phone nobody has: the permutation of an index above every seeded one. */
const fresh = () => seedPhone(CONTACTS + 1 + rnd(999_000_000 - CONTACTS));

/** An E.164 +79XXXXXXXXX as people write it. */
function spelled(e164: string): string {
  const n = e164.slice(2); // 9XXXXXXXXX
  const [a, b, c, d] = [n.slice(0, 3), n.slice(3, 6), n.slice(6, 8), n.slice(8)];
  return pickOf([
    `8 (${a}) ${b}-${c}-${d}`,
    `+7 ${a} ${b} ${c} ${d}`,
    `8${n}`,
    `7 (${a}) ${b} ${c} ${d}`,
    n,
    `+7-${a}-${b}-${c}-${d}`,
    `+7 (${a}) ${b}${c}${d}`,
  ]);
}

const phoneOf = (c: Contact | undefined) => c?.points.filter((p) => p.type === PointType.POINT_TYPE_PHONE).map((p) => p.value) ?? [];

interface Outcome {
  /** The answer was as expected. */
  ok: boolean;
  kind?: string;
  /** What was wrong (the first one is printed). */
  detail?: string;
}
type Call = () => Promise<Outcome>;

interface PhaseResult {
  phase: string;
  offered: string;
  achieved: number;
  p50: number;
  p99: number;
  calls: number;
  errors: number;
  wrong: number;
  byKind: Map<string, number[]>;
  firstError?: string;
  firstWrong?: string;
  /** CPU time of the contacts process per answered call (user + system), ms. */
  cpuPerCall: number;
}

/** User + system CPU time of a process so far, ms (Linux /proc; NaN elsewhere). */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
  } catch {
    return NaN;
  }
}

/** Runs `make()` calls from CONCURRENCY callers for SECONDS after a warm-up; rate 0 = closed loop. */
/** The contacts process's CPU ms per second while idle (relay and consumers polling), subtracted from each run's. */
let idleCpuPerSecond = 0;

async function run(phase: string, make: () => Call, rate: number, pid: number): Promise<PhaseResult> {
  const latencies: number[] = [];
  const byKind = new Map<string, number[]>();
  let errors = 0;
  let wrong = 0;
  let firstError: string | undefined;
  let firstWrong: string | undefined;
  let cpuAtWarmupEnd = NaN;
  const start = performance.now();
  const warmupEnd = start + WARMUP_S * 1000;
  const end = warmupEnd + SECONDS * 1000;
  let ticket = 0;
  const interval = rate > 0 ? 1000 / rate : 0;
  const cpuTimer = setTimeout(() => (cpuAtWarmupEnd = cpuMs(pid)), WARMUP_S * 1000);
  async function caller() {
    for (;;) {
      let t0: number;
      if (rate > 0) {
        const due = start + ticket++ * interval;
        if (due >= end) return;
        const wait = due - performance.now();
        if (wait > 0.5) await new Promise((r) => setTimeout(r, wait));
        t0 = due; // latency from the scheduled time: a late send counts (no coordinated omission)
      } else {
        t0 = performance.now();
        if (t0 >= end) return;
      }
      const call = make();
      let outcome: Outcome | undefined;
      try {
        outcome = await call();
      } catch (err) {
        const e = err as ServiceError;
        if (t0 >= warmupEnd) {
          errors++;
          firstError ??= `${status[e.code] ?? ''} ${e.details ?? e.message}`.trim();
        }
        continue;
      }
      if (t0 < warmupEnd) continue;
      const ms = performance.now() - t0;
      latencies.push(ms);
      if (!outcome.ok) {
        wrong++;
        firstWrong ??= outcome.detail ?? outcome.kind;
      }
      if (outcome.kind) {
        if (!byKind.has(outcome.kind)) byKind.set(outcome.kind, []);
        byKind.get(outcome.kind)!.push(ms);
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, caller));
  clearTimeout(cpuTimer);
  const cpu = Math.max(0, cpuMs(pid) - cpuAtWarmupEnd - idleCpuPerSecond * ((performance.now() - warmupEnd) / 1000));
  const achieved = latencies.length / SECONDS;
  return {
    phase,
    offered: rate > 0 ? `${fmt(rate, 0)}/s` : `closed loop, ${CONCURRENCY} callers`,
    achieved,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    calls: latencies.length,
    errors,
    wrong,
    byKind,
    firstError,
    firstWrong,
    cpuPerCall: cpu / Math.max(1, latencies.length),
  };
}

// 1. MatchOrCreate.
let created = 0;
function matchOrCreate(client: Client): () => Call {
  return () => {
    if (Math.random() < MATCH_SHARE) {
      const phone = seedPhone(existing());
      return async () => {
        const res = await client.matchOrCreate(
          { name: 'Bench Caller', points: [{ type: PointType.POINT_TYPE_PHONE, value: spelled(phone), network: '', verified: false }], provenance: { kind: ProvenanceKind.PROVENANCE_KIND_REQUEST, refId: '' }, defaultCountry: '' },
          tenant,
        );
        const ok = !res.created && (res.contact?.points.length ? phoneOf(res.contact).includes(phone) : true);
        return { ok, kind: 'match', detail: ok ? undefined : `match of ${phone}: created=${res.created}, phones ${phoneOf(res.contact).join(' ')}` };
      };
    }
    const phone = fresh();
    const points = [{ type: PointType.POINT_TYPE_PHONE, value: spelled(phone), network: '', verified: false }];
    if (Math.random() < 0.5) points.push({ type: PointType.POINT_TYPE_EMAIL, value: `Bench.${runId}.${phone.slice(1)}@Example.org`, network: '', verified: false });
    const name = Math.random() < 0.6 ? `${pickOf(NAMES.ruFirst[0])} ${pickOf(NAMES.ruSurname[0])}` : `${pickOf(NAMES.enFirst)} ${pickOf(NAMES.enLast)}`;
    return async () => {
      const res = await client.matchOrCreate({ name, points, provenance: { kind: ProvenanceKind.PROVENANCE_KIND_REQUEST, refId: '' }, defaultCountry: '' }, tenant);
      if (res.created) created++;
      return { ok: res.created, kind: 'create', detail: res.created ? undefined : `create of ${phone} matched ${res.contact?.id}` };
    };
  };
}

// 2. LookupContact by phone.
function lookup(client: Client): () => Call {
  return () => {
    const known = Math.random() < 0.95;
    const phone = known ? seedPhone(existing()) : fresh();
    return async () => {
      try {
        const res = await client.lookupContact({ point: { type: PointType.POINT_TYPE_PHONE, value: spelled(phone), network: '', verified: false }, defaultCountry: '' }, tenant);
        const ok = known && phoneOf(res.contact).includes(phone);
        return { ok, kind: known ? 'found' : 'unknown', detail: ok ? undefined : `lookup of ${phone} (${known ? 'seeded' : 'unknown'}) returned ${phoneOf(res.contact).join(' ')}` };
      } catch (err) {
        if ((err as ServiceError).code === status.NOT_FOUND) return { ok: !known, kind: known ? 'found' : 'unknown', detail: known ? `lookup of seeded ${phone}: NOT_FOUND` : undefined };
        throw err;
      }
    };
  };
}

// 3. ListContacts search.
function fragment(words: string[]): string {
  const w = pickOf(words);
  const len = Math.min(w.length, 4 + rnd(Math.max(1, w.length - 3)));
  const from = rnd(w.length - len + 1);
  const f = w.slice(from, from + len);
  return pickOf([f.toLowerCase(), f.toUpperCase(), f[0].toUpperCase() + f.slice(1).toLowerCase()]);
}
const RU_WORDS = [...NAMES.ruSurname[0], ...NAMES.ruSurname[1], ...NAMES.ruFirst[0], ...NAMES.ruFirst[1]];
const EN_WORDS = [...NAMES.enLast, ...NAMES.enFirst];
/** A name nobody has (a typo, a person not in the base): 5 random letters, checked to match nothing below. */
const ABSENT_CYRILLIC = () => `щ${Array.from({ length: 4 }, () => pickOf([...'ьъыэюяжщф'])).join('')}`;
const ABSENT_LATIN = () => `q${Array.from({ length: 4 }, () => pickOf([...'xzqjw'])).join('')}`;
/** The mix of ListContacts queries: the three kinds of the brief evenly, plus one search in ten for a name that is not there. */
const SEARCH_KINDS = (process.env.BENCH_CONTACTS_SEARCH_MIX ?? 'name-cyrillic:3,name-latin:3,phone-digits:3,name-absent:1').split(',').flatMap((kv) => {
  const [k, w] = kv.split(':');
  return Array.from({ length: Number(w ?? 1) }, () => k);
});
function search(client: Client): () => Call {
  return () => {
    const kind = pickOf(SEARCH_KINDS);
    let query: string;
    if (kind === 'name-absent') query = pickOf([ABSENT_CYRILLIC, ABSENT_LATIN])();
    else if (kind === 'phone-digits') {
      const digits = seedPhone(existing()).slice(3); // the 9 digits after +79
      const len = 4 + rnd(4);
      const from = rnd(digits.length - len + 1);
      query = digits.slice(from, from + len);
    } else query = fragment(kind === 'name-cyrillic' ? RU_WORDS : EN_WORDS);
    const needle = searchNameOf(query);
    // The service also reads digits typed with Russia's national prefix 8 as 7… (services/contacts/src/domain/search.ts).
    const digitForms = query.startsWith('8') ? [query, `7${query.slice(1)}`] : [query];
    return async () => {
      const res = await client.listContacts({ query, companyId: '', pageSize: 25, cursor: '' }, tenant);
      const hit = (c: Contact) =>
        c.tenantId === BENCH_TENANT_A &&
        (kind === 'phone-digits'
          ? c.points.length === 0 || c.points.some((p) => digitForms.some((d) => p.value.replace(/\D/g, '').includes(d)))
          : searchNameOf(c.name).includes(needle) || c.points.length === 0 || c.points.some((p) => p.value.includes(needle)));
      // Every digit query comes from an existing phone, so it must find at least that contact; an absent name nothing.
      const bad = res.contacts.find((c) => !hit(c));
      const ok = !bad && (kind !== 'phone-digits' || res.contacts.length > 0) && (kind !== 'name-absent' || res.contacts.length === 0);
      return { ok, kind, detail: ok ? undefined : `${kind} ${JSON.stringify(query)}: ${bad ? `hit ${JSON.stringify(bad.name)} ${bad.points.map((p) => p.value).join(' ')}` : `${res.contacts.length} results`}` };
    };
  };
}

/** Checks that the seeder wrote search_name and digits as the service does, on a contact the service creates. */
async function checkSeedShape(client: Client, url: string): Promise<string> {
  const phone = fresh();
  const name = 'Фёдорова Алёна Bench';
  try {
    const res = await client.matchOrCreate(
      { name, points: [{ type: PointType.POINT_TYPE_PHONE, value: spelled(phone), network: '', verified: false }], provenance: { kind: ProvenanceKind.PROVENANCE_KIND_REQUEST, refId: '' }, defaultCountry: '' },
      tenant,
    );
    const pg = new PgClient({ connectionString: url });
    await pg.connect();
    try {
      const c = (await pg.query('SELECT search_name FROM contacts WHERE id = $1', [res.contact!.id])).rows[0];
      const p = (await pg.query(`SELECT value, digits FROM contact_points WHERE contact_id = $1 AND type = 'phone'`, [res.contact!.id])).rows[0];
      const problems = [];
      if (c?.search_name !== searchNameOf(name)) problems.push(`search_name: service ${JSON.stringify(c?.search_name)} vs seeder ${JSON.stringify(searchNameOf(name))}`);
      if (p?.value !== phone || p?.digits !== phone.slice(1)) problems.push(`phone point: service ${JSON.stringify(p)} vs seeder ${JSON.stringify({ value: phone, digits: phone.slice(1) })}`);
      return problems.length ? `WARNING the seeded rows differ from the service's: ${problems.join('; ')}` : 'seeded rows have the shape of the service\'s (search_name, phone value, digits)';
    } finally {
      await pg.end();
    }
  } catch (err) {
    return `WARNING could not check the seed's shape: ${(err as Error).message}`;
  }
}

function row(r: PhaseResult, target: number, p50Target?: number): string[] {
  const met = r.errors === 0 && r.wrong === 0 && r.p99 <= target && (p50Target === undefined || r.p50 <= p50Target);
  return [
    r.phase,
    r.offered,
    `${fmt(r.achieved, 0)}/s`,
    `${fmt(r.p50, 2)} ms`,
    `${fmt(r.p99, 2)} ms`,
    `p99 ≤ ${target} ms`,
    met ? 'met' : 'missed',
    `${fmt(r.cpuPerCall, 2)} ms`,
    `${r.errors}${r.firstError ? ` (${r.firstError.slice(0, 60)})` : ''}`,
    String(r.wrong),
  ];
}

function table(rows: string[][]): string {
  const head = ['phase', 'offered', 'achieved', 'p50', 'p99', 'target', '', 'contacts CPU/call', 'errors', 'wrong'];
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main() {
  const urls = stackUrls();
  let url: string;
  let drop: (() => Promise<void>) | undefined;
  if (REUSE_DB) {
    url = databaseUrl(urls.databaseUrl, REUSE_DB);
    console.log(`reusing the seeded database ${REUSE_DB} (kept)`);
  } else {
    const db = await createTestDatabase('bench_contacts');
    url = db.url;
    drop = db.drop;
  }
  let svc: ContactsProcess | undefined;
  try {
    if (!REUSE_DB) {
      await (await startContactsProcess(url)).stop(); // migrates the fresh database
      console.log(`seeding ${CONTACTS.toLocaleString('en-US')} + ${OTHER.toLocaleString('en-US')} contacts`);
      const seed = await seedContacts({ databaseUrl: url, tenantId: BENCH_TENANT_A, contacts: CONTACTS, otherTenantId: BENCH_TENANT_B, otherContacts: OTHER });
      console.log(`seeded in ${fmt(seed.seconds, 1)} s: ${Object.entries(seed.rows).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ')}`);
    }
    svc = await startContactsProcess(url);
    console.log(`contacts as a real process (pid ${svc.pid}) at ${svc.address}; log ${svc.logFile}`);
    const client = createClient(ContactsServiceService, { address: svc.address, defaultDeadlineMs: 5000, maxInFlight: 10_000 });
    await client.waitForReady(5000);
    const countA = async () => {
      const pg = new PgClient({ connectionString: url });
      await pg.connect();
      try {
        return Number((await pg.query('SELECT count(*) AS n FROM contacts WHERE tenant_id = $1', [BENCH_TENANT_A])).rows[0].n);
      } finally {
        await pg.end();
      }
    };
    const atStart = await countA();
    const shape = await checkSeedShape(client, url);

    const results: { r: PhaseResult; target: number; p50?: number }[] = [];
    const pid = svc.pid;
    await new Promise((r) => setTimeout(r, 3000)); // let the start settle (JIT, consumer group joins)
    const idle0 = cpuMs(pid);
    await new Promise((r) => setTimeout(r, 3000));
    idleCpuPerSecond = (cpuMs(pid) - idle0) / 3;
    const phase = async (name: string, make: () => Call, target: number, p50?: number) => {
      const closed = await run(name, make, 0, pid);
      results.push({ r: closed, target, p50 });
      console.log(`  ${name}, closed loop: ${fmt(closed.achieved, 0)}/s, p50 ${fmt(closed.p50, 2)} ms, p99 ${fmt(closed.p99, 2)} ms, errors ${closed.errors}, wrong ${closed.wrong}`);
      const rate = Math.max(1, Math.round(closed.achieved * LOAD));
      const fixed = await run(name, make, rate, pid);
      results.push({ r: fixed, target, p50 });
      console.log(`  ${name} @ ${rate}/s: ${fmt(fixed.achieved, 0)}/s, p50 ${fmt(fixed.p50, 2)} ms, p99 ${fmt(fixed.p99, 2)} ms, errors ${fixed.errors}, wrong ${fixed.wrong}`);
    };
    await phase('MatchOrCreate', matchOrCreate(client), 10);
    await phase('LookupContact by phone', lookup(client), 5);
    await phase('ListContacts search', search(client), 50, 50);

    // Every create made exactly one contact of tenant A; tenant B is untouched.
    const pg = new PgClient({ connectionString: url });
    await pg.connect();
    const counts = (await pg.query<{ tenant_id: string; n: string }>('SELECT tenant_id, count(*) AS n FROM contacts GROUP BY tenant_id')).rows;
    await pg.end();
    client.close();

    const rows: string[][] = [];
    for (const { r, target, p50 } of results) {
      rows.push(row(r, target, p50));
      if (r.byKind.size > 1)
        for (const [kind, ls] of [...r.byKind].sort(([a], [b]) => a.localeCompare(b)))
          rows.push([`  ${kind}`, '', `${fmt(ls.length / SECONDS, 0)}/s`, `${fmt(percentile(ls, 50), 2)} ms`, `${fmt(percentile(ls, 99), 2)} ms`, '', '', '', '', '']);
    }
    console.log('');
    console.log(`machine: ${machine()}; ${await postgresSettings(urls.databaseUrl)}; load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(`${CONTACTS.toLocaleString('en-US')} contacts in tenant A, ${OTHER.toLocaleString('en-US')} in tenant B; ${CONCURRENCY} callers on one channel; ${SECONDS} s per run after ${WARMUP_S} s warm-up; fixed rate = ${LOAD} × closed-loop capacity`);
    console.log(shape);
    console.log(`contacts CPU/call: the service process's user+system CPU per answered call, its idle ${fmt(idleCpuPerSecond, 1)} ms/s subtracted`);
    const newA = Number(counts.find((c) => c.tenant_id === BENCH_TENANT_A)?.n ?? 0) - atStart;
    console.log(
      `contacts after the run: ${counts.map((c) => `${c.tenant_id} ${Number(c.n).toLocaleString('en-US')}`).join(', ')}; tenant A gained ${newA} = ${created} answered created=true + 1 shape check: ${newA === created + 1 ? 'consistent' : 'INCONSISTENT'}`,
    );
    console.log(table(rows));
    for (const { r } of results) if (r.firstWrong) console.log(`first wrong answer, ${r.phase} (${r.offered}): ${r.firstWrong}`);
  } finally {
    await svc?.stop();
    await drop?.();
    await dropBenchTopics();
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
