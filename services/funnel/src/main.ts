import { loadConfig } from '@crm/config';
import { startFunnel } from './app';
import { funnelEnv } from './config';

// Parse the environment (exits listing every problem), then start and drain on SIGTERM/SIGINT.
startFunnel(loadConfig(funnelEnv), { handleSignals: true }).catch((err: unknown) => {
  process.stderr.write(`funnel failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
