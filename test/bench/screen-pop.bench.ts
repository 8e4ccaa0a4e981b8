/**
 * npm run bench:screen-pop — the screen pop's latency end to end on the real platform (identity, intake,
 * contacts, funnel, telephony and the gateway in this process, on the local stack's PostgreSQL and
 * Kafka): BENCH_POP_CALLS (50) sellers, each with an extension on a generic connection and an open
 * `GET /v1/requests/stream`; then BENCH_POP_ROUNDS (3) rounds of BENCH_POP_CALLS concurrent calls, each a
 * signed generic `call.ringing` webhook ringing one seller's extension. Measured per call: from the
 * webhook POST to the `call.ringing` event on that seller's stream (webhook → telephony's Receive →
 * processing job → call row and outbox → Kafka → gateway feed → SSE), p50 / p99 / max (target p99 ≤
 * 100 ms), and the webhook's own answer time. Every seller must get exactly their call and no other.
 * The SSE clients share this process's event loop with the services (a pessimistic set-up).
 */
import { IdentityServiceService, Role } from '@crm/contracts/crm/identity/v1/identity';
import { createClient } from '@crm/grpc';
import { randomUUID } from 'node:crypto';
import { sendGeneric, setUpPbx } from '../support/call-pop';
import { startPlatform } from '../support/platform';
import { fmt, machine, percentile } from './stats';

const CALLS = Number(process.env.BENCH_POP_CALLS ?? 50);
const ROUNDS = Number(process.env.BENCH_POP_ROUNDS ?? 3);
const PASSWORD = 'screen pop bench password';

interface Seller {
  id: string;
  cookie: string;
  extension: string;
  /** Caller phone → when its call.ringing arrived (performance.now()). */
  got: Map<string, number>;
  stop: () => void;
}

async function login(base: string, slug: string, email: string): Promise<string> {
  const res = await fetch(`${base}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: slug, email, password: PASSWORD }) });
  if (res.status !== 200) throw new Error(`login of ${email}: ${res.status} ${await res.text()}`);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

/** Opens the seller's stream; records each call.ringing's arrival by the caller's phone. */
async function listen(base: string, s: Omit<Seller, 'stop' | 'got'>): Promise<Seller> {
  const ctrl = new AbortController();
  const res = await fetch(`${base}/v1/requests/stream`, { headers: { cookie: s.cookie }, signal: ctrl.signal });
  if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) throw new Error(`stream: ${res.status}`);
  const got = new Map<string, number>();
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const at = performance.now();
        buf += decoder.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (!frame.includes('event: call.ringing')) continue;
          const data = frame.split('\n').find((l) => l.startsWith('data: '));
          if (data) got.set((JSON.parse(data.slice(6)) as { call: { caller: string } }).call.caller, at);
        }
      }
    } catch {
      // closed
    }
  })();
  return { ...s, got, stop: () => ctrl.abort() };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const platform = await startPlatform({ gatewayEnv: { LOGIN_RATE_PER_IP: '100000' } });
  const sellers: Seller[] = [];
  try {
    const tenant = platform.tenants.a;
    const ctx = { tenantId: tenant.id, callerId: 'bench', callerKind: 'service' as const };
    const identity = createClient(IdentityServiceService, { address: platform.identityAddr });
    const tag = randomUUID().slice(0, 6);
    const made: Omit<Seller, 'stop' | 'got'>[] = [];
    try {
      for (let i = 0; i < CALLS; i++) {
        const email = `pop-${i}.${tag}@a.test`;
        const user = (await identity.createUser({ email, displayName: `Seller ${i}`, password: PASSWORD, roles: [Role.ROLE_SELLER], departmentId: '' }, ctx)).user!;
        made.push({ id: user.id, cookie: await login(platform.base, tenant.slug, email), extension: String(200 + i) });
      }
    } finally {
      identity.close();
    }
    const pbx = await setUpPbx(platform.telephonyAddr, tenant.id, Object.fromEntries(made.map((s) => [s.id, s.extension])), '+74950009900');
    sellers.push(...(await Promise.all(made.map((s) => listen(platform.base, s)))));
    console.log(`screen-pop bench: ${CALLS} sellers with extensions and open streams, set up in ${fmt((performance.now() - t0) / 1000)} s`);

    const latencies: number[] = [];
    const answers: number[] = [];
    let missing = 0;
    let wrong = 0;
    // Round 0 warms up (compiles the routes' validators, opens the pools, joins the partitions) and is not counted.
    for (let round = 0; round <= ROUNDS; round++) {
      const sent = new Map<string, { seller: Seller; at: number }>();
      await Promise.all(
        sellers.map(async (seller, i) => {
          const caller = `+7999${String(round).padStart(2, '0')}${String(i).padStart(5, '0')}`;
          const at = performance.now();
          sent.set(caller, { seller, at });
          const res = await sendGeneric(platform.base, pbx, { type: 'call.ringing', call_id: `pop-${tag}-${round}-${i}`, direction: 'inbound', caller, callee: pbx.number, extensions: [seller.extension] });
          if (res.status >= 300) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
          await res.arrayBuffer();
          if (round > 0) answers.push(performance.now() - at);
        }),
      );
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && [...sent].some(([caller, s]) => !s.seller.got.has(caller))) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 200));
      for (const [caller, s] of sent) {
        const got = s.seller.got.get(caller);
        if (got === undefined) missing++;
        else if (round > 0) latencies.push(got - s.at);
        // Every other seller must not have heard of this call.
        for (const other of sellers) if (other !== s.seller && other.got.has(caller)) wrong++;
      }
      await new Promise((r) => setTimeout(r, 300));
    }

    const p = (q: number) => fmt(percentile(latencies, q));
    console.log(`machine: ${machine()}`);
    console.log(`webhook → SSE call.ringing, ${latencies.length} calls (${ROUNDS} rounds of ${CALLS} concurrent): p50 ${p(50)} ms, p99 ${p(99)} ms, max ${fmt(Math.max(...latencies))} ms (target p99 ≤ 100 ms)`);
    console.log(`webhook answer: p50 ${fmt(percentile(answers, 50))} ms, p99 ${fmt(percentile(answers, 99))} ms`);
    console.log(`pops missing: ${missing}, pops to the wrong seller: ${wrong}`);
    if (missing || wrong) process.exitCode = 1;
  } finally {
    for (const s of sellers) s.stop();
    await platform.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
