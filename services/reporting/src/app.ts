import type { RunningGrpcServer } from '@crm/grpc';
import type { Logger } from '@crm/logger';
import { startService } from '@crm/service';
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
 * Starts reporting with the standard bootstrap (no PostgreSQL): telemetry → ClickHouse (database
 * created, migrations applied) → Kafka sink → gRPC; stop drains gRPC, then the sink (flush + commit),
 * then closes ClickHouse and telemetry.
 */
export async function startReporting(env: ReportingEnv, opts: ReportingOptions & { handleSignals?: boolean } = {}): Promise<RunningReporting> {
  let clickhouse: ClickHouse | undefined;
  let sink: RequestEventsSink | undefined;
  const running = await startService(
    {
      name: SERVICE_NAME,
      env,
      logger: opts.logger,
      build: async ({ kafka, logger }) => {
        await ensureDatabase(env.CLICKHOUSE_URL, env.CLICKHOUSE_DATABASE);
        const ch = new ClickHouse({ url: env.CLICKHOUSE_URL, database: env.CLICKHOUSE_DATABASE });
        try {
          const applied = await migrate(ch);
          if (applied.length) logger.info({ applied, database: env.CLICKHOUSE_DATABASE }, 'clickhouse migrations applied');
        } catch (err) {
          await ch.close();
          throw err;
        }
        clickhouse = ch;
        sink = new RequestEventsSink({
          kafka,
          clickhouse: ch,
          logger,
          topic: `${REQUEST_TOPIC}${env.TOPIC_SUFFIX}`,
          // `reporting` in production; a test run's suffix keeps its group apart from other runs.
          groupId: `${REPORTING_GROUP}${env.TOPIC_SUFFIX}`,
          batchRows: env.REPORTING_BATCH_ROWS,
          batchMs: env.REPORTING_BATCH_MS,
          ...opts.sink,
        });
        return { grpc: [reportingService({ clickhouse: ch, maxRows: opts.reportMaxRows })], workers: [sink], close: () => ch.close() };
      },
    },
    { handleSignals: opts.handleSignals },
  );
  return { grpc: running.grpc, logger: running.logger, clickhouse: clickhouse!, sink: sink!, stop: running.stop };
}
