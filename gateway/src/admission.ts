/**
 * What a request is worth when the gateway is overloaded, in the order classes are shed: API and UI
 * reads first, then writes; public intake (site forms, and provider webhooks as they come) last, since
 * a lead that is not taken is lost while a read can be retried.
 */
export type Priority = 'sign_in' | 'read' | 'write' | 'public';

/**
 * The share of the in-flight limit each class may fill: sign-in steps (login, second factor, invite
 * acceptance: each costs a password hash or a code check, and a guessing flood is made of them) only a
 * quarter, reads the first half, writes 85 %, public intake all of it.
 */
export const SHARES: Record<Priority, number> = { sign_in: 0.25, read: 0.5, write: 0.85, public: 1 };

export interface AdmissionOptions {
  /** Requests in flight at most (all classes together). */
  maxInFlight: number;
  /** An event loop this late (ms) sheds reads and writes for a while; public intake still goes. */
  maxEventLoopDelayMs: number;
  /** How often the event loop delay is sampled (default 500 ms). */
  sampleMs?: number;
}

/**
 * Admission at the edge: a bounded number of requests in flight, with room kept for what matters most.
 * The excess is refused at once (503 with Retry-After, before a body is read or a service called), so the
 * admitted requests keep their latency instead of every request queueing behind a saturated service.
 */
export class Admission {
  private inFlight = 0;
  /** Until when reads and writes are shed because the event loop ran late (performance.now() ms). */
  private laggingUntil = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly limits: Record<Priority, number>;

  constructor(private readonly opts: AdmissionOptions) {
    this.limits = {
      sign_in: Math.max(1, Math.floor(opts.maxInFlight * SHARES.sign_in)),
      read: Math.max(1, Math.floor(opts.maxInFlight * SHARES.read)),
      write: Math.max(1, Math.floor(opts.maxInFlight * SHARES.write)),
      public: opts.maxInFlight,
    };
    // The event loop's delay is how late this timer fires; a late one sheds for two more samples.
    const sampleMs = opts.sampleMs ?? 500;
    this.last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      if (now - this.last - sampleMs > opts.maxEventLoopDelayMs) this.laggingUntil = now + 2 * sampleMs;
      this.last = now;
    }, sampleMs);
    this.timer.unref();
  }

  /** When the last sample was taken (performance.now() ms). */
  private last: number;

  /**
   * Forgets the delay seen so far: the server calls it once ready, since compiling every route's schemas
   * at start blocks the loop for longer than the limit, and that is not overload.
   */
  resetDelay(): void {
    this.last = performance.now();
    this.laggingUntil = 0;
  }

  /** Takes a slot for a request of this class; false: refuse it. Every true must be paired with release(). */
  tryAdmit(priority: Priority): boolean {
    if (priority !== 'public' && performance.now() < this.laggingUntil) return false;
    if (this.inFlight >= this.limits[priority]) return false;
    this.inFlight += 1;
    return true;
  }

  release(): void {
    this.inFlight -= 1;
  }

  get current(): number {
    return this.inFlight;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
