import { loadConfig } from '@crm/config';
import { startIdentity } from './app';
import { identityEnv } from './config';

startIdentity(loadConfig(identityEnv), { handleSignals: true }).catch((err: unknown) => {
  process.stderr.write(`identity failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
