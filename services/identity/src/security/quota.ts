/**
 * Shared fixed-window counters (issue 16 §5) behind the gateway's rate limits: every replica asks here, so
 * a limit holds whichever replica a request reaches. Table rate_quotas (UNLOGGED).
 *
 * One statement per call (an upsert that adds `want` and answers the new total), so concurrent calls on
 * one key are serialized by the row lock and never grant more than `limit` in a window in total. Windows
 * are aligned to the epoch on PostgreSQL's clock (every identity replica agrees on them); old windows are
 * swept every few minutes.
 */
import { DomainError, type FieldViolation } from '@crm/errors';
import type { SecurityContext } from './context';

/** Limits of ConsumeQuota's arguments (security.proto). */
export const QUOTA_LIMITS = { keyMaxChars: 200, windowMaxSeconds: 3600, limitMax: 1_000_000_000 } as const;

/** How often windows older than an hour are deleted. */
const SWEEP_EVERY_MS = 5 * 60_000;

export class Quotas {
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly ctx: SecurityContext) {
    this.timer = setInterval(() => {
      this.sweep().catch((err: unknown) => ctx.logger.warn({ err }, 'sweeping old rate quota windows failed'));
    }, SWEEP_EVERY_MS);
    this.timer.unref();
  }

  /**
   * Takes up to `want` units of `key`'s counter in the current window of `windowSeconds`: answers how
   * many were granted (0..want, never more than `limit` in the window in total), the units asked for in
   * the window so far (this call included; may exceed `limit`) and when the window ends.
   */
  async consume(key: string, windowSeconds: number, limit: number, want: number): Promise<{ granted: number; used: number; windowEndsAt: Date }> {
    const violations: FieldViolation[] = [];
    if (typeof key !== 'string' || key.length < 1 || key.length > QUOTA_LIMITS.keyMaxChars) violations.push({ field: 'key', message: `1..${QUOTA_LIMITS.keyMaxChars} characters` });
    else if (key.includes('\u0000')) violations.push({ field: 'key', message: 'must not contain NUL' });
    if (!Number.isInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > QUOTA_LIMITS.windowMaxSeconds) {
      violations.push({ field: 'window_seconds', message: `an integer of 1..${QUOTA_LIMITS.windowMaxSeconds} seconds` });
    }
    const limitOk = Number.isInteger(limit) && limit >= 1 && limit <= QUOTA_LIMITS.limitMax;
    if (!limitOk) violations.push({ field: 'limit', message: `an integer of 1..${QUOTA_LIMITS.limitMax}` });
    if (!Number.isInteger(want) || want < 1 || (limitOk && want > limit)) violations.push({ field: 'want', message: 'an integer of 1..limit' });
    if (violations.length) throw new DomainError('INVALID_ARGUMENT', 'invalid quota request', { violations });

    const rows = await this.ctx.orm.em.getConnection().execute<{ used: string | number; window_start: Date | string }[]>(
      `INSERT INTO rate_quotas (key, window_start, used)
       VALUES (?::text, to_timestamp((floor(extract(epoch FROM clock_timestamp()) / ?::int) * ?::int)::float8), ?::bigint)
       ON CONFLICT (key, window_start) DO UPDATE SET used = rate_quotas.used + EXCLUDED.used
       RETURNING used, window_start`,
      [key, windowSeconds, windowSeconds, want],
    );
    const used = Number(rows[0].used);
    const granted = Math.max(0, Math.min(want, limit - (used - want)));
    const windowEndsAt = new Date(new Date(rows[0].window_start).getTime() + windowSeconds * 1000);
    return { granted, used, windowEndsAt };
  }

  /** Deletes the windows that ended (every window is at most an hour long). Answers how many rows went. */
  async sweep(): Promise<number> {
    const rows = await this.ctx.orm.em
      .getConnection()
      .execute<{ n: number }[]>(
        `WITH gone AS (DELETE FROM rate_quotas WHERE window_start < clock_timestamp() - make_interval(secs => ?::int) RETURNING 1) SELECT count(*)::int AS n FROM gone`,
        [QUOTA_LIMITS.windowMaxSeconds],
      );
    return rows[0]?.n ?? 0;
  }

  /** Stops the periodic sweep of old windows. */
  close(): void {
    clearInterval(this.timer);
  }
}
