/**
 * Shared fixed-window counters (issue 16 §5) behind the gateway's rate limits: every replica asks here, so
 * a limit holds whichever replica a request reaches. Table rate_quotas (UNLOGGED). OWNER: helper "limits".
 */
import type { SecurityContext } from './context';

export class Quotas {
  constructor(private readonly ctx: SecurityContext) {}

  async consume(key: string, windowSeconds: number, limit: number, want: number): Promise<{ granted: number; used: number; windowEndsAt: Date }> {
    void key;
    void windowSeconds;
    void limit;
    void want;
    void this.ctx;
    throw new Error('ConsumeQuota is not built yet');
  }

  /** Stops the periodic sweep of old windows. */
  close(): void {}
}
