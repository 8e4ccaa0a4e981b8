import { loadConfig } from '@crm/config';
import { startContacts } from './app';
import { contactsEnv } from './config';

// Parse the environment (exits listing every problem), then start and drain on SIGTERM/SIGINT.
startContacts(loadConfig(contactsEnv), { handleSignals: true }).catch((err: unknown) => {
  process.stderr.write(`contacts failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
