import { common, z } from '@crm/config';
import { createOrm, ensureDatabase, migrate, type MikroORM, type NamedMigration } from '@crm/db';
import { startGrpcServer, type RunningGrpcServer, type ServiceRegistration } from '@crm/grpc';
import { createKafka, eventingEntities, eventingMigrations, IdempotentConsumer, OutboxRelay, type EventHandler, type Kafka } from '@crm/kafka';
import { createLogger, type Logger } from '@crm/logger';
import { initTelemetry } from '@crm/telemetry';

/**
 * The environment every service reads (extend it with `.extend({...})`; a service without a PostgreSQL
 * database `.omit({ DATABASE_URL: true })`). DATABASE_URL points at the service's own database,
 * created when missing.
 */
export const baseServiceEnv = z.object({
  DATABASE_URL: common.url,
  KAFKA_BROKERS: common.brokers,
  GRPC_PORT: common.port.default(0),
  GRPC_HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: common.logLevel,
  OTEL_EXPORTER_OTLP_ENDPOINT: common.optionalUrl,
  /** Suffix appended to every topic name (tests isolate runs with it); empty in production. */
  TOPIC_SUFFIX: z.string().regex(/^[a-z0-9._-]*$/).default(''),
});
export type BaseServiceEnv = z.infer<typeof baseServiceEnv>;
export type ServiceEnv = Omit<BaseServiceEnv, 'DATABASE_URL'> & { DATABASE_URL?: string };

/** The longest a signal-triggered drain may take before the process exits anyway. */
export const SHUTDOWN_DEADLINE_MS = 30_000;

/**
 * SIGTERM/SIGINT run `stop` once and exit 0 (1 when it fails). A drain that hangs (e.g. a Kafka client
 * stuck leaving its group) must not keep the pod alive: after SHUTDOWN_DEADLINE_MS the process exits 1.
 */
export function handleShutdownSignals(stop: () => Promise<void>, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'signal received');
    setTimeout(() => {
      logger.error({ afterMs: SHUTDOWN_DEADLINE_MS }, 'drain did not finish in time; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    void stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

export interface ConsumerSpec {
  groupId: string;
  /** Registry topic names (the suffix is added). */
  topics: string[];
  handler: EventHandler;
  /** The event types the handler acts on; others are passed over without a transaction (default: all). */
  types?: readonly string[];
}

/** Anything long-running a service owns besides gRPC (a Kafka sink, a scheduler). */
export interface Worker {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface BuildContext {
  /** The service's database; absent for a service without one. */
  orm?: MikroORM;
  logger: Logger;
  kafka: Kafka;
  /** Registry topic name → the real one (adds TOPIC_SUFFIX). */
  topicName(topic: string): string;
}

/** What a service runs, made once the database and Kafka client exist. */
export interface Built {
  grpc: ServiceRegistration[];
  consumers?: ConsumerSpec[];
  workers?: Worker[];
  /** Releases the service's own resources (a ClickHouse client) after the workers stopped. */
  close?(): Promise<void>;
}

export interface ServiceSpec {
  /** kebab-case service name: OTEL_SERVICE_NAME, logs, kafka client id. */
  name: string;
  env: ServiceEnv;
  /** The service's own PostgreSQL (needs DATABASE_URL); the outbox and processed_events come with it. */
  database?: {
    entities: NonNullable<Parameters<typeof createOrm>[0]['entities']>;
    migrations: NamedMigration[];
    /** Publish this database's outbox (default true). */
    relay?: boolean;
  };
  build(ctx: BuildContext): Built | Promise<Built>;
  /** A logger to use instead of a new one (tests). */
  logger?: Logger;
}

export interface RunningService {
  orm?: MikroORM;
  grpc: RunningGrpcServer;
  logger: Logger;
  kafka: Kafka;
  /** Drains in order: gRPC, workers, consumers, relay, the service's resources, the database; then telemetry. */
  stop(): Promise<void>;
}

/**
 * Starts a service: telemetry → database (created and migrated) → Kafka (relay, consumers, workers) →
 * gRPC. A start that fails half-way undoes what it started. On SIGTERM/SIGINT (when `handleSignals`)
 * it drains gRPC first and the database last.
 */
export async function startService(spec: ServiceSpec, opts: { handleSignals?: boolean } = {}): Promise<RunningService> {
  const env = spec.env;
  const telemetry = await initTelemetry({ serviceName: spec.name, otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT });
  const logger = spec.logger ?? createLogger({ service: spec.name, level: env.LOG_LEVEL });
  // Each step pushes its undo; stop() and a failed start run them last-in, first-out.
  const undo: { what: string; run: () => Promise<unknown> }[] = [{ what: 'telemetry', run: () => telemetry.shutdown() }];
  const unwind = async () => {
    for (const step of undo.reverse()) await step.run().catch((err) => logger.warn({ err, step: step.what }, 'shutdown step failed'));
    undo.length = 0;
  };
  try {
    let orm: MikroORM | undefined;
    if (spec.database) {
      if (!env.DATABASE_URL) throw new Error(`${spec.name}: DATABASE_URL is required for its database`);
      const dbName = new URL(env.DATABASE_URL).pathname.replace(/^\//, '') || spec.name.replace(/-/g, '_');
      await ensureDatabase(env.DATABASE_URL, dbName);
      const db = await createOrm({
        clientUrl: env.DATABASE_URL,
        entities: [...spec.database.entities, ...eventingEntities],
        migrations: [...eventingMigrations, ...spec.database.migrations],
      });
      orm = db;
      undo.push({ what: 'database', run: () => db.close(true) });
      const applied = await migrate(db);
      if (applied.length) logger.info({ applied }, 'migrations applied');
    }

    const kafka = createKafka({ clientId: spec.name, brokers: env.KAFKA_BROKERS, logger });
    const topicName = (t: string) => `${t}${env.TOPIC_SUFFIX}`;
    const built = await spec.build({ orm, logger, kafka, topicName });
    if (built.close) undo.push({ what: 'resources', run: () => built.close!() });

    if (spec.database && spec.database.relay !== false) {
      const relay = new OutboxRelay({ databaseUrl: env.DATABASE_URL!, kafka, logger, topicName });
      await relay.start();
      undo.push({ what: 'relay', run: () => relay.stop() });
    }
    // Consumers stop together: each waits out its in-flight fetch (up to kafkajs' maxWaitTime, 5 s), so
    // stopping four one after another took ~20 s.
    const consumers: { consumer: IdempotentConsumer; groupId: string }[] = [];
    undo.push({ what: 'consumers', run: () => Promise.all(consumers.map((c) => c.consumer.stop().catch((err: unknown) => logger.warn({ err, groupId: c.groupId }, 'consumer stop failed')))) });
    for (const c of built.consumers ?? []) {
      if (!orm) throw new Error(`${spec.name}: idempotent consumers need the service's database`);
      const consumer = new IdempotentConsumer({ kafka, orm, logger, groupId: c.groupId, topics: c.topics.map(topicName), handler: c.handler, types: c.types });
      await consumer.start();
      consumers.push({ consumer, groupId: c.groupId });
    }
    for (const w of built.workers ?? []) {
      await w.start();
      undo.push({ what: 'worker', run: () => w.stop() });
    }
    const grpc = await startGrpcServer({ services: built.grpc, logger, host: env.GRPC_HOST, port: env.GRPC_PORT });
    undo.push({ what: 'grpc', run: () => grpc.shutdown(10_000) });

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        logger.info('draining');
        await unwind();
        logger.info('stopped');
      })());
    if (opts.handleSignals) handleShutdownSignals(stop, logger);
    logger.info({ grpcPort: grpc.port }, 'service started');
    return { orm, grpc, logger, kafka, stop };
  } catch (err) {
    logger.error({ err }, 'service failed to start');
    await unwind();
    throw err;
  }
}
