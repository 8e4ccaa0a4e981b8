import { startService, type RunningService } from '@crm/service';
import type { IdentityEnv } from './config';
import { identityEntities, identityMigrations } from './db';
import { identityServer } from './grpc/identity.server';
import { teamServer } from './grpc/team.server';

export { identityEnv, type IdentityEnv } from './config';
export { IDENTITY_SERVICE_NAME } from './grpc/identity.server';
export { TEAM_SERVICE_NAME } from './grpc/team.server';

/**
 * Starts identity in this process: database (created and migrated), outbox relay (identity publishes
 * no events yet), gRPC (IdentityService and TeamService). Tests and `npm start` call it; src/main.ts wraps it with signal handling.
 */
export function startIdentity(env: IdentityEnv, opts: { handleSignals?: boolean } = {}): Promise<RunningService> {
  return startService(
    {
      name: 'identity',
      env,
      database: { entities: identityEntities, migrations: identityMigrations },
      build: ({ orm, logger }) => ({ grpc: [identityServer(orm!, logger), teamServer(orm!)] }),
    },
    opts,
  );
}
