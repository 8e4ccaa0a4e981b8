/**
 * graphile-worker as a worker of a service (intake's durable timers, telephony's webhook processing): one
 * runner per replica on the service's own database (schema `graphile_worker`), with its own small pool,
 * our logger, and the service's task list. graphile-worker locks each job for one worker (FOR UPDATE SKIP
 * LOCKED), so with several replicas a due job runs in exactly one of them. A replica killed mid-job would
 * leave its jobs locked for 4 h (graphile 0.17's stale-lock sweep), so each runner holds a session
 * advisory lock named after its graphile pool id on a connection of its own, and every runner sweeps now
 * and then: a pool id that still locks jobs but whose advisory lock can be taken belongs to a dead
 * process, and its jobs are unlocked (`graphile_worker.force_unlock_workers`) to run again at once. A job
 * may thus run twice (the handler was half-way when its process died, or a live runner's liveness
 * connection dropped): handlers must be idempotent (row lock + re-check), so it has one effect.
 *
 * `start()` migrates graphile's schema first: services call `graphile_worker.add_job` inside their own
 * transactions, so the schema must exist before gRPC serves (startService starts workers before gRPC).
 *
 * `name` (the service) names the advisory locks: `<name>:graphile-worker:migrate` and
 * `<name>:timer-pool:<pool id>` (intake's names from before this lib, so replicas of both versions agree
 * during a rolling deploy).
 */
import type { Logger as CrmLogger } from '@crm/logger';
import type { Worker } from '@crm/service';
import { Logger, run, runMigrations, type LogLevel, type Runner, type TaskList, type WorkerEvents } from 'graphile-worker';
import { EventEmitter } from 'node:events';
import { Client, Pool } from 'pg';

/** The session advisory lock a live runner holds for its graphile pool id (released when its connection dies). */
const LIVENESS_KEY = (name: string, poolId: string) => `${name}:timer-pool:${poolId}`;
const MIGRATE_KEY = (name: string) => `${name}:graphile-worker:migrate`;

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
function jobPool(databaseUrl: string, max: number, logger: CrmLogger): Pool {
  const pool = new Pool({ connectionString: databaseUrl, max });
  pool.on('error', (err) => logger.warn({ err }, 'job pool: idle client error'));
  pool.on('connect', (client) => client.on('error', (err) => logger.warn({ err }, 'job pool: client error')));
  return pool;
}

/**
 * Runs graphile-worker's migrations once (the service at start, the k8s migrations job). A session
 * advisory lock serialises replicas that start together, so they never race over the schema.
 */
export async function migrateJobs(name: string, databaseUrl: string, logger: CrmLogger): Promise<void> {
  const pool = jobPool(databaseUrl, 2, logger);
  try {
    const lockClient = await pool.connect();
    try {
      await lockClient.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [MIGRATE_KEY(name)]);
      await runMigrations({ pgPool: pool, logger: graphileLogger(logger) });
    } finally {
      await lockClient.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [MIGRATE_KEY(name)]).catch(() => undefined);
      lockClient.release();
    }
  } finally {
    await pool.end();
  }
}

export interface JobRunnerOptions {
  /** The service: names the advisory locks (see above). */
  name: string;
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
export async function releaseDeadRunners(name: string, client: Client, logger: CrmLogger, ownPoolId?: string): Promise<string[]> {
  const { rows } = await client.query<{ locked_by: string }>(
    `SELECT DISTINCT locked_by FROM graphile_worker._private_jobs WHERE locked_by IS NOT NULL
     UNION SELECT DISTINCT locked_by FROM graphile_worker._private_job_queues WHERE locked_by IS NOT NULL`,
  );
  const dead: string[] = [];
  for (const { locked_by: id } of rows) {
    if (id === ownPoolId) continue;
    const { rows: got } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [LIVENESS_KEY(name, id)]);
    if (!got[0]?.ok) continue;
    try {
      await client.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [[id]]);
      dead.push(id);
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [LIVENESS_KEY(name, id)]);
    }
  }
  if (dead.length) logger.warn({ poolIds: dead }, 'job runner: released the jobs of runners that died');
  return dead;
}

export class JobRunner implements Worker {
  private pool: Pool | undefined;
  private runner: Runner | undefined;
  /** Holds this runner's liveness lock; also runs the sweeps. */
  private liveness: Client | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: JobRunnerOptions) {}

  async start(): Promise<void> {
    const { name, databaseUrl, concurrency, pollIntervalMs, taskList, logger } = this.opts;
    await migrateJobs(name, databaseUrl, logger);
    // concurrency jobs each hold one connection while their handler runs on the service's ORM pool; the
    // runner itself needs a few more (LISTEN, fetching, completing).
    const liveness = new Client({ connectionString: databaseUrl });
    liveness.on('error', (err) => logger.warn({ err }, 'job runner: liveness connection error'));
    await liveness.connect();
    this.liveness = liveness;
    const pool = jobPool(databaseUrl, concurrency + 3, logger);
    this.pool = pool;
    // graphile names its pool on creation, before any job is taken: hold the liveness lock for that name.
    const events: WorkerEvents = new EventEmitter() as WorkerEvents;
    let claimed: Promise<unknown> = Promise.resolve();
    let poolId: string | undefined;
    events.on('pool:create', ({ workerPool }) => {
      poolId = workerPool.id;
      claimed = liveness.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [LIVENESS_KEY(name, workerPool.id)]);
    });
    try {
      // Jobs of runners killed mid-job are free again before this one starts taking jobs.
      await releaseDeadRunners(name, liveness, logger);
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
      this.sweeping = releaseDeadRunners(name, liveness, logger, poolId).catch((err: unknown) => logger.warn({ err }, 'job runner: sweep failed'));
    }, every);
    this.sweepTimer.unref();
    // A runner that dies on its own (its database gone for good) is logged; the process keeps serving.
    this.runner.promise.catch((err: unknown) => logger.error({ err }, 'job runner stopped with an error'));
    logger.info({ name, concurrency, pollIntervalMs }, 'job runner started');
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
    if (runner) await runner.stop().catch((err: unknown) => this.opts.logger.warn({ err }, 'job runner stop failed'));
    if (pool) await pool.end().catch(() => undefined);
    // Last: the liveness lock is held until every job of this runner finished.
    if (liveness) await liveness.end().catch(() => undefined);
  }
}

/** graphile-worker's newest applied migration in this database (0: its schema does not exist yet). */
export async function graphileVersion(databaseUrl: string): Promise<number> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // Two statements: a relation in a subquery is resolved when the statement is planned, CASE or not.
    const exists = await client.query<{ t: string | null }>(`SELECT to_regclass('graphile_worker.migrations')::text AS t`);
    if (!exists.rows[0]?.t) return 0;
    const { rows } = await client.query<{ v: number | null }>('SELECT max(id) AS v FROM graphile_worker.migrations');
    return Number(rows[0]?.v ?? 0);
  } finally {
    await client.end();
  }
}

/**
 * A migrations job's step for graphile's schema: migrates it (under the service's lock) and names what
 * it applied (`graphile_worker_000019`), or nothing when it was current.
 */
export async function migrateJobsStep(name: string, databaseUrl: string, logger: CrmLogger): Promise<string[]> {
  const before = await graphileVersion(databaseUrl);
  await migrateJobs(name, databaseUrl, logger);
  const after = await graphileVersion(databaseUrl);
  return after === before ? [] : [`graphile_worker_${String(after).padStart(6, '0')}`];
}
