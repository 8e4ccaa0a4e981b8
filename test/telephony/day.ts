/**
 * A realistic day of calls, provider-neutral, for the day replays of every cloud adapter
 * (mango-day, zadarma-day, twilio-day integration tests). Deterministic for a seed.
 *
 * ## API (for the adapters' replays)
 *
 * ```ts
 * const day = generateDay({ seed: 10, calls: 500, date: '2026-12-01', numbers: ['+74950000001', …], extensions: ['101', …] });
 * day.calls     // DayCall[]: what really happened (ids `d0001`…, scenario, parties, times)
 * day.steps     // DayStep[]: the provider-neutral events in DELIVERY order — with repeats (the same
 *               //   step twice, `repeat: true`, same `eventId`) and out-of-order deliveries (a call's
 *               //   later step before an earlier one) — each with `seq` (1.. within its call, in the
 *               //   order they happened) and `phase`
 * day.expected  // the counts the platform must end with (see DayExpected)
 * ```
 *
 * Map each step to the provider's own request (Mango: /events/call Appeared/Connected/Disconnected +
 * /events/summary; Zadarma: NOTIFY_START/ANSWER/END/OUT_*; Twilio: status callbacks) and send it. Send
 * `phase: 1` steps first and `phase: 2` (the callbacks of missed calls) after phase 1 is processed, so a
 * callback is applied after the miss it recovers. Within a phase any concurrency is fine (~10).
 *
 * Scenarios (shares of inbound calls, the rest are outbound): `answered` (ringing → answered → ended,
 * some with a recording), `missed` (ringing → ended no_answer), `busy` (ringing → ended busy),
 * `transferred` (ringing → answered by A → transferred to B → ended answered), `offhours` (only the
 * final `ended` no_answer: a provider that sends a summary and no call events, as Mango does outside
 * working hours), and outbound `callback` (an employee calls a missed caller back: answered — the miss
 * is recovered — or not answered), `outbound` (an ordinary outbound call to another phone, answered).
 * Every missed caller has exactly one missed call that day (so "recovered" is unambiguous), and a
 * caller of a missed call calls nothing else.
 */
import type { CallEventKind, Disposition } from '@crm/telephony/src/calls/model';

export type DayScenario = 'answered' | 'missed' | 'busy' | 'transferred' | 'offhours' | 'callback' | 'outbound';

export interface DayCall {
  /** Stable id within the day: `d0001`…; use it (with a prefix) as the provider's call id. */
  id: string;
  scenario: DayScenario;
  direction: 'inbound' | 'outbound';
  /** The customer's phone (E.164): the caller of an inbound call, the callee of an outbound one. */
  customer: string;
  /** The tenant's number (E.164): dialed by an inbound caller, shown as caller id on an outbound call. */
  number: string;
  /** Extensions rung (inbound) — all of the day's `extensions` rings 1–3 of them. */
  ringExtensions: string[];
  /** The extension that answered (inbound) or placed the call (outbound); '' when nobody answered. */
  extension: string;
  /** transferred: the extension it went to. */
  transferTo?: string;
  startedAt: Date;
  answeredAt?: Date;
  endedAt: Date;
  disposition: Disposition;
  /** Seconds from start to end, and of talk (0 when not answered). */
  durationSeconds: number;
  talkSeconds: number;
  /** A recording is announced after the end (answered calls only). */
  recording: boolean;
  /** callback: the id of the missed call it calls back. */
  recovers?: string;
}

export type DayStepKind = Exclude<CallEventKind, 'missed'>;

export interface DayStep {
  call: DayCall;
  kind: DayStepKind;
  /** When it happened. */
  at: Date;
  /** 1.. within the call, in the order the steps happened (a provider's `seq`). */
  seq: number;
  /** Unique per step (a repeated delivery has the same one): `<call id>-<seq>`. */
  eventId: string;
  /** ringing: who rings; answered: who answered (the transfer target for the second answer); transferred: the target. */
  extensions: string[];
  /** true for the second delivery of a step already delivered. */
  repeat: boolean;
  /** 1: everything but callbacks; 2: callbacks of missed calls (send after phase 1 is processed). */
  phase: 1 | 2;
}

export interface DayExpected {
  /** Distinct calls (every call has at least one step). */
  calls: number;
  inbound: number;
  outbound: number;
  /** Inbound calls nobody answered (missed + busy + offhours). */
  missed: number;
  /** Inbound calls answered (answered + transferred). */
  answeredInbound: number;
  transferred: number;
  /** Missed calls recovered by an answered callback. */
  recovered: number;
  /** Recordings announced. */
  recordings: number;
  /** Distinct customer phones of inbound calls (requests, if one request per caller and day). */
  inboundCallers: number;
  /** Steps delivered, repeats included; and how many were repeats / delivered before an earlier step of their call. */
  deliveries: number;
  repeats: number;
  outOfOrder: number;
}

export interface Day {
  calls: DayCall[];
  steps: DayStep[];
  expected: DayExpected;
}

export interface DayOptions {
  seed?: number;
  calls?: number;
  /** The day (UTC date `YYYY-MM-DD`); calls fall between 08:00 and 20:00 UTC. */
  date?: string;
  /** The tenant's numbers (E.164), at least one. */
  numbers: string[];
  /** Employees' extensions, at least two. */
  extensions: string[];
  /** Share of steps delivered twice (default 0.08) and of calls with a step delivered early (0.1). */
  repeatShare?: number;
  outOfOrderShare?: number;
}

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateDay(opts: DayOptions): Day {
  const rnd = prng(opts.seed ?? 10);
  const n = opts.calls ?? 500;
  const day = Date.parse(`${opts.date ?? '2026-12-01'}T08:00:00Z`);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  if (!opts.numbers.length || opts.extensions.length < 2) throw new Error('generateDay needs a number and two extensions');
  let phoneSeq = 0;
  const newPhone = () => `+7916${String(1_000_000 + ((phoneSeq++ * 7919) % 9_000_000)).padStart(7, '0')}`;
  // a pool of returning customers (answered/transferred calls may repeat a caller), missed callers are fresh
  const regulars = Array.from({ length: Math.max(5, Math.floor(n / 5)) }, newPhone);

  const calls: DayCall[] = [];
  const missedCalls: DayCall[] = [];
  const id = () => `d${String(calls.length + 1).padStart(4, '0')}`;
  const inboundTarget = Math.round(n * 0.8);
  for (let i = 0; i < inboundTarget; i++) {
    const r = rnd();
    const scenario: DayScenario = r < 0.5 ? 'answered' : r < 0.7 ? 'missed' : r < 0.78 ? 'busy' : r < 0.9 ? 'transferred' : 'offhours';
    const startedAt = new Date(day + Math.floor(rnd() * 10 * 3600_000));
    const ring = [...new Set(Array.from({ length: int(1, 3) }, () => pick(opts.extensions)))];
    const missed = scenario === 'missed' || scenario === 'busy' || scenario === 'offhours';
    const answeredAt = missed ? undefined : new Date(startedAt.getTime() + int(3, 25) * 1000);
    const talk = missed ? 0 : int(20, 900);
    const endedAt = new Date((answeredAt ?? startedAt).getTime() + (missed ? int(10, 40) : talk) * 1000);
    const extension = missed ? '' : ring[0];
    const call: DayCall = {
      id: id(),
      scenario,
      direction: 'inbound',
      customer: missed ? newPhone() : pick(regulars),
      number: pick(opts.numbers),
      ringExtensions: scenario === 'offhours' ? [] : ring,
      extension,
      ...(scenario === 'transferred' ? { transferTo: opts.extensions.find((e) => e !== extension)! } : {}),
      startedAt,
      ...(answeredAt ? { answeredAt } : {}),
      endedAt,
      disposition: missed ? (scenario === 'busy' ? 'busy' : 'no_answer') : 'answered',
      durationSeconds: Math.round((endedAt.getTime() - startedAt.getTime()) / 1000),
      talkSeconds: talk,
      recording: !missed && rnd() < 0.4,
    };
    calls.push(call);
    if (missed) missedCalls.push(call);
  }
  // callbacks: about half the missed calls are called back (most answered), in 5..90 minutes
  const outboundTarget = n - calls.length;
  const callbacks = missedCalls.filter(() => rnd() < 0.5).slice(0, outboundTarget);
  for (const m of callbacks) {
    const answered = rnd() < 0.8;
    const startedAt = new Date(m.endedAt.getTime() + int(5, 90) * 60_000);
    const answeredAt = answered ? new Date(startedAt.getTime() + int(5, 20) * 1000) : undefined;
    const talk = answered ? int(30, 600) : 0;
    const endedAt = new Date((answeredAt ?? startedAt).getTime() + (answered ? talk : int(15, 40)) * 1000);
    calls.push({
      id: id(),
      scenario: 'callback',
      direction: 'outbound',
      customer: m.customer,
      number: m.number,
      ringExtensions: [],
      extension: pick(opts.extensions),
      startedAt,
      ...(answeredAt ? { answeredAt } : {}),
      endedAt,
      disposition: answered ? 'answered' : 'no_answer',
      durationSeconds: Math.round((endedAt.getTime() - startedAt.getTime()) / 1000),
      talkSeconds: talk,
      recording: answered && rnd() < 0.3,
      recovers: m.id,
    });
  }
  while (calls.length < n) {
    const startedAt = new Date(day + Math.floor(rnd() * 10 * 3600_000));
    const answeredAt = new Date(startedAt.getTime() + int(5, 20) * 1000);
    const talk = int(30, 600);
    const endedAt = new Date(answeredAt.getTime() + talk * 1000);
    calls.push({ id: id(), scenario: 'outbound', direction: 'outbound', customer: pick(regulars), number: pick(opts.numbers), ringExtensions: [], extension: pick(opts.extensions), startedAt, answeredAt, endedAt, disposition: 'answered', durationSeconds: Math.round((endedAt.getTime() - startedAt.getTime()) / 1000), talkSeconds: talk, recording: false });
  }

  // the steps each call produced, in the order they happened
  const perCall: DayStep[][] = calls.map((c) => {
    const phase: 1 | 2 = c.scenario === 'callback' ? 2 : 1;
    const s: Omit<DayStep, 'seq' | 'eventId' | 'repeat' | 'phase' | 'call'>[] = [];
    if (c.scenario !== 'offhours') s.push({ kind: 'ringing', at: c.startedAt, extensions: c.direction === 'inbound' ? c.ringExtensions : [c.extension] });
    if (c.answeredAt) s.push({ kind: 'answered', at: c.answeredAt, extensions: [c.extension] });
    if (c.transferTo) {
      const t = new Date(c.answeredAt!.getTime() + Math.floor((c.endedAt.getTime() - c.answeredAt!.getTime()) / 2));
      s.push({ kind: 'transferred', at: t, extensions: [c.transferTo] });
    }
    s.push({ kind: 'ended', at: c.endedAt, extensions: c.extension ? [c.transferTo ?? c.extension] : [] });
    if (c.recording) s.push({ kind: 'recording_ready', at: new Date(c.endedAt.getTime() + 30_000), extensions: [] });
    return s.map((x, i) => ({ ...x, call: c, seq: i + 1, eventId: `${c.id}-${i + 1}`, repeat: false, phase }));
  });

  // delivery: by time, some calls with a later step delivered first, some steps delivered twice
  let outOfOrder = 0;
  let repeats = 0;
  const deliveries: { step: DayStep; key: number }[] = [];
  for (const steps of perCall) {
    const order = steps.map((st) => ({ step: st, key: st.at.getTime() }));
    if (order.length > 1 && rnd() < (opts.outOfOrderShare ?? 0.1)) {
      const j = int(1, order.length - 1);
      order[j].key = order[j - 1].key - 1;
      outOfOrder++;
    }
    for (const o of order) {
      deliveries.push(o);
      if (rnd() < (opts.repeatShare ?? 0.08)) {
        repeats++;
        deliveries.push({ step: { ...o.step, repeat: true }, key: o.key + int(1, 120) * 1000 });
      }
    }
  }
  deliveries.sort((a, b) => a.step.phase - b.step.phase || a.key - b.key);
  const steps = deliveries.map((d) => d.step);

  const inbound = calls.filter((c) => c.direction === 'inbound');
  const missedIds = new Set(missedCalls.map((c) => c.id));
  const expected: DayExpected = {
    calls: calls.length,
    inbound: inbound.length,
    outbound: calls.length - inbound.length,
    missed: missedCalls.length,
    answeredInbound: inbound.length - missedCalls.length,
    transferred: calls.filter((c) => c.transferTo).length,
    recovered: calls.filter((c) => c.scenario === 'callback' && c.disposition === 'answered' && missedIds.has(c.recovers!)).length,
    recordings: calls.filter((c) => c.recording).length,
    inboundCallers: new Set(inbound.map((c) => c.customer)).size,
    deliveries: steps.length,
    repeats,
    outOfOrder,
  };
  return { calls, steps, expected };
}

/** Runs `fn` over `items` with at most `concurrency` at once; resolves when all settled (rejects on the first error). */
export async function inParallel<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
