import { startReporting } from './app';
import { loadReportingConfig } from './config';

// Parse the environment (exits listing every problem), then start; SIGTERM/SIGINT drain gRPC, the sink
// (flush + commit) and ClickHouse, with a hard deadline (libs/service).
startReporting(loadReportingConfig(), { handleSignals: true }).catch((err: unknown) => {
  process.stderr.write(`reporting failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
