import { loadConfig } from '@crm/config';
import { startIntake } from './app';
import { intakeEnv } from './config';

// Parse the environment (exits listing every problem), then start and drain on SIGTERM/SIGINT.
startIntake(loadConfig(intakeEnv), { handleSignals: true }).catch((err) => {
  process.stderr.write(`intake failed to start: ${err?.stack ?? err}\n`);
  process.exit(1);
});
