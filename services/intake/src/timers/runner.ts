/**
 * graphile-worker inside intake: one runner per replica on intake's own database (schema
 * `graphile_worker`), with its own small pool, our logger, and the task list of timers/jobs.ts.
 * graphile-worker locks each job for one worker (FOR UPDATE SKIP LOCKED), so with several replicas a due
 * job runs in exactly one of them. A replica killed mid-job would leave its jobs locked for 4 h (graphile
 * 0.17's stale-lock sweep), so each runner holds a session advisory lock named after its graphile pool id
 * on a connection of its own, and every runner sweeps now and then: a pool id that still locks jobs but
 * whose advisory lock can be taken belongs to a dead process, and its jobs are unlocked
 * (`graphile_worker.force_unlock_workers`) to run again at once. A job may thus run twice (the handler
 * was half-way when its process died, or a live runner's liveness connection dropped): the handlers are
 * idempotent (row lock + re-check), so it has one effect.
 *
 * `start()` migrates graphile's schema first: scheduler.ts calls `graphile_worker.add_job` inside intake's
 * own transactions, so the schema must exist before gRPC serves (startService starts workers before gRPC).
 */
import type { Logger as CrmLogger } from '@crm/logger';
import type { Worker } from '@crm/service';
import { Logger, run, runMigrations, type LogLevel, type Runner, type TaskList, type WorkerEvents } from 'graphile-worker';
import { EventEmitter } from 'node:events';
import { Client, Pool } from 'pg';

/** The session advisory lock a live runner holds for its graphile pool id (released when its connection dies). */
const LIVENESS_KEY = (poolId: string) => `intake:timer-pool:${poolId}`;

/** graphile's log calls → pino (graphile's `info` is chatty at start/stop: kept at debug). */
export function graphileLogger(logger: CrmLogger): Logger {
  const log = logger.child({ component: 'graphile-worker' });
  return new Logger((scope) => (level: LogLevel, message: string, meta?: Record<string, unknown>) => {
    const fields = { ...scope, ...(meta ?? {}) };
    switch (level as string) {
      case 'error':
        log.error(fields, message);
        break;
      case 'warning':
        log.warn(fields, message);
        break;
      default:
        log.debug(fields, message);
    }
  });
}

/** A pool with the error handlers graphile-worker asks for (an idle client's error must not crash the process). */
function timerPool(databaseUrl: string, max: number, logger: CrmLogger): Pool {
  const pool = new Pool({ connectionString: databaseUrl, max });
  pool.on('error', (err) => logger.warn({ err }, 'timer pool: idle client error'));
  pool.on('connect', (client) => client.on('error', (err) => logger.warn({ err }, 'timer pool: client error')));
  return pool;
}

/**
 * Runs graphile-worker's migrations once (the service at start, the k8s migrations job). A session
 * advisory lock serialises replicas that start together, so they never race over the schema.
 */
export async function migrateTimers(databaseUrl: string, logger: CrmLogger): Promise<void> {
  const pool = timerPool(databaseUrl, 2, logger);
  try {
    const lockClient = await pool.connect();
    try {
      await lockClient.query(`SELECT pg_advisory_lock(hashtextextended('intake:graphile-worker:migrate', 0))`);
      await runMigrations({ pgPool: pool, logger: graphileLogger(logger) });
    } finally {
      await lockClient.query(`SELECT pg_advisory_unlock(hashtextextended('intake:graphile-worker:migrate', 0))`).catch(() => undefined);
      lockClient.release();
    }
  } finally {
    await pool.end();
  }
}

export interface TimerRunnerOptions {
  databaseUrl: string;
  concurrency: number;
  pollIntervalMs: number;
  taskList: TaskList;
  logger: CrmLogger;
  /** How often dead runners' locks are looked for (default 5 × the poll interval, 1..30 s). */
  sweepIntervalMs?: number;
}

/**
 * Unlocks the jobs of runners that died (their liveness lock is free); returns the pool ids released.
 * Runs on `client`; `ownPoolId` is skipped (advisory locks are re-entrant within the session holding them).
 */
export async function releaseDeadRunners(client: Client, logger: CrmLogger, ownPoolId?: string): Promise<string[]> {
  const { rows } = await client.query<{ locked_by: string }>(
    `SELECT DISTINCT locked_by FROM graphile_worker._private_jobs WHERE locked_by IS NOT NULL
     UNION SELECT DISTINCT locked_by FROM graphile_worker._private_job_queues WHERE locked_by IS NOT NULL`,
  );
  const dead: string[] = [];
  for (const { locked_by: id } of rows) {
    if (id === ownPoolId) continue;
    const { rows: got } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [LIVENESS_KEY(id)]);
    if (!got[0]?.ok) continue;
    try {
      await client.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [[id]]);
      dead.push(id);
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [LIVENESS_KEY(id)]);
    }
  }
  if (dead.length) logger.warn({ poolIds: dead }, 'timer runner: released the jobs of runners that died');
  return dead;
}

export class TimerRunner implements Worker {
  private pool: Pool | undefined;
  private runner: Runner | undefined;
  /** Holds this runner's liveness lock; also runs the sweeps. */
  private liveness: Client | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: TimerRunnerOptions) {}

  async start(): Promise<void> {
    const { databaseUrl, concurrency, pollIntervalMs, taskList, logger } = this.opts;
    await migrateTimers(databaseUrl, logger);
    // concurrency jobs each hold one connection while their handler runs on intake's ORM pool; the
    // runner itself needs a few more (LISTEN, fetching, completing).
    const liveness = new Client({ connectionString: databaseUrl });
    liveness.on('error', (err) => logger.warn({ err }, 'timer runner: liveness connection error'));
    await liveness.connect();
    this.liveness = liveness;
    const pool = timerPool(databaseUrl, concurrency + 3, logger);
    this.pool = pool;
    // graphile names its pool on creation, before any job is taken: hold the liveness lock for that name.
    const events: WorkerEvents = new EventEmitter() as WorkerEvents;
    let claimed: Promise<unknown> = Promise.resolve();
    let poolId: string | undefined;
    events.on('pool:create', ({ workerPool }) => {
      poolId = workerPool.id;
      claimed = liveness.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [LIVENESS_KEY(workerPool.id)]);
    });
    try {
      // Jobs of runners killed mid-job are free again before this one starts taking jobs.
      await releaseDeadRunners(liveness, logger);
      this.runner = await run({
        pgPool: pool,
        concurrency,
        pollInterval: pollIntervalMs,
        noHandleSignals: true,
        taskList,
        logger: graphileLogger(logger),
        events,
      });
      await claimed;
    } catch (err) {
      await this.runner?.stop().catch(() => undefined);
      this.runner = undefined;
      this.pool = undefined;
      this.liveness = undefined;
      await pool.end().catch(() => undefined);
      await liveness.end().catch(() => undefined);
      throw err;
    }
    const every = this.opts.sweepIntervalMs ?? Math.min(30_000, Math.max(1000, pollIntervalMs * 5));
    this.sweepTimer = setInterval(() => {
      this.sweeping = releaseDeadRunners(liveness, logger, poolId).catch((err: unknown) => logger.warn({ err }, 'timer runner: sweep failed'));
    }, every);
    this.sweepTimer.unref();
    // A runner that dies on its own (its database gone for good) is logged; the process keeps serving.
    this.runner.promise.catch((err: unknown) => logger.error({ err }, 'timer runner stopped with an error'));
    logger.info({ concurrency, pollIntervalMs }, 'timer runner started');
  }

  /** Graceful: stops taking jobs, waits for the running ones (graphile aborts them after 5 s), then the pool. */
  async stop(): Promise<void> {
    const runner = this.runner;
    const pool = this.pool;
    const liveness = this.liveness;
    this.runner = undefined;
    this.pool = undefined;
    this.liveness = undefined;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.sweeping;
    if (runner) await runner.stop().catch((err: unknown) => this.opts.logger.warn({ err }, 'timer runner stop failed'));
    if (pool) await pool.end().catch(() => undefined);
    // Last: the liveness lock is held until every job of this runner finished.
    if (liveness) await liveness.end().catch(() => undefined);
  }
}
