/**
 * Rate limits that hold across gateway replicas (issue 16 §5).
 *
 * The counters live in identity (SecurityService.ConsumeQuota: one PostgreSQL upsert per call, fixed
 * windows aligned to the epoch on the database's clock). A replica does not ask on every hit: per key and
 * window it leases a chunk of units — max(1, floor(limit / RATE_LEASE_DIVISOR)) — and spends it locally, so
 * a lease hit is a Map lookup; when the lease runs out it asks again (concurrent hits on one key wait on
 * one pending call). A key refused in a window stays refused on this replica until the window ends, with
 * no more calls.
 *
 * Error: the upper bound is exact (identity never grants more than `limit` units per window in total).
 * The error is the other way: units other replicas leased but have not spent (at most (replicas − 1) ×
 * chunk) are refused here a little early. With traffic on every replica the leases get spent and the
 * total admitted is the limit exactly.
 *
 * Identity unreachable or slower than RATE_STORE_TIMEOUT_MS: the limiter fails open to a per-replica
 * fixed window with the same limit (this replica's own count for the window), warns once a minute, and
 * asks identity again after FAIL_OPEN_MS.
 *
 * Headers (draft-ietf-httpapi-ratelimit-headers-11, the structured-field form): every limited answer
 * carries `RateLimit-Policy: "<policy>";q=<limit>;w=<window s>` and `RateLimit: "<policy>";r=<remaining>;t=<s
 * to the window's end>`, and a 429 `Retry-After` (seconds).
 */
import { DomainError } from '@crm/errors';
import type { Logger } from '@crm/logger';
import type { FastifyReply } from 'fastify';
import { createHash } from 'node:crypto';
import { PLATFORM } from './auth';
import type { Clients } from './clients';
import type { GatewayEnv } from './config';

/** The shared counters (identity's ConsumeQuota, or a fake in unit tests). */
export interface QuotaSource {
  consume(key: string, windowSeconds: number, limit: number, want: number): Promise<{ granted: number; used: number }>;
}

/** One limiter's answer for one hit. */
export interface LimitDecision {
  policy: string;
  allowed: boolean;
  limit: number;
  windowSeconds: number;
  /** Units still available in the window (an estimate: units other replicas leased count as spent). */
  remaining: number;
  /** Seconds to the window's end (at least 1). */
  resetSeconds: number;
}

export interface SharedLimiterOptions {
  /** The policy's name in the RateLimit headers and the prefix of its keys at identity (e.g. "api"). */
  policy: string;
  limit: number;
  windowSeconds?: number;
  source: QuotaSource;
  logger?: Pick<Logger, 'warn'>;
  /** chunk = max(1, floor(limit / leaseDivisor)); default 100. */
  leaseDivisor?: number;
  /** An answer slower than this fails open (default 200 ms). */
  timeoutMs?: number;
  /** After a failure, hits are counted locally for this long before identity is asked again (default 5 s). */
  failOpenMs?: number;
  /** Keys are secrets (e.g. invite tokens): identity sees their SHA-256 only. */
  hashKeys?: boolean;
  now?: () => number;
}

interface KeyState {
  windowStart: number;
  /** Units leased from identity and not spent yet. */
  leased: number;
  /** Units identity had not leased to anyone at its last answer. */
  unleased: number;
  /** Identity has nothing more for this window: refuse once the lease is spent. */
  exhausted: boolean;
  /** Hits this replica admitted in the window (the fail-open count). */
  spent: number;
  /** Hits waiting for the pending call. */
  waiting: number;
  pending?: Promise<void>;
}

/** A fixed window per key whose count is shared by every replica through identity (see the file's comment). */
export class SharedLimiter {
  readonly policy: string;
  readonly limit: number;
  readonly windowSeconds: number;
  readonly chunk: number;
  private readonly windowMs: number;
  private readonly timeoutMs: number;
  private readonly failOpenMs: number;
  private readonly now: () => number;
  private readonly keys = new Map<string, KeyState>();
  private currentWindow = 0;
  private failOpenUntil = 0;
  private lastWarnAt = -Infinity;
  /** Calls made to identity (tests and the e2e test read it). */
  calls = 0;

  constructor(private readonly opts: SharedLimiterOptions) {
    if (!Number.isInteger(opts.limit) || opts.limit < 1) throw new Error(`rate limit ${opts.policy}: the limit must be a positive integer`);
    this.policy = opts.policy;
    this.limit = opts.limit;
    this.windowSeconds = opts.windowSeconds ?? 60;
    this.windowMs = this.windowSeconds * 1000;
    this.chunk = Math.max(1, Math.floor(opts.limit / (opts.leaseDivisor ?? 100)));
    this.timeoutMs = opts.timeoutMs ?? 200;
    this.failOpenMs = opts.failOpenMs ?? 5000;
    this.now = opts.now ?? Date.now;
  }

  /** Counts a hit on `key`. Synchronous while a lease lasts (or the key is refused); a promise when identity is asked. */
  take(key: string): LimitDecision | Promise<LimitDecision> {
    return this.withoutAsking(key, this.now()) ?? this.ask(key);
  }

  /** The answer this replica can give alone (a lease to spend, a refused key, fail-open), else undefined. */
  private withoutAsking(key: string, now: number): LimitDecision | undefined {
    const st = this.state(key, now);
    if (st.leased > 0) {
      st.leased -= 1;
      st.spent += 1;
      return this.decision(st, true, now);
    }
    if (st.exhausted) return this.decision(st, false, now);
    if (now < this.failOpenUntil) return this.local(st, now);
    return undefined;
  }

  private async ask(key: string): Promise<LimitDecision> {
    for (;;) {
      const now = this.now();
      const alone = this.withoutAsking(key, now);
      if (alone) return alone;
      const st = this.state(key, now);
      st.waiting += 1;
      try {
        st.pending ??= this.lease(key, st);
        const answered = await this.within(st.pending);
        if (!answered) this.failed(new Error(`no answer within ${this.timeoutMs} ms`));
      } finally {
        st.waiting -= 1;
      }
    }
  }

  /** One ConsumeQuota call for the hits waiting on `st`; its answer (even a late one) is spent by later hits. */
  private lease(key: string, st: KeyState): Promise<void> {
    const want = Math.min(this.limit, Math.max(this.chunk, st.waiting));
    this.calls += 1;
    return this.opts.source
      .consume(this.storeKey(key), this.windowSeconds, this.limit, want)
      .then(
        (r) => {
          st.leased += r.granted;
          st.unleased = Math.max(0, this.limit - r.used);
          if (r.granted < want || r.used >= this.limit) st.exhausted = true;
        },
        (err: unknown) => this.failed(err),
      )
      .finally(() => {
        st.pending = undefined;
      });
  }

  /** Resolves true when `p` settles within the timeout, false otherwise. */
  private within(p: Promise<void>): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), this.timeoutMs);
      void p.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private failed(err: unknown): void {
    const now = this.now();
    this.failOpenUntil = now + this.failOpenMs;
    if (now - this.lastWarnAt >= 60_000) {
      this.lastWarnAt = now;
      this.opts.logger?.warn({ err, policy: this.policy }, 'shared rate limit store unavailable; limiting per replica');
    }
  }

  /** Fail-open: this replica's own count for the window against the same limit. */
  private local(st: KeyState, now: number): LimitDecision {
    if (st.spent >= this.limit) return this.decision(st, false, now);
    st.spent += 1;
    return { ...this.decision(st, true, now), remaining: this.limit - st.spent };
  }

  private decision(st: KeyState, allowed: boolean, now: number): LimitDecision {
    return {
      policy: this.policy,
      allowed,
      limit: this.limit,
      windowSeconds: this.windowSeconds,
      remaining: allowed ? Math.min(this.limit, st.leased + (st.exhausted ? 0 : st.unleased)) : 0,
      resetSeconds: Math.max(1, Math.ceil((st.windowStart + this.windowMs - now) / 1000)),
    };
  }

  private state(key: string, now: number): KeyState {
    const windowStart = Math.floor(now / this.windowMs) * this.windowMs;
    if (windowStart !== this.currentWindow) {
      // A new window: the states of ended windows go (one pass per window).
      this.currentWindow = windowStart;
      for (const [k, s] of this.keys) if (s.windowStart < windowStart && !s.pending) this.keys.delete(k);
    }
    let st = this.keys.get(key);
    if (!st || st.windowStart !== windowStart) {
      st = { windowStart, leased: 0, unleased: this.limit, exhausted: false, spent: 0, waiting: 0 };
      this.keys.set(key, st);
    }
    return st;
  }

  private storeKey(key: string): string {
    // identity takes 1..200 printable characters: a secret, long or odd key goes as its SHA-256.
    const k = this.opts.hashKeys || key.length > 150 || key.length === 0 || /[^\x21-\x7e]/.test(key) ? createHash('sha256').update(key).digest('base64url') : key;
    // The limit and window are part of the counter's name: replicas configured alike share it, and a
    // gateway run with another limit (a canary, a test's second gateway) keeps a counter of its own
    // instead of reading another policy's total against its limit.
    return `${this.policy}:${this.limit}/${this.windowSeconds}:${k}`;
  }
}

/** Sets the RateLimit headers of `decisions` (and Retry-After when one refused). */
export function setRateLimitHeaders(reply: FastifyReply, decisions: LimitDecision[]): void {
  if (!decisions.length) return;
  reply.header('ratelimit-policy', decisions.map((d) => `"${d.policy}";q=${d.limit};w=${d.windowSeconds}`).join(', '));
  reply.header('ratelimit', decisions.map((d) => `"${d.policy}";r=${d.remaining};t=${d.resetSeconds}`).join(', '));
  const refused = decisions.filter((d) => !d.allowed);
  if (refused.length) reply.header('retry-after', String(Math.max(...refused.map((d) => d.resetSeconds))));
}

/**
 * Counts a hit on each [limiter, key] in turn (a refused one stops there: the later limiters are not
 * spent), sets the headers, and throws RESOURCE_EXHAUSTED (a 429) with `message` when one refused.
 */
export async function enforceLimits(reply: FastifyReply, message: string, ...checks: [SharedLimiter, string][]): Promise<void> {
  const decisions: LimitDecision[] = [];
  for (const [limiter, key] of checks) {
    const d = await limiter.take(key);
    decisions.push(d);
    if (!d.allowed) break;
  }
  setRateLimitHeaders(reply, decisions);
  if (decisions.some((d) => !d.allowed)) throw new DomainError('RESOURCE_EXHAUSTED', message);
}

/** Attempts a minute to accept invites, per client address and per token. */
export const INVITE_ACCEPT_RATE = 20;

/** The gateway's limiters, one set per replica (GatewayDeps.limits). */
export interface GatewayLimits {
  /** Authenticated API calls per credential (API_RATE_PER_CREDENTIAL a minute). */
  perCredential: SharedLimiter;
  /** Public form submissions per client address and per form (FORM_RATE_PER_IP, FORM_RATE_PER_FORM). */
  formPerIp: SharedLimiter;
  formPerForm: SharedLimiter;
  /** Public DNI lends and heartbeats per client address (DNI_RATE_PER_IP). */
  dniPerIp: SharedLimiter;
  /** Login attempts per client address (LOGIN_RATE_PER_IP), before identity spends a hash. */
  loginPerIp: SharedLimiter;
  /** Invite acceptance per client address and per token (INVITE_ACCEPT_RATE). */
  invitePerIp: SharedLimiter;
  invitePerToken: SharedLimiter;
}

/** ConsumeQuota over the gateway's SecurityService client (never retried: a retry could take units twice). */
export function identityQuotas(clients: Pick<Clients, 'security'>, timeoutMs: number): QuotaSource {
  return {
    consume: async (key, windowSeconds, limit, want) => {
      // The client is looked up per call: the OpenAPI script builds the gateway with clients that must not be touched.
      const r = await clients.security.consumeQuota({ key, windowSeconds, limit, want }, PLATFORM, { deadlineMs: timeoutMs + 100 });
      return { granted: r.granted, used: r.used };
    },
  };
}

export function gatewayLimits(env: GatewayEnv, clients: Pick<Clients, 'security'>, logger?: Pick<Logger, 'warn'>): GatewayLimits {
  const source = identityQuotas(clients, env.RATE_STORE_TIMEOUT_MS);
  const make = (policy: string, limit: number, hashKeys = false) =>
    new SharedLimiter({ policy, limit, windowSeconds: 60, source, logger, leaseDivisor: env.RATE_LEASE_DIVISOR, timeoutMs: env.RATE_STORE_TIMEOUT_MS, hashKeys });
  return {
    perCredential: make('api', env.API_RATE_PER_CREDENTIAL),
    formPerIp: make('form-ip', env.FORM_RATE_PER_IP),
    formPerForm: make('form', env.FORM_RATE_PER_FORM),
    dniPerIp: make('dni-ip', env.DNI_RATE_PER_IP),
    loginPerIp: make('login-ip', env.LOGIN_RATE_PER_IP),
    invitePerIp: make('invite-ip', INVITE_ACCEPT_RATE),
    invitePerToken: make('invite-token', INVITE_ACCEPT_RATE, true),
  };
}
