/**
 * The self-hosted SIP path end to end: the shipped deploy/kamailio/kamailio.cfg run unprivileged on high
 * ports against the platform's gateway, a SIPp UAC calling an advertising number, a SIPp UAS as the
 * seller's extension. Kamailio asks /webhooks/telephony/{id}/route whom to ring (intake's rules: the
 * seller), relays the INVITE to the UAS and reports ringing / answered / ended — or missed when the
 * extension is busy or never answers — to /state; telephony keeps the events and makes the call (with its phone request).
 * Skipped with one line when kamailio or sipp are not installed (CI installs them).
 */
import { IdentityServiceService, Role } from '@crm/contracts/crm/identity/v1/identity';
import { DepartmentKind, TeamServiceService } from '@crm/contracts/crm/identity/v1/team';
import { Channel } from '@crm/contracts/crm/intake/v1/request';
import { AssignmentStrategy, RoutingServiceService } from '@crm/contracts/crm/intake/v1/routing';
import { ConnectionServiceService, Provider } from '@crm/contracts/crm/telephony/v1/telephony';
import { createClient, type TenantContext } from '@crm/grpc';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { startPlatform, type Platform } from '../support/platform';

const ROOT = join(__dirname, '..', '..');
const KAMAILIO = '/usr/sbin/kamailio';
const SIPP = '/usr/bin/sipp';
const SCENARIOS = join(__dirname, 'sipp');
const have = existsSync(KAMAILIO) && existsSync(SIPP);
if (!have) console.log('sip.integration.test.ts skipped: kamailio and sipp are not installed (apt-get install kamailio kamailio-utils-modules kamailio-extra-modules sip-tester)');
const maybe = have ? describe : describe.skip;

const ADVERTISING = '+74951230077';
const CALLER = '79165550177';

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function run(cmd: string, args: string[], log: string[]): ChildProcess {
  const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  c.stdout!.on('data', (d: Buffer) => log.push(d.toString()));
  c.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
  return c;
}

const exited = (c: ChildProcess, ms: number): Promise<number | null> =>
  new Promise((resolve, reject) => {
    if (c.exitCode !== null) return resolve(c.exitCode);
    const t = setTimeout(() => reject(new Error(`${c.spawnargs.slice(0, 3).join(' ')} did not exit within ${ms} ms`)), ms);
    c.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

maybe('kamailio + SIPp through the shipped config', () => {
  let p: Platform;
  let pool: Pool;
  let kamailio: ChildProcess | undefined;
  let dir: string;
  let kPort: number;
  let uasPort: number;
  let connectionId: string;
  let seller: string;
  const klog: string[] = [];

  beforeAll(async () => {
    p = await startPlatform({ telephonyEnv: { TELEPHONY_DECIDE_TIMEOUT_MS: '1500' } });
    pool = new Pool({ connectionString: p.telephonyDbUrl, max: 2 });
    const tenantId = p.tenants.a.id;
    const svc: TenantContext = { tenantId, callerId: 'test', callerKind: 'service' };
    const admin: TenantContext = { tenantId, callerId: randomUUID(), callerKind: 'user', roles: ['admin'] };
    const identity = createClient(IdentityServiceService, { address: p.identityAddr, defaultDeadlineMs: 15_000 });
    const team = createClient(TeamServiceService, { address: p.identityAddr, defaultDeadlineMs: 15_000 });
    const routing = createClient(RoutingServiceService, { address: p.intakeAddr, defaultDeadlineMs: 15_000 });
    const connections = createClient(ConnectionServiceService, { address: p.telephonyAddr, defaultDeadlineMs: 15_000 });
    try {
      const sales = (await team.createTeamDepartment({ name: 'SIP sales', kind: DepartmentKind.DEPARTMENT_KIND_SALES, slaFirstResponseMinutes: 0, schedule: undefined }, svc)).department!.id;
      seller = (await identity.createUser({ email: `sip.seller.${Date.now()}@sip.test`, displayName: 'SIP Seller', password: 'correct horse battery', roles: [Role.ROLE_SELLER] }, svc)).user!.id;
      await team.updateUser({ id: seller, roles: [], updateRoles: false, departmentIds: [sales], updateDepartmentIds: true, headedDepartmentIds: [], updateHeadedDepartmentIds: false }, svc);
      const rule = {
        id: 'phone',
        name: 'Phone',
        departmentId: sales,
        strategy: AssignmentStrategy.ASSIGNMENT_STRATEGY_ROUND_ROBIN,
        ownerFirst: false,
        overflowDepartmentId: '',
        disabled: false,
        when: { channels: [Channel.CHANNEL_PHONE], dialedNumberKinds: [], projectIds: [], utmSources: [], clientStates: [], owner: '', workingHours: '' },
      };
      const saved = await routing.saveDraft({ rules: [rule], fallbackDepartmentId: sales, fallbackStrategy: AssignmentStrategy.ASSIGNMENT_STRATEGY_QUEUE, comment: 'sip' }, admin);
      await routing.publishRouting({ version: saved.version!.version, expectedPublishedVersion: 0 }, admin);
      const made = await connections.createConnection(
        { connection: { provider: Provider.PROVIDER_KAMAILIO, name: 'Kamailio', apiBaseUrl: '', account: '', secret: '', fallbackTarget: '', isDefault: true, disabled: false } },
        admin,
      );
      connectionId = made.connection!.id;
      await connections.setExtension({ connectionId, userId: seller, extension: '201' }, admin);
      const now = new Date();
      await pool.query(`INSERT INTO numbers (id, tenant_id, phone, kind, utm_source, connection_id, created_at, updated_at) VALUES ($1, $2, $3, 'advertising', 'sip-test', $4, $5, $5)`, [randomUUID(), tenantId, ADVERTISING, connectionId, now]);

      dir = mkdtempSync(join(tmpdir(), 'kamailio-'));
      kPort = await freeUdpPort();
      uasPort = await freeUdpPort();
      kamailio = run(
        KAMAILIO,
        [
          '-f', join(ROOT, 'deploy', 'kamailio', 'kamailio.cfg'),
          '-DD', '-E', '-w', dir, '-P', join(dir, 'kamailio.pid'), '-Y', dir, '-m', '64', '-M', '8',
          '-A', `LISTEN=udp:127.0.0.1:${kPort}`,
          '-A', `GATEWAY_URL="${p.base}"`,
          '-A', `CONNECTION_ID="${connectionId}"`,
          '-A', `SIGNING_SECRET="${made.signingSecret}"`,
          '-A', `EXTENSIONS_HOST="127.0.0.1:${uasPort}"`,
          '-A', 'RING_TIMEOUT_MS=4000',
        ],
        klog,
      );
      await until('kamailio to listen', async () => (klog.join('').includes('Listening on') || klog.join('').includes('INFO: <core> [core/tcp_main') || klog.join('').includes('child') ? true : kamailio!.exitCode !== null ? (() => { throw new Error(`kamailio exited: ${klog.join('')}`); })() : undefined), 10_000);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      for (const c of [identity, team, routing, connections]) c.close();
    }
  }, 120_000);

  afterAll(async () => {
    if (kamailio && kamailio.exitCode === null) {
      kamailio.kill('SIGTERM');
      await exited(kamailio, 5000).catch(() => kamailio?.kill('SIGKILL'));
    }
    await pool?.end();
    await p?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function call(uasScenario: string, holdMs: number): Promise<string[]> {
    const log: string[] = [];
    const uas = run(SIPP, ['-sf', join(SCENARIOS, uasScenario), '-i', '127.0.0.1', '-p', String(uasPort), '-m', '1', '-nostdin', '-timeout', '25s'], log);
    await new Promise((r) => setTimeout(r, 300));
    const uacPort = await freeUdpPort();
    const uac = run(SIPP, ['-sf', join(SCENARIOS, 'uac.xml'), '-i', '127.0.0.1', '-p', String(uacPort), `127.0.0.1:${kPort}`, '-s', ADVERTISING.slice(1), '-key', 'caller', CALLER, '-m', '1', '-d', String(holdMs), '-nostdin', '-timeout', '25s'], log);
    const [uacCode, uasCode] = await Promise.all([exited(uac, 30_000), exited(uas, 30_000)]);
    if (uacCode !== 0 || uasCode !== 0) throw new Error(`sipp failed (uac ${uacCode}, uas ${uasCode}):\n${log.join('').slice(-3000)}\nkamailio:\n${klog.join('').slice(-3000)}`);
    return log;
  }

  const events = async (kinds: string[]) =>
    until(`webhook events ${kinds.join(', ')}`, async () => {
      const { rows } = await pool.query<{ delivery_id: string; path: string }>("SELECT delivery_id, path FROM webhook_events WHERE connection_id = $1 AND path = '/state' ORDER BY received_at", [connectionId]);
      const found = kinds.map((k) => rows.find((r) => r.delivery_id.endsWith(`:${k}`) && !seen.has(r.delivery_id)));
      return found.every(Boolean) ? found.map((r) => r!.delivery_id) : undefined;
    });
  const seen = new Set<string>();

  it('routes an answered call to the seller and reports ringing, answered and ended', async () => {
    const t0 = Date.now();
    await call('uas-answer.xml', 800);
    const ids = await events(['ringing', 'answered', 'ended']);
    ids.forEach((i) => seen.add(i));
    const callId = ids[0]!.slice(0, ids[0]!.lastIndexOf(':'));
    expect(ids).toEqual([`${callId}:ringing`, `${callId}:answered`, `${callId}:ended`]);
    const { rows } = await pool.query('SELECT decision FROM call_decisions WHERE connection_id = $1 AND provider_call_id = $2', [connectionId, callId]);
    expect(rows[0].decision).toMatchObject({ extensions: ['201'], userIds: [seller], fallback: false });
    const { rows: ev } = await pool.query("SELECT events FROM webhook_events WHERE delivery_id = $1", [`${callId}:ringing`]);
    expect(ev[0].events[0]).toMatchObject({ kind: 'ringing', caller: `+${CALLER}`, dialed: ADVERTISING, extensions: ['201'] });
    // The call record with its phone request (the calls area applies the events asynchronously).
    const c = await until('the call to end', async () => {
      const { rows: calls } = await pool.query('SELECT status, request_id, user_id, missed FROM calls WHERE connection_id = $1 AND provider_call_id = $2', [connectionId, callId]);
      return calls[0]?.status === 'ended' ? calls[0] : undefined;
    });
    expect(c).toMatchObject({ status: 'ended', user_id: seller, missed: false });
    expect(c.request_id).not.toBe('');
    console.log(`sip: answered call routed, reported and recorded in ${Date.now() - t0} ms`);
  }, 60_000);

  it('a busy extension makes a missed call', async () => {
    await call('uas-busy.xml', 100);
    const [id] = await events(['missed']);
    seen.add(id!);
    const callId = id!.slice(0, id!.lastIndexOf(':'));
    const { rows: ev } = await pool.query('SELECT events FROM webhook_events WHERE delivery_id = $1', [id]);
    expect(ev[0].events[0]).toMatchObject({ kind: 'missed', disposition: 'busy' });
    const c = await until('the missed call', async () => {
      const { rows: calls } = await pool.query('SELECT status, missed FROM calls WHERE connection_id = $1 AND provider_call_id = $2', [connectionId, callId]);
      return calls[0]?.missed ? calls[0] : undefined;
    });
    expect(c).toMatchObject({ status: 'missed', missed: true });
  }, 60_000);

  it('an extension that never answers makes a missed call (no answer) after the ring timeout', async () => {
    await call('uas-noanswer.xml', 100);
    const [ringing, missed] = await events(['ringing', 'missed']);
    seen.add(ringing!);
    seen.add(missed!);
    const { rows: ev } = await pool.query('SELECT events FROM webhook_events WHERE delivery_id = $1', [missed]);
    expect(ev[0].events[0]).toMatchObject({ kind: 'missed', disposition: 'no_answer' });
  }, 60_000);
});
