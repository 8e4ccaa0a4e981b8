/**
 * npm run bench:routing — routing with a 200-rule set (BENCH_ROUTING_RULES): the pure evaluator
 * (`decide`, compiled once, the trace built, in-process) over BENCH_ROUTING_DECISIONS (50,000) sample
 * requests, then SimulateRoute over gRPC against a real intake (in-process, its own fresh database) with
 * identity (in-process, its own database: the roster cached as in production) for
 * BENCH_ROUTING_CALLS (2,000) sequential calls. Prints p50 / p99 / max of each (targets: decide ≤ 1 ms,
 * SimulateRoute ≤ 5 ms at p50/p99 on a quiet machine).
 */
import { parseConfig } from '@crm/config';
import { IdentityServiceService, Role } from '@crm/contracts/crm/identity/v1/identity';
import { DepartmentKind, TeamServiceService } from '@crm/contracts/crm/identity/v1/team';
import { Channel } from '@crm/contracts/crm/intake/v1/request';
import { AssignmentStrategy, RoutingServiceService, type RouteInput, type RoutingRule } from '@crm/contracts/crm/intake/v1/routing';
import { createClient } from '@crm/grpc';
import { createRunTopics, createTestDatabase, kafkaFor, stackUrls, testLogger, uniqueName } from '@crm/testing';
import { identityEnv, startIdentity } from '../../services/identity/src/app';
import { intakeEnv, startIntake } from '../../services/intake/src/app';
import { compile, decide, type RouteFacts } from '../../services/intake/src/routing/evaluate';
import { parseRuleSet } from '../../services/intake/src/routing/rules';
import type { Roster } from '../../services/intake/src/team';
import { fmt, machine, percentile } from './stats';

const RULES = Number(process.env.BENCH_ROUTING_RULES ?? 200);
const DECISIONS = Number(process.env.BENCH_ROUTING_DECISIONS ?? 50_000);
const CALLS = Number(process.env.BENCH_ROUTING_CALLS ?? 2_000);

const CHANNELS = [Channel.CHANNEL_PHONE, Channel.CHANNEL_CHAT, Channel.CHANNEL_EMAIL, Channel.CHANNEL_SIGNUP, Channel.CHANNEL_WEB_FORM];
const CHANNEL_NAMES = ['phone', 'chat', 'email', 'signup', 'web_form'] as const;
const KINDS = ['advertising', 'support', 'sales', 'none'];
const STATES = ['none', 'not_client', 'potential', 'active', 'former'];
const office = { timeZone: 'Europe/Moscow', hours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, from: '09:00', to: '18:00' })), holidays: [] };

/** 200 rules of 2..4 conditions each over utm sources, channels, kinds, client states, owner and hours; the matching rule is spread over the whole list. */
function rules(departments: string[]): RoutingRule[] {
  return Array.from({ length: RULES }, (_, i) => ({
    id: `r${i}`,
    name: `Rule ${i}`,
    departmentId: departments[i % departments.length],
    strategy: [AssignmentStrategy.ASSIGNMENT_STRATEGY_ROUND_ROBIN, AssignmentStrategy.ASSIGNMENT_STRATEGY_LEAST_LOADED, AssignmentStrategy.ASSIGNMENT_STRATEGY_QUEUE][i % 3],
    ownerFirst: i % 4 === 0,
    overflowDepartmentId: '',
    disabled: i % 50 === 49,
    when: {
      channels: [CHANNELS[i % 5], CHANNELS[(i + 2) % 5]],
      dialedNumberKinds: i % 3 === 0 ? [KINDS[i % 4]] : [],
      projectIds: [],
      utmSources: [`src${i % 100}`, `src${(i * 7) % 100}`],
      clientStates: i % 5 === 0 ? [STATES[i % 5], STATES[(i + 1) % 5]] : [],
      owner: ['', 'has_owner', 'no_owner'][i % 3],
      workingHours: ['', '', 'open', 'closed'][i % 4],
    },
  }));
}

function sample(i: number): RouteFacts & { input: RouteInput } {
  const channel = i % 5;
  const utm = `src${(i * 13) % 120}`;
  const state = STATES[i % 5];
  const owner = i % 2 ? '0190aaaa-0000-7000-8000-000000000001' : '';
  const kind = KINDS[(i >> 1) % 4];
  return {
    channel: CHANNEL_NAMES[channel],
    dialedNumberKind: kind,
    projectId: null,
    utmSource: utm,
    clientState: state,
    ownerId: owner || null,
    at: new Date(),
    input: { channel: CHANNELS[channel], dialedNumberKind: kind, projectId: '', utmSource: utm, clientState: state, ownerId: owner, phone: '', email: '', at: '' },
  };
}

function row(name: string, values: number[]): string {
  return `| ${name.padEnd(34)} | ${String(values.length).padStart(7)} | ${fmt(percentile(values, 50), 3).padStart(8)} | ${fmt(percentile(values, 99), 3).padStart(8)} | ${fmt(Math.max(...values), 3).padStart(8)} |`;
}

async function main(): Promise<void> {
  const out: string[] = [`routing bench — ${RULES} rules; ${machine()}`, '', '| case                               | samples | p50 (ms) | p99 (ms) | max (ms) |', '|---|---:|---:|---:|---:|'];

  // 1. decide() in-process on an in-memory roster.
  const depIds = ['0190a0a0-0000-7000-8000-000000000001', '0190a0a0-0000-7000-8000-000000000002', '0190a0a0-0000-7000-8000-000000000003'];
  const set = parseRuleSet({ rules: rules(depIds), fallbackDepartmentId: depIds[0], fallbackStrategy: AssignmentStrategy.ASSIGNMENT_STRATEGY_QUEUE });
  const compiled = compile(set, 1);
  const roster: Roster = {
    at: new Date(),
    tenantTimeZone: 'Europe/Moscow',
    departments: new Map(depIds.map((id, i) => [id, { id, name: id, kind: 1, slaFirstResponseMinutes: 15, schedule: i === 2 ? office : undefined, open: true, headUserIds: [] }])),
    users: new Map(),
  };
  const samples = Array.from({ length: 1000 }, (_, i) => sample(i));
  for (let i = 0; i < 5000; i += 1) decide(compiled, samples[i % samples.length], roster); // warm-up
  const decideMs: number[] = [];
  let fallbacks = 0;
  let scanned = 0;
  for (let i = 0; i < DECISIONS; i += 1) {
    const t = performance.now();
    const m = decide(compiled, samples[i % samples.length], roster);
    decideMs.push(performance.now() - t);
    if (m.rule === null) fallbacks += 1;
    scanned += m.trace.length;
  }
  out.push(row('decide (in-process, with trace)', decideMs));

  // 2. SimulateRoute over gRPC against real intake + identity.
  const logger = testLogger('bench-routing');
  const urls = stackUrls();
  const suffix = `.${uniqueName('brt')}`;
  await createRunTopics(kafkaFor(urls.kafkaBrokers, logger), suffix);
  const idDb = await createTestDatabase('bench_rt_identity');
  const inDb = await createTestDatabase('bench_rt_intake');
  const common = { KAFKA_BROKERS: urls.kafkaBrokers.join(','), GRPC_PORT: '0', GRPC_HOST: '127.0.0.1', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', TOPIC_SUFFIX: suffix };
  const identity = await startIdentity(parseConfig(identityEnv, { ...common, DATABASE_URL: idDb.url }));
  const identityAddr = `127.0.0.1:${identity.grpc.port}`;
  const intake = await startIntake(parseConfig(intakeEnv, { ...common, DATABASE_URL: inDb.url, CONTACTS_GRPC_ADDR: '127.0.0.1:1', IDENTITY_GRPC_ADDR: identityAddr }));
  const admin = createClient(IdentityServiceService, { address: identityAddr });
  const team = createClient(TeamServiceService, { address: identityAddr });
  const routing = createClient(RoutingServiceService, { address: `127.0.0.1:${intake.grpc.port}`, defaultDeadlineMs: 10_000 });
  let simulateMs: number[] = [];
  try {
    const t = (await admin.createTenant({ name: 'Bench', slug: `b-${uniqueName('r').replace(/_/g, '-')}`.slice(0, 60), locale: 'en' }, { tenantId: 'platform', callerId: 'bench', callerKind: 'service' })).tenant!;
    const svc = { tenantId: t.id, callerId: 'bench', callerKind: 'service' as const };
    const deps: string[] = [];
    for (const [i, name] of ['Sales', 'Support', 'Service'].entries())
      deps.push((await team.createTeamDepartment({ name, kind: DepartmentKind.DEPARTMENT_KIND_SALES, slaFirstResponseMinutes: 15, schedule: i === 2 ? office : undefined }, svc)).department!.id);
    for (let i = 0; i < 9; i += 1) {
      const u = await admin.createUser({ email: `s${i}@bench.test`, displayName: `Seller ${i}`, password: 'correct horse battery', roles: [Role.ROLE_SELLER] }, svc);
      await team.updateUser({ id: u.user!.id, roles: [], updateRoles: false, departmentIds: [deps[i % 3]], updateDepartmentIds: true, headedDepartmentIds: [], updateHeadedDepartmentIds: false }, svc);
    }
    const saved = await routing.saveDraft({ rules: rules(deps), fallbackDepartmentId: deps[0], fallbackStrategy: AssignmentStrategy.ASSIGNMENT_STRATEGY_QUEUE, comment: 'bench' }, svc);
    const version = saved.version!.version;
    for (let i = 0; i < 200; i += 1) await routing.simulateRoute({ version, input: samples[i].input, rules: [], fallbackDepartmentId: '', fallbackStrategy: 0, useRules: false }, svc); // warm-up
    simulateMs = [];
    for (let i = 0; i < CALLS; i += 1) {
      const t0 = performance.now();
      await routing.simulateRoute({ version, input: samples[i % samples.length].input, rules: [], fallbackDepartmentId: '', fallbackStrategy: 0, useRules: false }, svc);
      simulateMs.push(performance.now() - t0);
    }
    out.push(row('SimulateRoute (gRPC, stored draft)', simulateMs));
  } finally {
    routing.close();
    team.close();
    admin.close();
    await intake.stop();
    await identity.stop();
    await inDb.drop();
    await idDb.drop();
  }
  out.push('', `decide: ${fmt((fallbacks / DECISIONS) * 100, 1)} % of samples fell through to the fallback; ${fmt(scanned / DECISIONS, 1)} rules looked at per decision on average.`);
  console.log(out.join('\n'));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
