/**
 * The contact backfill: links to a contact every request that has a phone or an e-mail but no contact —
 * requests that existed before intake used contacts, and requests created while contacts was down or
 * slow. Oldest first, in batches; for each request MatchOrCreate (provenance request/<id>), then one
 * transaction sets contact_id and publishes `crm.intake.request.contact_linked.v1` (cause `backfill`).
 *
 * Any number of replicas may run it: a batch is taken with FOR UPDATE SKIP LOCKED and leased
 * (`contact_link_after` set ahead), so two replicas never work on the same request and no lock is
 * held while contacts answers. A request is linked only while it still has no contact, so a replica that
 * lost its lease (slow for a minute) changes nothing another one did. When contacts is unreachable the
 * worker backs off (doubling up to maxBackoffMs) and the batch's requests wait as long; a request whose
 * points contacts refuses is marked `contact_unlinkable` and never tried again.
 */
import type { EntityManager, MikroORM } from '@crm/db';
import type { Logger } from '@crm/logger';
import type { Worker } from '@crm/service';
import type { CountryCode } from 'libphonenumber-js';
import { enqueueContactLinked, uuidArray } from './contact-links';
import type { ContactMatcher, MatchOutcome } from './contacts';

export interface BackfillOptions {
  orm: MikroORM;
  contacts: ContactMatcher;
  logger: Logger;
  /** Passed to MatchOrCreate (stored phones are E.164 already). */
  defaultCountry: CountryCode;
  /** Sleep when nothing is due (INTAKE_BACKFILL_INTERVAL_MS); also the first back-off step. */
  intervalMs: number;
  /** Requests per batch (default 200). */
  batchSize?: number;
  /** MatchOrCreate calls in flight (default 8). */
  concurrency?: number;
  /** Deadline of one MatchOrCreate (default 2000 ms: no caller is waiting). */
  callTimeoutMs?: number;
  /** How long a taken batch is this replica's (default 60 s). */
  leaseMs?: number;
  /** The longest back-off while contacts is unreachable (default 30 s). */
  maxBackoffMs?: number;
}

export interface BatchResult {
  /** Requests taken from the queue. */
  taken: number;
  linked: number;
  unlinkable: number;
  /** Requests left for later because contacts did not answer. */
  postponed: number;
}

interface Due {
  id: string;
  tenant_id: string;
  name: string | null;
  phone: string | null;
  email: string | null;
  created_at: Date;
}

export class ContactBackfill implements Worker {
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly callTimeoutMs: number;
  private readonly leaseMs: number;
  private readonly maxBackoffMs: number;
  private backoffMs: number;

  constructor(private readonly opts: BackfillOptions) {
    this.batchSize = opts.batchSize ?? 200;
    this.concurrency = opts.concurrency ?? 8;
    this.callTimeoutMs = opts.callTimeoutMs ?? 2000;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.maxBackoffMs = Math.max(opts.maxBackoffMs ?? 30_000, opts.intervalMs);
    this.backoffMs = opts.intervalMs;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
    this.opts.logger.info({ intervalMs: this.opts.intervalMs, batchSize: this.batchSize }, 'contact backfill started');
  }

  /** Stops after the batch in flight. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    await this.loop;
    this.opts.logger.info('contact backfill stopped');
  }

  private async run(): Promise<void> {
    while (this.running) {
      let wait = this.opts.intervalMs;
      try {
        const r = await this.runBatch();
        if (r.postponed > 0) {
          // contacts is unreachable: wait longer each time, and the postponed requests as long.
          wait = this.backoffMs;
          this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
          this.opts.logger.warn({ ...r, retryInMs: wait }, 'contact backfill: contacts unreachable, backing off');
        } else {
          this.backoffMs = this.opts.intervalMs;
          if (r.linked || r.unlinkable) this.opts.logger.info(r, 'contact backfill batch');
          // A full batch means more are due: go on at once.
          if (r.taken === this.batchSize) continue;
        }
      } catch (err) {
        wait = this.backoffMs;
        this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
        this.opts.logger.warn({ err, retryInMs: wait }, 'contact backfill batch failed');
      }
      await this.sleep(wait);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** One batch: take what is due, ask contacts, write the outcome. Exposed for tests. */
  async runBatch(): Promise<BatchResult> {
    const due = await this.take();
    if (!due.length) return { taken: 0, linked: 0, unlinkable: 0, postponed: 0 };
    const outcomes = await this.matchAll(due);
    return this.write(due, outcomes);
  }

  /** Takes up to batchSize due requests, oldest first, and leases them to this replica. */
  private async take(): Promise<Due[]> {
    const rows = await this.opts.orm.em.fork().execute<Due[]>(
      `WITH due AS (
         SELECT id FROM requests
          WHERE contact_id IS NULL AND contact_unlinkable IS NULL AND (phone IS NOT NULL OR email IS NOT NULL)
            AND (contact_link_after IS NULL OR contact_link_after <= now())
          ORDER BY created_at, id
          LIMIT ?
          FOR UPDATE SKIP LOCKED)
       UPDATE requests r SET contact_link_after = now() + ?::int * interval '1 millisecond'
         FROM due WHERE r.id = due.id
       RETURNING r.id, r.tenant_id, r.name, r.phone, r.email, r.created_at`,
      [this.batchSize, this.leaseMs],
    );
    return rows.sort((a, b) => new Date(a.created_at).getTime() - new Date(b.created_at).getTime() || (a.id < b.id ? -1 : 1));
  }

  /**
   * MatchOrCreate for each request, in order. Requests that share a phone or an e-mail (one person) go
   * one after another, oldest first, as they would have arrived: run at once, two of them could each
   * create a contact for the same person. Unrelated requests go `concurrency` at a time. Once contacts
   * does not answer, the rest of the batch is not tried (undefined): postponed with the failed ones.
   */
  private async matchAll(due: Due[]): Promise<(MatchOutcome | undefined)[]> {
    const outcomes: (MatchOutcome | undefined)[] = new Array(due.length).fill(undefined);
    const lanes = lanesOf(due);
    let next = 0;
    let down = false;
    const worker = async () => {
      while (!down && next < lanes.length) {
        for (const i of lanes[next++]) {
          if (down) return;
          const r = due[i];
          const outcome = await this.opts.contacts.match(r.tenant_id, { requestId: r.id, name: r.name, phone: r.phone, email: r.email, country: this.opts.defaultCountry }, this.callTimeoutMs);
          outcomes[i] = outcome;
          if (outcome.kind === 'unavailable') down = true;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, lanes.length) }, worker));
    return outcomes;
  }

  private async write(due: Due[], outcomes: (MatchOutcome | undefined)[]): Promise<BatchResult> {
    const links: { id: string; contact_id: string }[] = [];
    const refused: { id: string; reason: string }[] = [];
    const postponed: string[] = [];
    due.forEach((r, i) => {
      const o = outcomes[i];
      if (o?.kind === 'matched') links.push({ id: r.id, contact_id: o.contactId });
      else if (o?.kind === 'refused') refused.push({ id: r.id, reason: o.reason });
      else postponed.push(r.id);
    });
    let linked = 0;
    await this.opts.orm.em.fork().transactional(async (em: EntityManager) => {
      if (links.length) {
        // Only while the request still has no contact: a merge or another replica may have been first.
        const rows = await em.execute<{ id: string; tenant_id: string; contact_id: string; channel: string; message: string | null }[]>(
          `UPDATE requests r SET contact_id = v.contact_id, contact_link_after = NULL
             FROM jsonb_to_recordset(?::jsonb) AS v(id uuid, contact_id uuid)
            WHERE r.id = v.id AND r.contact_id IS NULL
          RETURNING r.id, r.tenant_id, r.contact_id, r.channel, r.message`,
          [JSON.stringify(links)],
        );
        for (const row of rows) enqueueContactLinked(em, row.tenant_id, row, null, row.contact_id, 'backfill');
        linked = rows.length;
      }
      if (refused.length) {
        await em.execute(
          `UPDATE requests r SET contact_unlinkable = v.reason, contact_link_after = NULL
             FROM jsonb_to_recordset(?::jsonb) AS v(id uuid, reason text)
            WHERE r.id = v.id AND r.contact_id IS NULL`,
          [JSON.stringify(refused)],
        );
        this.opts.logger.warn({ refused }, 'contact backfill: contacts refused the points of requests; they stay without a contact');
      }
      if (postponed.length) {
        await em.execute(`UPDATE requests SET contact_link_after = now() + ?::int * interval '1 millisecond' WHERE id = ANY(?::uuid[]) AND contact_id IS NULL`, [
          this.backoffMs,
          uuidArray(postponed),
        ]);
      }
    });
    return { taken: due.length, linked, unlinkable: refused.length, postponed: postponed.length };
  }
}

/**
 * The batch (oldest first) split into lanes: requests of one tenant connected by a shared phone or
 * e-mail are in one lane, in their order; lanes are ordered by their oldest request. Union-find on indexes.
 */
export function lanesOf(due: Pick<Due, 'tenant_id' | 'phone' | 'email'>[]): number[][] {
  const parent = due.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  const owner = new Map<string, number>();
  due.forEach((r, i) => {
    for (const key of [r.phone !== null ? `${r.tenant_id}\u0000p\u0000${r.phone}` : null, r.email !== null ? `${r.tenant_id}\u0000e\u0000${r.email}` : null]) {
      if (key === null) continue;
      const j = owner.get(key);
      if (j === undefined) owner.set(key, i);
      else {
        const [a, b] = [find(i), find(j)];
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      }
    }
  });
  const lanes = new Map<number, number[]>();
  due.forEach((_, i) => {
    const root = find(i);
    const lane = lanes.get(root);
    if (lane) lane.push(i);
    else lanes.set(root, [i]);
  });
  return [...lanes.values()];
}
