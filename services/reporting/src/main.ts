import { startReporting } from './app';
import { loadReportingConfig } from './config';

async function main(): Promise<void> {
  const env = loadReportingConfig();
  const service = await startReporting(env);
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      service.logger.info({ signal: sig }, 'signal received');
      void service.stop().then(
        () => process.exit(0),
        (err) => {
          service.logger.error({ err }, 'stop failed');
          process.exit(1);
        },
      );
    });
  }
}

main().catch((err) => {
  process.stderr.write(`reporting failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
