/**
 * Dynamic number insertion against the real telephony service and gateway (PostgreSQL, gRPC, HTTP):
 *
 * 1. 200 simulated visitors on a pool of 20 numbers over a 40-minute simulated time line (explicit
 *    timestamps on 5-second ticks; quiet period 60 s, heartbeats every 40 s while a visitor stays): the
 *    test keeps its own record of who held which number when, from the answers alone, and checks every
 *    answer against it — no number lent to two live sessions, the same session keeps its number, a new
 *    lease takes the free number released longest ago, the fallback when all are lent. Then calls are
 *    placed at chosen times (inside every lease, at every hand-over instant, in gaps, before any lease):
 *    each call that one visit explains is attributed to that visit (its UTM tags), hand-overs are
 *    collisions, gaps are unexplained, and GetPoolStats counts exactly that; the collision rate is printed.
 * 2. 30 sessions lending at once on a fresh pool of 20: 20 distinct numbers and 10 fallbacks.
 * 3. Through the gateway's public endpoints: the embed script (also run in a minimal page: it lends with the
 *    URL's UTM tags, shows the number in `data-crm-phone` and its tel: link, heartbeats), CORS by the pool's
 *    allowed origins, lend / heartbeat / fallback, bad input as 4xx problems, a call attributed, the stats over REST.
 */
import { IdentityServiceService } from '@crm/contracts/crm/identity/v1/identity';
import { DniServiceService, NumberKind, NumberServiceService, type LendNumberResponse } from '@crm/contracts/crm/telephony/v1/telephony';
import { createOrm, type MikroORM } from '@crm/db';
import { createClient, type PromiseClient } from '@crm/grpc';
import { eventually } from '@crm/testing';
import { runInNewContext } from 'node:vm';
import { attributeCall } from '@crm/telephony/src/dni/attribute';
import { DniService } from '@crm/telephony/src/dni/dni.service';
import { startPlatform, type Platform } from '../support/platform';

let platform: Platform;
let orm: MikroORM;
let numbers: PromiseClient<typeof NumberServiceService>;
let dniClient: PromiseClient<typeof DniServiceService>;
let ctxA: { tenantId: string; callerId: string; callerKind: 'service' };
let key = '';

const QUIET = 60;
const TICK = 5;
const T0 = Date.parse('2026-01-05T09:00:00Z');
/** The script heartbeats every 20 s (a third of the quiet period); the simulated visitors every 40 s, which still keeps a 60 s lease. */
const HEARTBEAT_MS = 40_000;

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function makeNumbers(prefix: string, count: number): Promise<{ id: string; phone: string }[]> {
  const out: { id: string; phone: string }[] = [];
  for (let i = 0; i < count; i++) {
    const n = (await numbers.createNumber({ number: { phone: `+7495${prefix}${String(i).padStart(3, '0')}`, kind: NumberKind.NUMBER_KIND_ADVERTISING, label: `n${i}`, utmSource: '', utmMedium: '', utmCampaign: '', projectId: '', departmentId: '', connectionId: '' }, defaultCountry: 'RU' }, ctxA)).number!;
    out.push({ id: n.id, phone: n.phone });
  }
  return out;
}

async function makePool(name: string, numberIds: string[], extra: { fallbackPhone?: string; quietSeconds?: number; allowedOrigins?: string[] } = {}) {
  return (await numbers.createPool({ pool: { name, numberIds, fallbackPhone: extra.fallbackPhone ?? '', quietSeconds: extra.quietSeconds ?? QUIET, allowedOrigins: extra.allowedOrigins ?? [] } }, ctxA)).pool!;
}

const lendReq = (publicId: string, session: string, campaign: string) => ({
  poolPublicId: publicId,
  sessionId: session,
  utmSource: 'yandex',
  utmMedium: 'cpc',
  utmCampaign: campaign,
  utmContent: '',
  utmTerm: '',
  landingPage: `https://shop.example/?utm_campaign=${campaign}`,
  referrer: '',
  origin: '',
});

beforeAll(async () => {
  platform = await startPlatform();
  orm = await createOrm({ clientUrl: platform.telephonyDbUrl, entities: [], migrations: [], poolMax: 4 });
  numbers = createClient(NumberServiceService, { address: platform.telephonyAddr });
  dniClient = createClient(DniServiceService, { address: platform.telephonyAddr });
  ctxA = { tenantId: platform.tenants.a.id, callerId: 'dni-test', callerKind: 'service' };
  const identity = createClient(IdentityServiceService, { address: platform.identityAddr });
  try {
    key = (await identity.createApiKey({ name: 'dni', scopes: ['telephony:admin', 'calls:read'] }, ctxA)).secret;
  } finally {
    identity.close();
  }
}, 60_000);

afterAll(async () => {
  numbers?.close();
  dniClient?.close();
  await orm?.close();
  await platform?.stop();
});

interface Interval {
  visitor: number;
  phone: string;
  start: number;
  end: number;
}

it('200 visitors on 20 numbers: leases, fallback, and every call attributed as the time line says', async () => {
  const started = Date.now();
  const nums = await makeNumbers('1000', 20);
  const phoneToId = new Map(nums.map((n) => [n.phone, n.id]));
  const pool = await makePool('Simulation', nums.map((n) => n.id), { fallbackPhone: '+74950000000' });
  const dni = new DniService(orm);

  // Visitors: arrival on a tick within 40 minutes, a stay of 10..300 s, heartbeats every 20 s meanwhile.
  const rand = rng(20261202);
  const VISITORS = 200;
  type Ev = { at: number; v: number; kind: 'lend' | 'heartbeat' };
  const events: Ev[] = [];
  for (let v = 0; v < VISITORS; v++) {
    const arrive = T0 + Math.floor(rand() * 480) * TICK * 1000;
    const stay = (2 + Math.floor(rand() * 59)) * TICK * 1000;
    events.push({ at: arrive, v, kind: 'lend' });
    for (let t = arrive + HEARTBEAT_MS; t < arrive + stay; t += HEARTBEAT_MS) events.push({ at: t, v, kind: 'heartbeat' });
  }
  events.sort((x, y) => x.at - y.at || x.v - y.v || (x.kind === 'lend' ? -1 : 1));

  // The test's own record, from the answers alone.
  const intervals: Interval[] = [];
  const byPhone = new Map<string, Interval[]>();
  const current = new Map<number, Interval>();
  const holder = new Map<string, number>();
  const last = new Map<number, { fallback: boolean; until: number }>();
  let fallbackShows = 0;
  let lruChecked = 0;

  // Visitors on the same tick lend and heartbeat concurrently (as real browsers would); the answers of a
  // tick are then checked against the record as it was before the tick.
  const ticks = new Map<number, Ev[]>();
  for (const e of events) ticks.set(e.at, [...(ticks.get(e.at) ?? []), e]);
  const lastEnd = (phone: string) => (byPhone.get(phone) ?? []).at(-1)?.end ?? -Infinity;
  for (const [at, evs] of ticks) {
    const endsBefore = new Map(nums.map((n) => [n.phone, lastEnd(n.phone)]));
    const answers: LendNumberResponse[] = await Promise.all(
      evs.map((e) => {
        const session = `visitor-${String(e.v).padStart(4, '0')}`;
        return e.kind === 'lend' ? dni.lend(lendReq(pool.publicId, session, `c-${e.v}`), new Date(at)) : dni.heartbeat({ poolPublicId: pool.publicId, sessionId: session, origin: '' }, new Date(at));
      }),
    );
    const taken: string[] = [];
    const revived = new Set<string>();
    const seen = new Set<string>();
    let sawFallback = false;
    evs.forEach((e, i) => {
      const res = answers[i]!;
      expect(Date.parse(res.leaseExpiresAt)).toBe(at + QUIET * 1000);
      expect(res.heartbeatSeconds).toBe(20);
      if (res.fallback) {
        expect(res.phone).toBe('+74950000000');
        sawFallback = true;
        const prev = last.get(e.v);
        if (!(prev?.fallback && prev.until >= at)) fallbackShows++;
        last.set(e.v, { fallback: true, until: at + QUIET * 1000 });
        return;
      }
      expect(phoneToId.has(res.phone)).toBe(true);
      // Never one number to two sessions.
      expect(seen.has(res.phone)).toBe(false);
      seen.add(res.phone);
      const mine = current.get(e.v);
      if (holder.get(res.phone) === e.v && mine?.phone === res.phone) {
        if (endsBefore.get(res.phone)! <= at) revived.add(res.phone);
        mine.end = at + QUIET * 1000;
      } else {
        // A new lease: the number's previous lease had lapsed.
        expect(endsBefore.get(res.phone)!).toBeLessThanOrEqual(at);
        taken.push(res.phone);
        const it: Interval = { visitor: e.v, phone: res.phone, start: at, end: at + QUIET * 1000 };
        intervals.push(it);
        byPhone.set(res.phone, [...(byPhone.get(res.phone) ?? []), it]);
        current.set(e.v, it);
        holder.set(res.phone, e.v);
      }
      last.set(e.v, { fallback: false, until: at + QUIET * 1000 });
    });
    // The numbers taken on this tick are the free ones released longest ago.
    if (taken.length) {
      const newest = Math.max(...taken.map((p) => endsBefore.get(p)!));
      const stillFree = nums.filter((n) => !taken.includes(n.phone) && !revived.has(n.phone) && endsBefore.get(n.phone)! <= at).map((n) => endsBefore.get(n.phone)!);
      expect(newest).toBeLessThanOrEqual(Math.min(Infinity, ...stillFree));
      lruChecked += taken.length;
    }
    // The fallback only when every number is held by a live lease.
    if (sawFallback) for (const n of nums) expect(lastEnd(n.phone)).toBeGreaterThan(at);
  }
  const simulatedMs = Date.now() - started;

  // Calls at chosen times: inside every lease, at every hand-over instant, just after a lease in a gap, before any lease.
  const calls: { phone: string; at: number }[] = [];
  for (const it of intervals) calls.push({ phone: it.phone, at: it.start + Math.floor((it.end - it.start) / 2000) * 1000 });
  for (const [phone, list] of byPhone) {
    calls.push({ phone, at: list[0]!.start - 1000 });
    for (let i = 0; i + 1 < list.length; i++) {
      calls.push({ phone, at: list[i]!.end });
      if (list[i + 1]!.start > list[i]!.end + 1000) calls.push({ phone, at: list[i]!.end + 1000 });
    }
  }
  const expected = { attributed: 0, collisions: 0, unexplained: 0 };
  let n = 0;
  // Attributed 4 at a time (the ORM's pool).
  const results = [];
  for (let i = 0; i < calls.length; i += 4) {
    results.push(...(await Promise.all(calls.slice(i, i + 4).map((c) => attributeCall(orm.em.fork(), platform.tenants.a.id, phoneToId.get(c.phone)!, new Date(c.at), `sim-${n++}`)))));
  }
  for (const [i, c] of calls.entries()) {
    const covering = (byPhone.get(c.phone) ?? []).filter((it) => it.start <= c.at && c.at <= it.end);
    const got = results[i];
    expect(got).toBeDefined();
    if (covering.length === 1) {
      expected.attributed++;
      expect(got).toMatchObject({ collision: false, utmSource: 'yandex', utmCampaign: `c-${covering[0]!.visitor}` });
      expect(got!.visitId).not.toBe('');
    } else if (covering.length > 1) {
      expected.collisions++;
      expect(got).toMatchObject({ visitId: '', collision: true, utmCampaign: '' });
    } else {
      expected.unexplained++;
      expect(got).toMatchObject({ visitId: '', collision: false });
    }
  }
  // The same call attributed twice is counted once.
  await attributeCall(orm.em.fork(), platform.tenants.a.id, phoneToId.get(calls[0]!.phone)!, new Date(calls[0]!.at), 'sim-0');

  const stats = await numbers.getPoolStats({ poolId: pool.id, since: new Date(T0 - 3_600_000).toISOString(), until: new Date(T0 + 4 * 3_600_000).toISOString() }, ctxA);
  expect(stats).toMatchObject({
    lends: intervals.length,
    fallbackShows,
    calls: calls.length,
    attributed: expected.attributed,
    collisions: expected.collisions,
    unexplained: expected.unexplained,
  });
  expect(stats.collisionRate).toBeCloseTo(expected.collisions / calls.length, 10);
  expect(expected.attributed).toBeGreaterThan(intervals.length * 0.9);
  expect(expected.collisions).toBeGreaterThan(0);
  expect(fallbackShows).toBeGreaterThan(0);
  expect(lruChecked).toBe(intervals.length);
  const visitors = new Set(intervals.map((i) => i.visitor)).size;
  console.log(
    `DNI simulation: ${VISITORS} visitors (${visitors} got a number), 20 numbers, ${events.length} lends+heartbeats in ${simulatedMs} ms; ` +
      `${intervals.length} leases, ${fallbackShows} fallback shows; ${calls.length} calls: ${expected.attributed} attributed, ` +
      `${expected.collisions} collisions (hand-over instants), ${expected.unexplained} unexplained; collision rate ${(stats.collisionRate * 100).toFixed(2)} %`,
  );
}, 60_000);

it('30 sessions lending at once on 20 numbers: 20 distinct numbers, 10 fallbacks', async () => {
  const nums = await makeNumbers('2000', 20);
  const pool = await makePool('Burst', nums.map((n) => n.id));
  const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => dniClient.lendNumber(lendReq(pool.publicId, `burst-session-${i}`, `b-${i}`), { tenantId: 'platform', callerId: 'test', callerKind: 'service' })));
  const lent = answers.filter((a) => !a.fallback).map((a) => a.phone);
  expect(lent).toHaveLength(20);
  expect(new Set(lent).size).toBe(20);
  expect(answers.filter((a) => a.fallback)).toHaveLength(10);
  // The pool has no fallback number: the page keeps its own.
  expect(answers.find((a) => a.fallback)).toMatchObject({ phone: '', display: '' });
});

describe('through the gateway', () => {
  const origin = 'https://shop.example';
  const post = (path: string, body: unknown, headers: Record<string, string> = { origin }) =>
    fetch(`${platform.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${platform.base}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });

  it('serves the script, lends with CORS by the allowed origins, heartbeats, falls back, and attributes a call', async () => {
    const created: { id: string; phone: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await admin('POST', '/v1/numbers', { phone: `8 (495) 300-00-0${i}`, kind: 'advertising', label: `Сайт ${i}`, utm_source: 'site' });
      expect(r.status).toBe(201);
      created.push((await r.json()) as { id: string; phone: string });
    }
    const pr = await admin('POST', '/v1/number-pools', { name: 'Сайт', number_ids: created.map((c) => c.id), fallback_phone: '+7 495 300-99-99', quiet_seconds: 30, allowed_origins: [origin] });
    expect(pr.status).toBe(201);
    const pool = (await pr.json()) as { id: string; public_id: string; script_url: string; fallback_phone: string };
    expect(pool.public_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(pool.fallback_phone).toBe('+74953009999');

    const script = await fetch(`${platform.base}${pool.script_url}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('javascript');
    expect(script.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    const text = await script.text();
    expect(text).toContain(JSON.stringify(pool.public_id));
    expect(text).toContain('data-crm-phone');
    expect((await fetch(`${platform.base}/dni/bad!.js`)).status).toBe(404);

    const pre = await fetch(`${platform.base}/v1/public/dni/${pool.public_id}/lend`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(origin);

    const lendPath = `/v1/public/dni/${pool.public_id}/lend`;
    const evil = await post(lendPath, { session_id: 'evil-session-1' }, { origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    expect(await evil.json()).toMatchObject({ status: 403, reason: 'origin_not_allowed' });

    type Lease = { phone: string | null; display: string | null; fallback: boolean; lease_expires_at: string; heartbeat_seconds: number };
    const leases: Lease[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await post(lendPath, { session_id: `gateway-session-${i}`, utm_source: 'google', utm_campaign: `g-${i}`, landing_page: `${origin}/landing` });
      expect(r.status).toBe(200);
      expect(r.headers.get('access-control-allow-origin')).toBe(origin);
      leases.push((await r.json()) as Lease);
    }
    expect(new Set(leases.slice(0, 3).map((l) => l.phone)).size).toBe(3);
    expect(leases.slice(0, 3).every((l) => !l.fallback && l.heartbeat_seconds === 10)).toBe(true);
    expect(leases[3]).toMatchObject({ fallback: true, phone: '+74953009999' });
    expect(leases[0]!.display).toMatch(/^8 \(495\) 300/);

    const again = (await (await post(lendPath, { session_id: 'gateway-session-0' })).json()) as { phone: string };
    expect(again.phone).toBe(leases[0]!.phone);
    const hb = await post(`/v1/public/dni/${pool.public_id}/heartbeat`, { session_id: 'gateway-session-0' });
    expect(hb.status).toBe(200);
    const beat = (await hb.json()) as { phone: string; lease_expires_at: string };
    expect(beat.phone).toBe(leases[0]!.phone);
    expect(Date.parse(beat.lease_expires_at)).toBeGreaterThanOrEqual(Date.parse(leases[0]!.lease_expires_at));

    // Bad input is a 4xx problem, never a 5xx.
    for (const [path, body, status] of [
      [lendPath, { session_id: 'short' }, 400],
      [lendPath, { session_id: 'gateway-session-9', utm_source: 'x'.repeat(201) }, 400],
      [lendPath, { session_id: 'gateway-session-9', extra: 1 }, 400],
      ['/v1/public/dni/NoSuchPool12345/lend', { session_id: 'gateway-session-9' }, 404],
    ] as const) {
      const r = await post(path, body);
      expect({ path, status: r.status }).toEqual({ path, status });
      expect(r.headers.get('content-type')).toContain('application/problem+json');
    }

    // A call to the first visitor's number now is theirs.
    const first = created.find((c) => c.phone === leases[0]!.phone)!;
    const got = await attributeCall(orm.em.fork(), platform.tenants.a.id, first.id, new Date(), 'gateway-call-1');
    expect(got).toMatchObject({ collision: false, utmSource: 'google', utmCampaign: 'g-0', landingPage: `${origin}/landing` });

    const st = await admin('GET', `/v1/number-pools/${pool.id}/stats`);
    expect(st.status).toBe(200);
    expect(await st.json()).toMatchObject({ lends: 3, fallback_shows: 1, calls: 1, attributed: 1, collisions: 0, unexplained: 0, collision_rate: 0 });

    // The script itself, run against the gateway in a minimal page (no browser here; test/browser has
    // Chromium): a new session is told the fallback (all 3 numbers are lent) and the marked phone and
    // its tel: link show it; its heartbeat is scheduled at heartbeat_seconds.
    const storage = new Map<string, string>();
    const timers: { fn: () => void; ms: number }[] = [];
    const link = { href: 'tel:+78000000000', setAttribute(_k: string, v: string) { this.href = v; } };
    const marked = { textContent: '8 800 000-00-00', closest: () => link };
    const sent: { url: string; body: Record<string, string> }[] = [];
    const page = {
      window: {
        fetch: (url: string, init: RequestInit) => {
          sent.push({ url, body: JSON.parse(String(init.body)) });
          return fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), origin } });
        },
        localStorage: { getItem: (k: string) => storage.get(k) ?? null, setItem: (k: string, v: string) => void storage.set(k, v) },
        crypto: {
          getRandomValues: (a: Uint8Array) => {
            for (let i = 0; i < a.length; i++) a[i] = Math.floor(Math.random() * 256);
            return a;
          },
        },
        location: { search: '?utm_source=vk&utm_campaign=spring', href: `${origin}/?utm_source=vk&utm_campaign=spring` },
      },
      document: { currentScript: { src: `${platform.base}${pool.script_url}` }, readyState: 'complete', referrer: 'https://vk.com/', visibilityState: 'visible', addEventListener: () => undefined, querySelectorAll: () => [marked] },
      URL,
      URLSearchParams,
      setTimeout: (fn: () => void, ms: number) => timers.push({ fn, ms }),
      clearTimeout: () => undefined,
    };
    runInNewContext(text, page);
    await eventually(() => expect(marked.textContent).toBe('8 (495) 300-99-99'));
    expect(link.href).toBe('tel:+74953009999');
    expect(sent[0]).toMatchObject({ url: `${platform.base}/v1/public/dni/${pool.public_id}/lend`, body: { utm_source: 'vk', utm_campaign: 'spring', referrer: 'https://vk.com/', landing_page: `${origin}/?utm_source=vk&utm_campaign=spring` } });
    expect(sent[0]!.body.session_id).toMatch(/^[0-9a-f]{32}$/);
    expect(storage.get(`crm_dni_${pool.public_id}`)).toBe(sent[0]!.body.session_id);
    await eventually(() => expect(timers.at(-1)?.ms).toBe(10_000));
    timers.at(-1)!.fn();
    await eventually(() => expect(sent.at(-1)).toMatchObject({ url: expect.stringContaining('/heartbeat'), body: { session_id: sent[0]!.body.session_id } }));

    // Tenant B sees none of it.
    const identity = createClient(IdentityServiceService, { address: platform.identityAddr });
    const keyB = (await identity.createApiKey({ name: 'dni-b', scopes: ['telephony:admin', 'calls:read'] }, { tenantId: platform.tenants.b.id, callerId: 't', callerKind: 'service' })).secret;
    identity.close();
    const asB = await fetch(`${platform.base}/v1/number-pools/${pool.id}/stats`, { headers: { authorization: `Bearer ${keyB}` } });
    expect(asB.status).toBe(404);
  }, 30_000);
});
