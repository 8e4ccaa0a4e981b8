import { startService, type RunningService } from '@crm/service';
import type { IdentityEnv } from './config';
import { identityEntities, identityMigrations } from './db';
import { identityServer } from './grpc/identity.server';

export { identityEnv, type IdentityEnv } from './config';
export { IDENTITY_SERVICE_NAME } from './grpc/identity.server';

/**
 * Starts identity in this process: database (created and migrated), outbox relay (identity publishes
 * no events yet), gRPC. Tests and `npm start` call it; src/main.ts wraps it with signal handling.
 */
export function startIdentity(env: IdentityEnv, opts: { handleSignals?: boolean } = {}): Promise<RunningService> {
  return startService(
    {
      name: 'identity',
      env,
      database: { entities: identityEntities, migrations: identityMigrations },
      build: ({ orm, logger }) => ({ grpc: [identityServer(orm!, logger)] }),
    },
    opts,
  );
}
