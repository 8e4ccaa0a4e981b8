import { startGrpcServer, type RunningGrpcServer } from '@crm/grpc';
import { createKafka } from '@crm/kafka';
import { createLogger, type Logger } from '@crm/logger';
import { initTelemetry } from '@crm/telemetry';
import { ClickHouse, ensureDatabase } from './clickhouse/client';
import { migrate } from './clickhouse/migrate';
import type { ReportingEnv } from './config';
import { reportingService } from './grpc/reporting.server';
import { REPORTING_GROUP, REQUEST_TOPIC, RequestEventsSink, type RequestSinkOptions } from './kafka/crm.intake.request.v1.consumer';

export const SERVICE_NAME = 'reporting';

export interface RunningReporting {
  grpc: RunningGrpcServer;
  clickhouse: ClickHouse;
  sink: RequestEventsSink;
  logger: Logger;
  /** Drains gRPC, then the sink (flush + commit), then closes ClickHouse and telemetry. */
  stop(): Promise<void>;
}

/** Knobs for tests; production uses the defaults. */
export interface ReportingOptions {
  logger?: Logger;
  sink?: Pick<RequestSinkOptions, 'retryInitialMs' | 'retryMaxMs' | 'stopAttempts'>;
  /** Cap on the rows of one report (default 50 000). */
  reportMaxRows?: number;
}

/**
 * Starts reporting: telemetry → ClickHouse (database created, migrations applied) → Kafka sink →
 * gRPC. Reporting has no PostgreSQL, so it does not use startService (which opens one).
 */
export async function startReporting(env: ReportingEnv, opts: ReportingOptions = {}): Promise<RunningReporting> {
  const telemetry = await initTelemetry({ serviceName: SERVICE_NAME, otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT });
  const logger = opts.logger ?? createLogger({ service: SERVICE_NAME, level: env.LOG_LEVEL });
  const cleanup: (() => Promise<unknown>)[] = [() => telemetry.shutdown()];
  const undo = async () => {
    for (const step of cleanup.reverse()) await step().catch((err) => logger.warn({ err }, 'cleanup after a failed start failed'));
  };
  try {
    await ensureDatabase(env.CLICKHOUSE_URL, env.CLICKHOUSE_DATABASE);
    const clickhouse = new ClickHouse({ url: env.CLICKHOUSE_URL, database: env.CLICKHOUSE_DATABASE });
    cleanup.push(() => clickhouse.close());
    const applied = await migrate(clickhouse);
    if (applied.length) logger.info({ applied, database: env.CLICKHOUSE_DATABASE }, 'clickhouse migrations applied');

    const kafka = createKafka({ clientId: SERVICE_NAME, brokers: env.KAFKA_BROKERS, logger });
    const sink = new RequestEventsSink({
      kafka,
      clickhouse,
      logger,
      topic: `${REQUEST_TOPIC}${env.TOPIC_SUFFIX}`,
      // `reporting` in production; a test run's suffix keeps its group apart from other runs.
      groupId: `${REPORTING_GROUP}${env.TOPIC_SUFFIX}`,
      batchRows: env.REPORTING_BATCH_ROWS,
      batchMs: env.REPORTING_BATCH_MS,
      ...opts.sink,
    });
    cleanup.push(() => sink.stop());
    await sink.start();

    const grpc = await startGrpcServer({
      services: [reportingService({ clickhouse, maxRows: opts.reportMaxRows })],
      logger,
      host: env.GRPC_HOST,
      port: env.GRPC_PORT,
    });

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        logger.info('draining');
        await grpc.shutdown(10_000);
        await sink.stop();
        await clickhouse.close();
        logger.info('stopped');
        await telemetry.shutdown();
      })());
    logger.info({ grpcPort: grpc.port, database: env.CLICKHOUSE_DATABASE }, 'service started');
    return { grpc, clickhouse, sink, logger, stop };
  } catch (err) {
    await undo();
    throw err;
  }
}
