/**
 * npm run bench:telephony-decide — "whom do I connect this caller to" as a PBX sees it: signed POSTs to
 * the gateway's /webhooks/telephony/{connection}/route of a kamailio connection (the path the shipped
 * Kamailio config asks on every INVITE), every process running (identity, intake, contacts, funnel,
 * reporting, telephony, gateway as separate processes on the local stack). Each request is a new call
 * (its own Call-ID: no remembered decision), dialing an advertising number whose rule round-robins a
 * department of BENCH_DECIDE_SELLERS (10) sellers with extensions. Offered BENCH_DECIDE_RATE req/s (500)
 * for BENCH_DECIDE_SECONDS (15): p50 / p99 and errors, and how many answers were the fallback (intake
 * slower than TELEPHONY_DECIDE_TIMEOUT_MS). Prints figures, asserts nothing (target p99 ≤ 10 ms).
 */
import { IdentityServiceService, Role } from '@crm/contracts/crm/identity/v1/identity';
import { DepartmentKind, TeamServiceService } from '@crm/contracts/crm/identity/v1/team';
import { Channel } from '@crm/contracts/crm/intake/v1/request';
import { AssignmentStrategy, RoutingServiceService } from '@crm/contracts/crm/intake/v1/routing';
import { ConnectionServiceService, Provider } from '@crm/contracts/crm/telephony/v1/telephony';
import { databaseUrl } from '@crm/db';
import { createClient, type TenantContext } from '@crm/grpc';
import { signKamailio } from '@crm/telephony/src/adapters/kamailio';
import autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { startBenchPlatform } from './platform';
import { fmt, machine, postgresSettings } from './stats';

const RATE = Number(process.env.BENCH_DECIDE_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_DECIDE_SECONDS ?? 15);
const SELLERS = Number(process.env.BENCH_DECIDE_SELLERS ?? 10);
const ADVERTISING = '+74951239999';

async function main() {
  const bench = await startBenchPlatform('benchdecide', {
    ports: { identity: 50201, intake: 50202, reporting: 50203, contacts: 50204, funnel: 50205, telephony: 50206, gateway: 18206 },
    gatewayEnv: { API_RATE_PER_CREDENTIAL: '10000000', GATEWAY_MAX_INFLIGHT: '100000' },
  });
  const { platform, demo, urls, prefix } = bench;
  try {
    const svc: TenantContext = { tenantId: demo.tenantId, callerId: 'bench', callerKind: 'service' };
    const admin: TenantContext = { tenantId: demo.tenantId, callerId: randomUUID(), callerKind: 'user', roles: ['admin'] };
    const identity = createClient(IdentityServiceService, { address: platform.addr.identity!, defaultDeadlineMs: 15_000 });
    const team = createClient(TeamServiceService, { address: platform.addr.identity!, defaultDeadlineMs: 15_000 });
    const routing = createClient(RoutingServiceService, { address: platform.addr.intake!, defaultDeadlineMs: 15_000 });
    const connections = createClient(ConnectionServiceService, { address: platform.addr.telephony!, defaultDeadlineMs: 15_000 });
    const sales = (await team.createTeamDepartment({ name: 'Bench phone sales', kind: DepartmentKind.DEPARTMENT_KIND_SALES, slaFirstResponseMinutes: 0, schedule: undefined }, svc)).department!.id;
    const made = await connections.createConnection(
      { connection: { provider: Provider.PROVIDER_KAMAILIO, name: 'Bench Kamailio', apiBaseUrl: '', account: '', secret: '', fallbackTarget: 'reception', isDefault: true, disabled: false } },
      admin,
    );
    const connectionId = made.connection!.id;
    for (let i = 0; i < SELLERS; i++) {
      const id = (await identity.createUser({ email: `bench.phone.${i}.${Date.now()}@bench.test`, displayName: `Phone ${i}`, password: 'correct horse battery', roles: [Role.ROLE_SELLER] }, svc)).user!.id;
      await team.updateUser({ id, roles: [], updateRoles: false, departmentIds: [sales], updateDepartmentIds: true, headedDepartmentIds: [], updateHeadedDepartmentIds: false }, svc);
      await connections.setExtension({ connectionId, userId: id, extension: String(100 + i) }, admin);
    }
    const rule = {
      id: 'ads-phone',
      name: 'Advertising calls',
      departmentId: sales,
      strategy: AssignmentStrategy.ASSIGNMENT_STRATEGY_ROUND_ROBIN,
      ownerFirst: true,
      overflowDepartmentId: '',
      disabled: false,
      when: { channels: [Channel.CHANNEL_PHONE], dialedNumberKinds: ['advertising'], projectIds: [], utmSources: [], clientStates: [], owner: '', workingHours: '' },
    };
    const versions = await routing.listRoutingVersions({ pageSize: 200 }, admin);
    const published = versions.versions.find((v) => v.status === 'published')?.version ?? 0;
    const saved = await routing.saveDraft({ rules: [rule], fallbackDepartmentId: sales, fallbackStrategy: AssignmentStrategy.ASSIGNMENT_STRATEGY_QUEUE, comment: 'bench' }, admin);
    await routing.publishRouting({ version: saved.version!.version, expectedPublishedVersion: published }, admin);
    for (const c of [identity, team, routing, connections]) c.close();
    const db = new Client({ connectionString: databaseUrl(urls.databaseUrl, `${prefix}telephony`) });
    await db.connect();
    await db.query(`INSERT INTO numbers (id, tenant_id, phone, kind, utm_source, created_at, updated_at) VALUES ($1, $2, $3, 'advertising', 'bench', now(), now())`, [randomUUID(), demo.tenantId, ADVERTISING]);

    const secret = made.signingSecret;
    let n = 0;
    const run = (rate: number, seconds: number) =>
      autocannon({
        url: platform.gatewayUrl,
        method: 'POST',
        connections: Math.min(100, Math.max(10, Math.ceil(rate / 10))),
        overallRate: rate,
        duration: seconds,
        requests: [
          {
            setupRequest: (req) => {
              const body = JSON.stringify({ call_id: `bench-${process.pid}-${n++}@127.0.0.1`, caller: `7916${String(1_000_000 + (n % 9_000_000)).padStart(7, '0')}`, dialed: ADVERTISING.slice(1), domain: 'pbx.bench' });
              const ts = Math.floor(Date.now() / 1000);
              return { ...req, path: `/webhooks/telephony/${connectionId}/route`, body, headers: { 'content-type': 'application/json', 'x-crm-signature': signKamailio(secret, ts, body) } };
            },
          },
        ],
      });
    await run(100, 3); // warm-up (connections, caches, the JIT)
    const before = Number((await db.query("SELECT count(*) AS n FROM call_decisions WHERE decision->>'fallback' = 'true'")).rows[0].n);
    const total0 = Number((await db.query('SELECT count(*) AS n FROM call_decisions')).rows[0].n);
    const r = await run(RATE, SECONDS);
    const fallbacks = Number((await db.query("SELECT count(*) AS n FROM call_decisions WHERE decision->>'fallback' = 'true'")).rows[0].n) - before;
    const decided = Number((await db.query('SELECT count(*) AS n FROM call_decisions')).rows[0].n) - total0;
    await db.end();
    const errors = r.errors + r.timeouts + r.non2xx;
    console.log(`\nmachine: ${machine()}; ${await postgresSettings(urls.databaseUrl)}`);
    console.log(
      `decision (POST /webhooks/telephony/{id}/route, kamailio, signed) offered ${RATE}/s for ${SECONDS} s: achieved ${fmt(r.requests.average, 0)}/s, p50 ${fmt(r.latency.p50)} ms, p99 ${fmt(r.latency.p99)} ms, max ${fmt(r.latency.max)} ms, errors ${errors}; ${decided} decisions remembered, ${fallbacks} of them the fallback (target p99 ≤ 10 ms)`,
    );
  } finally {
    await bench.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
