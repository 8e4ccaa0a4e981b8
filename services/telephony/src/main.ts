import { loadConfig } from '@crm/config';
import { startTelephony } from './app';
import { telephonyEnv } from './config';

// Parse the environment (exits listing every problem), then start and drain on SIGTERM/SIGINT.
startTelephony(loadConfig(telephonyEnv), { handleSignals: true }).catch((err: unknown) => {
  process.stderr.write(`telephony failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
