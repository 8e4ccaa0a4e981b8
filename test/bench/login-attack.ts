/**
 * npm run bench:login-attack — does a password-guessing attack starve everyone else? Every process
 * running (as bench:overload), identity with its default throttle (LOGIN_* variables: delays after 3
 * failures, an account lock after 10, an address lock after 50, 900 s). Through the gateway (TRUST_PROXY
 * on, so X-Forwarded-For is the client address identity counts), with the gateway's own per-address login
 * limit lifted (LOGIN_RATE_PER_IP; BENCH_LOGIN_RATE_PER_IP sets it) so every attempt reaches identity —
 * the worst case for identity:
 * 1. baseline: a legitimate client (the demo tenant's API key: another credential than the attacked
 *    account) calls GET /v1/requests?limit=20 at BENCH_LOGIN_LEGIT_RATE/s for BENCH_LOGIN_BASELINE_SECONDS;
 * 2. attack: for BENCH_LOGIN_ATTACK_SECONDS an open-loop attacker sends BENCH_LOGIN_ATTACK_RATE wrong
 *    passwords/s (POST /v1/session) at BENCH_LOGIN_ATTACK_ACCOUNTS accounts (the demo admin, then unknown
 *    e-mails) from BENCH_LOGIN_ATTACK_ADDRESSES addresses, while the legitimate client keeps its rate and a
 *    demo team member signs in with the right password once a second from an address of their own.
 * BENCH_LOGIN_ATTACK_VIA=grpc sends the attack straight to identity's Login (with client_address) instead,
 * which takes the gateway's admission control out of the attack's path. Prints attempts offered/achieved, the answer mix (401 = a password was checked, 429 = refused before
 * any hash), and the legitimate client's p50/p95/p99 in both phases (target p99 ≤ 100 ms during the attack).
 */
import { IdentityServiceService } from '@crm/contracts/crm/identity/v1/identity';
import { createClient, status as grpcStatus, type ServiceError } from '@crm/grpc';
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { DEMO } from '../../tools/src/demo';
import { startBenchPlatform } from './platform';
import { fmt, machine, percentile, postgresSettings, processCpu } from './stats';

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ATTACK_RATE = num('BENCH_LOGIN_ATTACK_RATE', 200);
const ATTACK_SECONDS = num('BENCH_LOGIN_ATTACK_SECONDS', 20);
const ATTACK_ADDRESSES = num('BENCH_LOGIN_ATTACK_ADDRESSES', 4);
const ATTACK_ACCOUNTS = num('BENCH_LOGIN_ATTACK_ACCOUNTS', 1);
const LEGIT_RATE = num('BENCH_LOGIN_LEGIT_RATE', 20);
const BASELINE_SECONDS = num('BENCH_LOGIN_BASELINE_SECONDS', 10);
/** The gateway's own per-address login limit; lifted by default so every attempt reaches identity. */
const EDGE_RATE = process.env.BENCH_LOGIN_RATE_PER_IP ?? '1000000000';
/** `gateway` (POST /v1/session with X-Forwarded-For) or `grpc` (identity's Login with client_address: the gateway's admission out of the attack's path). */
const VIA = process.env.BENCH_LOGIN_ATTACK_VIA === 'grpc' ? 'grpc' : 'gateway';

interface Answer {
  status: number;
  ms: number;
  reason?: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1024 });

function send(url: URL, method: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const t0 = performance.now();
  return new Promise<Answer>((resolve) => {
    const req = request(url, { method, agent, timeout: 10_000, headers: { ...headers, ...(body ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ms = performance.now() - t0;
        let reason: string | undefined;
        if (res.statusCode === 429) {
          try {
            reason = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { reason?: string }).reason;
          } catch {
            reason = undefined;
          }
        }
        resolve({ status: res.statusCode ?? 0, ms, reason });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, ms: performance.now() - t0 }));
    req.end(body);
  });
}

/** Open loop: `rate` calls a second for `seconds`, each leaving on schedule; every answer. */
async function openLoop(rate: number, seconds: number, make: (i: number) => Promise<Answer>): Promise<{ answers: Answer[]; sentIn: number }> {
  const out: Promise<Answer>[] = [];
  const start = performance.now();
  const total = Math.round(rate * seconds);
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    out.push(make(i));
  }
  const sentIn = (performance.now() - start) / 1000;
  return { answers: await Promise.all(out), sentIn };
}

function latency(answers: Answer[]) {
  const ok = answers.filter((a) => a.status === 200).map((a) => a.ms);
  return { n: answers.length, ok: ok.length, p50: percentile(ok, 50), p95: percentile(ok, 95), p99: percentile(ok, 99), max: ok.length ? Math.max(...ok) : NaN };
}

function mix(answers: Answer[]): string {
  const by = new Map<string, number>();
  for (const a of answers) {
    const k = a.status === 429 ? `429 ${a.reason ?? 'edge'}` : String(a.status);
    by.set(k, (by.get(k) ?? 0) + 1);
  }
  return [...by.entries()]
    .sort((x, y) => y[1] - x[1])
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');
}

/** Busy CPU seconds of the whole machine so far (/proc/stat), to show what else ran. */
function machineBusy(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (f.reduce((a, b) => a + b, 0) - f[3]! - f[4]!) / 100;
}

async function main() {
  const bench = await startBenchPlatform('loginatk', {
    ports: { identity: 50281, intake: 50282, reporting: 50283, contacts: 50284, funnel: 50285, telephony: 50286, gateway: 18390 },
    gatewayEnv: { TRUST_PROXY: 'true', LOGIN_RATE_PER_IP: EDGE_RATE, API_RATE_PER_CREDENTIAL: '10000000' },
  });
  const { platform, demo, urls, prefix } = bench;
  try {
    const member = demo.team?.[0];
    const base = platform.gatewayUrl;
    const list = new URL(`${base}/v1/requests?limit=20`);
    const session = new URL(`${base}/v1/session`);
    const legit = () => send(list, 'GET', { authorization: `Bearer ${demo.apiKey}` });
    // A few requests so the list is not empty.
    for (let i = 0; i < 20; i++) {
      await send(new URL(`${base}/v1/requests`), 'POST', { authorization: `Bearer ${demo.apiKey}` }, JSON.stringify({ channel: 'web_form', name: `Bench ${i}`, phone: `+7999${7000000 + i}` }));
    }
    await openLoop(LEGIT_RATE, 2, legit); // warm-up

    const baseline = latency((await openLoop(LEGIT_RATE, BASELINE_SECONDS, legit)).answers);

    const own = new Map(platform.processes.map((x) => [x.child.pid!, x.name]));
    const cpuBefore = processCpu(own, prefix);
    const busy0 = machineBusy();
    const accounts = Array.from({ length: ATTACK_ACCOUNTS }, (_, i) => (i === 0 ? DEMO.email : `nobody${i}@demo.local`));
    const identity = createClient(IdentityServiceService, { address: platform.addr.identity, maxInFlight: 100_000 });
    const platformCtx = { tenantId: 'platform', callerId: 'bench', callerKind: 'service' as const };
    const addressOf = (i: number) => `198.18.${Math.floor((i % ATTACK_ADDRESSES) / 250)}.${((i % ATTACK_ADDRESSES) % 250) + 1}`;
    const viaGrpc = async (i: number): Promise<Answer> => {
      const t0 = performance.now();
      try {
        await identity.login({ tenantSlug: demo.tenantSlug, email: accounts[i % accounts.length]!, password: `guess-${i}`, clientAddress: addressOf(i), userAgent: 'bench-attacker' }, platformCtx);
        return { status: 200, ms: performance.now() - t0 };
      } catch (err) {
        const e = err as ServiceError;
        const code = e.code === grpcStatus.UNAUTHENTICATED ? 401 : e.code === grpcStatus.RESOURCE_EXHAUSTED ? 429 : 500 + e.code;
        return { status: code, ms: performance.now() - t0, reason: e.metadata?.get('x-error-reason')[0]?.toString() };
      }
    };
    const attack = openLoop(ATTACK_RATE, ATTACK_SECONDS, (i) =>
      VIA === 'grpc'
        ? viaGrpc(i)
        : send(session, 'POST', { 'x-forwarded-for': addressOf(i), 'user-agent': 'bench-attacker' }, JSON.stringify({ tenant: demo.tenantSlug, email: accounts[i % accounts.length], password: `guess-${i}` })),
    );
    const during = openLoop(LEGIT_RATE, ATTACK_SECONDS, legit);
    const signIns = member
      ? openLoop(1, ATTACK_SECONDS, () => send(session, 'POST', { 'x-forwarded-for': '192.0.2.10', 'user-agent': 'bench-member' }, JSON.stringify({ tenant: demo.tenantSlug, email: member.email, password: DEMO.password })))
      : Promise.resolve({ answers: [] as Answer[], sentIn: 0 });
    const [atk, dur, mem] = await Promise.all([attack, during, signIns]);
    identity.close();
    const cpuAfter = processCpu(own, prefix);
    const busy = machineBusy() - busy0;
    const underAttack = latency(dur.answers);
    const attackMs = atk.answers.map((a) => a.ms);
    const members = latency(mem.answers);

    console.log(`machine: ${machine()}; ${await postgresSettings(urls.databaseUrl)}; identity's LOGIN_* defaults; gateway TRUST_PROXY=true, LOGIN_RATE_PER_IP=${EDGE_RATE}/min`);
    console.log(
      `attack: ${ATTACK_RATE} wrong passwords/s offered for ${ATTACK_SECONDS} s at ${ATTACK_ACCOUNTS} account(s) from ${ATTACK_ADDRESSES} address(es) (${VIA === 'grpc' ? "identity's gRPC Login with client_address" : 'X-Forwarded-For through the gateway'}) → ` +
        `${atk.answers.length} sent in ${fmt(atk.sentIn)} s (${fmt(atk.answers.length / atk.sentIn, 0)}/s achieved); answers ${mix(atk.answers)}; attacker p50 ${fmt(percentile(attackMs, 50))} ms, p99 ${fmt(percentile(attackMs, 99))} ms`,
    );
    console.log(`legitimate GET /v1/requests?limit=20 at ${LEGIT_RATE}/s (API key), baseline ${BASELINE_SECONDS} s: ${baseline.ok}/${baseline.n} ok, p50 ${fmt(baseline.p50)} ms, p95 ${fmt(baseline.p95)} ms, p99 ${fmt(baseline.p99)} ms, max ${fmt(baseline.max)} ms`);
    console.log(
      `legitimate during the attack: ${underAttack.ok}/${underAttack.n} ok (${mix(dur.answers)}), p50 ${fmt(underAttack.p50)} ms, p95 ${fmt(underAttack.p95)} ms, p99 ${fmt(underAttack.p99)} ms, max ${fmt(underAttack.max)} ms (target p99 ≤ 100 ms)`,
    );
    const perAttempt = [...cpuAfter]
      .map(([k, v]) => [k, ((v - (cpuBefore.get(k) ?? 0)) * 1000) / atk.answers.length] as const)
      .sort((a, b) => b[1] - a[1])
      .map(([k, ms]) => `${k} ${fmt(ms, 2)}`)
      .join(', ');
    console.log(`CPU during the attack, ms per attempt (all traffic of the window included): ${perAttempt}; the machine was busy ${fmt(busy / ATTACK_SECONDS, 2)} of 2 cores on average (other work included)`);
    if (member) console.log(`another user's sign-in (right password, own address) once a second during the attack: ${members.ok}/${members.n} ok (${mix(mem.answers)}), p50 ${fmt(members.p50)} ms, p99 ${fmt(members.p99)} ms`);
  } finally {
    agent.destroy();
    await bench.stop();
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
