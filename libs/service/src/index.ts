import { common, z } from '@crm/config';
import { createOrm, ensureDatabase, migrate, type MikroORM, type NamedMigration } from '@crm/db';
import { startGrpcServer, type RunningGrpcServer, type ServiceRegistration } from '@crm/grpc';
import { createKafka, eventingEntities, eventingMigrations, IdempotentConsumer, OutboxRelay, type EventHandler, type Kafka } from '@crm/kafka';
import { createLogger, type Logger } from '@crm/logger';
import { initTelemetry, type Telemetry } from '@crm/telemetry';

/**
 * The environment every service reads (extend it with `.extend({...})` for service-specific variables).
 * DATABASE_URL points at the service's own database (created when missing).
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

export interface ConsumerSpec {
  groupId: string;
  /** Registry topic names (the suffix is added). */
  topics: string[];
  handler: EventHandler;
}

export interface ServiceSpec {
  /** kebab-case service name: OTEL_SERVICE_NAME, logs, kafka client id. */
  name: string;
  env: BaseServiceEnv;
  entities: NonNullable<Parameters<typeof createOrm>[0]['entities']>;
  /** The service's own migrations; the outbox and processed_events tables are added in front. */
  migrations: NamedMigration[];
  grpc: (ctx: { orm: MikroORM; logger: Logger; kafka: Kafka }) => ServiceRegistration[];
  /** Publish this database's outbox (default true). */
  relay?: boolean;
  consumers?: (ctx: { orm: MikroORM; logger: Logger }) => ConsumerSpec[];
}

export interface RunningService {
  orm: MikroORM;
  grpc: RunningGrpcServer;
  logger: Logger;
  kafka: Kafka;
  /** Drains in order: gRPC, consumers, relay, database; then telemetry. */
  stop(): Promise<void>;
}

/**
 * Starts a service: telemetry → database (created and migrated) → Kafka (relay, consumers) → gRPC.
 * On SIGTERM/SIGINT (when `handleSignals`) it drains gRPC, consumers, relay, then the database.
 */
export async function startService(spec: ServiceSpec, opts: { handleSignals?: boolean } = {}): Promise<RunningService> {
  const env = spec.env;
  const telemetry: Telemetry = await initTelemetry({ serviceName: spec.name, otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT });
  const logger = createLogger({ service: spec.name, level: env.LOG_LEVEL });
  const dbUrl = new URL(env.DATABASE_URL);
  await ensureDatabase(env.DATABASE_URL, dbUrl.pathname.replace(/^\//, '') || spec.name.replace(/-/g, '_'));
  const orm = await createOrm({ clientUrl: env.DATABASE_URL, entities: [...spec.entities, ...eventingEntities], migrations: [...eventingMigrations, ...spec.migrations] });
  const applied = await migrate(orm);
  if (applied.length) logger.info({ applied }, 'migrations applied');

  const kafka = createKafka({ clientId: spec.name, brokers: env.KAFKA_BROKERS, logger });
  const topicName = (t: string) => `${t}${env.TOPIC_SUFFIX}`;
  const relay = spec.relay === false ? undefined : new OutboxRelay({ databaseUrl: env.DATABASE_URL, kafka, logger, topicName });
  await relay?.start();
  const consumers = (spec.consumers?.({ orm, logger }) ?? []).map(
    (c) => new IdempotentConsumer({ kafka, orm, logger, groupId: c.groupId, topics: c.topics.map(topicName), handler: c.handler }),
  );
  for (const c of consumers) await c.start();
  const grpc = await startGrpcServer({ services: spec.grpc({ orm, logger, kafka }), logger, host: env.GRPC_HOST, port: env.GRPC_PORT });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('draining');
      await grpc.shutdown(10_000);
      for (const c of consumers) await c.stop();
      await relay?.stop();
      await orm.close(true);
      await telemetry.shutdown();
      logger.info('stopped');
    })());
  if (opts.handleSignals) {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void stop().then(() => process.exit(0), () => process.exit(1)));
  }
  logger.info({ grpcPort: grpc.port }, 'service started');
  return { orm, grpc, logger, kafka, stop };
}
