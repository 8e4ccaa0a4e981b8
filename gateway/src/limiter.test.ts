import { SharedLimiter, setRateLimitHeaders, type LimitDecision, type QuotaSource } from './limiter';

/** identity's ConsumeQuota in memory (the same arithmetic), on the test's clock, with switches for failure. */
class FakeQuotas implements QuotaSource {
  readonly used = new Map<string, number>();
  calls: { key: string; want: number }[] = [];
  mode: 'ok' | 'down' | 'slow' = 'ok';
  private slowAnswers: (() => void)[] = [];

  constructor(private readonly clock: { now: number }) {}

  /** The store keys as sent (`<policy>:<limit>/<window>:<key>`). */
  readonly rawKeys: string[] = [];

  async consume(key: string, windowSeconds: number, limit: number, want: number) {
    this.rawKeys.push(key);
    // Recorded without the `<limit>/<window>` part, which the tests below read from rawKeys.
    this.calls.push({ key: key.replace(/^([^:]+):\d+\/\d+:/, '$1:'), want });
    if (this.mode === 'down') throw Object.assign(new Error('14 UNAVAILABLE: no connection'), { code: 14 });
    const answer = () => {
      const k = `${key}@${Math.floor(this.clock.now / (windowSeconds * 1000))}`;
      const used = (this.used.get(k) ?? 0) + want;
      this.used.set(k, used);
      return { granted: Math.max(0, Math.min(want, limit - (used - want))), used };
    };
    if (this.mode === 'slow') return new Promise<{ granted: number; used: number }>((resolve) => this.slowAnswers.push(() => resolve(answer())));
    await Promise.resolve();
    return answer();
  }

  /** Lets the slow answers through. */
  release(): void {
    for (const f of this.slowAnswers.splice(0)) f();
  }
}

function setup(limit: number, opts: { divisor?: number; replicas?: number; timeoutMs?: number; failOpenMs?: number } = {}) {
  const clock = { now: 1_800_000_000_000 }; // a minute's start
  const quotas = new FakeQuotas(clock);
  const warnings: unknown[] = [];
  const logger = { warn: (...args: unknown[]) => void warnings.push(args) };
  const replicas = Array.from(
    { length: opts.replicas ?? 1 },
    () =>
      new SharedLimiter({
        policy: 'api',
        limit,
        source: quotas,
        logger,
        leaseDivisor: opts.divisor ?? 100,
        timeoutMs: opts.timeoutMs ?? 50,
        failOpenMs: opts.failOpenMs ?? 5000,
        now: () => clock.now,
      }),
  );
  return { clock, quotas, warnings, replicas, limiter: replicas[0] };
}

const admitted = (ds: LimitDecision[]) => ds.filter((d) => d.allowed).length;

describe('SharedLimiter', () => {
  it('leases chunks of limit / divisor and spends them without calls (a lease hit is synchronous)', async () => {
    const { limiter, quotas } = setup(60_000);
    expect(limiter.chunk).toBe(600);
    const first = await limiter.take('key-1');
    expect(first).toMatchObject({ allowed: true, limit: 60_000, remaining: 59_999, resetSeconds: 60 });
    expect(quotas.calls).toEqual([{ key: 'api:key-1', want: 600 }]);
    for (let i = 1; i < 600; i++) {
      const d = limiter.take('key-1');
      expect(d).not.toBeInstanceOf(Promise);
      expect((d as LimitDecision).allowed).toBe(true);
    }
    expect(quotas.calls).toHaveLength(1);
    await limiter.take('key-1'); // the 601st asks again
    expect(quotas.calls).toHaveLength(2);
    // Another key has its own lease.
    await limiter.take('key-2');
    expect(quotas.calls.map((c) => c.key)).toEqual(['api:key-1', 'api:key-1', 'api:key-2']);
  });

  it('asks on every hit when the limit is small (chunk 1: exact), refuses over the limit with no more calls', async () => {
    const { limiter, quotas, clock } = setup(20);
    expect(limiter.chunk).toBe(1);
    const ds: LimitDecision[] = [];
    for (let i = 0; i < 25; i++) ds.push(await limiter.take('ip'));
    expect(admitted(ds)).toBe(20);
    expect(ds.slice(0, 20).every((d) => d.allowed)).toBe(true);
    expect(ds[19].remaining).toBe(0);
    // 20 grants; the 20th answer said the window is used up, so the rest are refused locally, no calls.
    expect(quotas.calls).toHaveLength(20);
    clock.now += 15_000;
    const refused = await limiter.take('ip');
    expect(refused).toMatchObject({ allowed: false, remaining: 0, resetSeconds: 45 });
    expect(quotas.calls).toHaveLength(20);
  });

  it('rolls over at the window end (aligned to the epoch): a refused key is admitted again', async () => {
    const { limiter, clock, quotas } = setup(3);
    for (let i = 0; i < 3; i++) expect((await limiter.take('k')).allowed).toBe(true);
    expect((await limiter.take('k')).allowed).toBe(false);
    clock.now += 59_999;
    expect(await limiter.take('k')).toMatchObject({ allowed: false, resetSeconds: 1 });
    clock.now += 1;
    expect(await limiter.take('k')).toMatchObject({ allowed: true, remaining: 2, resetSeconds: 60 });
    expect(quotas.calls.at(-1)).toEqual({ key: 'api:k', want: 1 });
  });

  it('concurrent hits on one key wait on one pending call, and lease for all of them', async () => {
    const { limiter, quotas } = setup(1000, { divisor: 100 });
    const ds = await Promise.all(Array.from({ length: 50 }, () => limiter.take('burst')));
    expect(admitted(ds)).toBe(50);
    // The first hit asked for a chunk of 10; the 40 that waited on it and found it spent asked once more, for all of them.
    expect(quotas.calls).toEqual([
      { key: 'api:burst', want: 10 },
      { key: 'api:burst', want: 40 },
    ]);
    expect([...quotas.used.values()]).toEqual([50]);
  });

  it('never admits more than the limit across replicas; the error is at most (replicas − 1) × chunk, the other way', async () => {
    const { replicas, quotas } = setup(1000, { divisor: 10, replicas: 3 });
    expect(replicas[0].chunk).toBe(100);
    // Round-robin across the three, one at a time, far past the limit.
    const ds: LimitDecision[] = [];
    for (let i = 0; i < 1500; i++) ds.push(await replicas[i % 3].take('shared'));
    expect(admitted(ds)).toBe(1000);
    // Traffic stops on two replicas holding unspent leases: the third is refused early, by at most 2 × chunk.
    const b = setup(1000, { divisor: 10, replicas: 3 });
    let n = 0;
    for (let i = 0; i < 3; i++) if ((await b.replicas[i].take('s')).allowed) n++; // each leases 100
    for (let i = 0; i < 1500; i++) if ((await b.replicas[0].take('s')).allowed) n++;
    expect(n).toBeLessThanOrEqual(1000);
    expect(n).toBeGreaterThanOrEqual(1000 - 2 * 100);
    expect(n).toBe(1000 - 2 * 99);
    expect(quotas.calls.length).toBeLessThan(30);
  });

  it('fails open to a per-replica count with the same limit when identity is down, warns once a minute, then asks again', async () => {
    const { limiter, quotas, warnings, clock } = setup(5, { failOpenMs: 5000 });
    quotas.mode = 'down';
    const ds: LimitDecision[] = [];
    for (let i = 0; i < 8; i++) ds.push(await limiter.take('k'));
    expect(admitted(ds)).toBe(5); // this replica's own count still holds the limit
    expect(ds[5]).toMatchObject({ allowed: false, resetSeconds: 60 });
    expect(quotas.calls).toHaveLength(1); // no call per hit while failed open
    expect(warnings).toHaveLength(1);
    // Another key during the fail-open period: local too, no call.
    expect((await limiter.take('other')).allowed).toBe(true);
    expect(quotas.calls).toHaveLength(1);
    // After failOpenMs it asks again (still down: one more call, no second warning within the minute).
    clock.now += 5001;
    expect((await limiter.take('other')).allowed).toBe(true);
    expect(quotas.calls).toHaveLength(2);
    expect(warnings).toHaveLength(1);
    // Back up: shared counting again.
    quotas.mode = 'ok';
    clock.now += 5001;
    expect((await limiter.take('third')).allowed).toBe(true);
    expect(quotas.calls.at(-1)).toEqual({ key: 'api:third', want: 1 });
    // A failure a minute later warns again.
    quotas.mode = 'down';
    clock.now += 60_000;
    await limiter.take('fourth');
    expect(warnings).toHaveLength(2);
  });

  it('fails open when identity is slow (over the timeout), and spends the late answer afterwards', async () => {
    const { limiter, quotas } = setup(1000, { timeoutMs: 20, divisor: 100 });
    quotas.mode = 'slow';
    const t0 = performance.now();
    const d = await limiter.take('k');
    expect(d.allowed).toBe(true);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(quotas.calls).toHaveLength(1);
    // The late answer arrives: its 10 units are spent by the next hits (they were counted at identity).
    quotas.mode = 'ok';
    quotas.release();
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 10; i++) expect(limiter.take('k')).toMatchObject({ allowed: true });
    expect(quotas.calls).toHaveLength(1);
  });

  it('hashes secret, long, empty and unprintable keys (identity takes 1..200 printable characters)', async () => {
    const clock = { now: 1_800_000_000_000 };
    const quotas = new FakeQuotas(clock);
    const secret = new SharedLimiter({ policy: 'invite-token', limit: 5, source: quotas, hashKeys: true, now: () => clock.now });
    await secret.take('the-secret-token');
    const plain = new SharedLimiter({ policy: 'api', limit: 5, source: quotas, now: () => clock.now });
    await plain.take('x'.repeat(5000));
    expect(quotas.calls[0].key).toMatch(/^invite-token:[A-Za-z0-9_-]{43}$/);
    expect(quotas.calls[0].key).not.toContain('secret');
    // The limit and window name the counter: a gateway run with another limit does not share it.
    expect(quotas.rawKeys[0]).toMatch(/^invite-token:5\/60:/);
    expect(quotas.calls[1].key).toMatch(/^api:[A-Za-z0-9_-]{43}$/);
    await plain.take('');
    await plain.take('with space\u0000nul');
    await plain.take('198.51.100.7');
    expect(quotas.calls.slice(2).map((c) => c.key)).toEqual([expect.stringMatching(/^api:[A-Za-z0-9_-]{43}$/), expect.stringMatching(/^api:[A-Za-z0-9_-]{43}$/), 'api:198.51.100.7']);
  });

  it('refuses a nonsensical limit at construction', () => {
    const source = new FakeQuotas({ now: 0 });
    expect(() => new SharedLimiter({ policy: 'x', limit: 0, source })).toThrow(/positive integer/);
    expect(() => new SharedLimiter({ policy: 'x', limit: 1.5, source })).toThrow(/positive integer/);
  });
});

describe('setRateLimitHeaders', () => {
  function fakeReply() {
    const headers: Record<string, string> = {};
    return { headers, reply: { header: (k: string, v: string) => void (headers[k] = v) } as never };
  }

  it('writes the draft-11 RateLimit and RateLimit-Policy fields, and Retry-After only when refused', () => {
    const ok: LimitDecision = { policy: 'form-ip', allowed: true, limit: 20, windowSeconds: 60, remaining: 7, resetSeconds: 31 };
    const no: LimitDecision = { policy: 'form', allowed: false, limit: 600, windowSeconds: 60, remaining: 0, resetSeconds: 31 };
    const a = fakeReply();
    setRateLimitHeaders(a.reply, [ok]);
    expect(a.headers).toEqual({ 'ratelimit-policy': '"form-ip";q=20;w=60', ratelimit: '"form-ip";r=7;t=31' });
    const b = fakeReply();
    setRateLimitHeaders(b.reply, [ok, no]);
    expect(b.headers).toEqual({
      'ratelimit-policy': '"form-ip";q=20;w=60, "form";q=600;w=60',
      ratelimit: '"form-ip";r=7;t=31, "form";r=0;t=31',
      'retry-after': '31',
    });
  });
});
