import { startService, type RunningService } from '@crm/service';
import type { IdentityEnv } from './config';
import { identityEntities, identityMigrations } from './db';
import { identityServer } from './grpc/identity.server';
import { securityServer } from './grpc/security.server';
import { teamServer } from './grpc/team.server';
import { securityAreas } from './security';

export { identityEnv, type IdentityEnv } from './config';
export { IDENTITY_SERVICE_NAME } from './grpc/identity.server';
export { TEAM_SERVICE_NAME } from './grpc/team.server';
export { SECURITY_SERVICE_NAME } from './grpc/security.server';

/**
 * Starts identity in this process: database (created and migrated), outbox relay (identity publishes
 * SessionsEnded), gRPC (IdentityService, TeamService, SecurityService). Tests and `npm start` call it; src/main.ts wraps it with signal handling.
 */
export function startIdentity(env: IdentityEnv, opts: { handleSignals?: boolean } = {}): Promise<RunningService> {
  return startService(
    {
      name: 'identity',
      env,
      database: { entities: identityEntities, migrations: identityMigrations },
      build: ({ orm, logger }) => {
        const areas = securityAreas({ orm: orm!, logger, env });
        return { grpc: [identityServer(orm!, logger, areas), teamServer(orm!, areas), securityServer(areas)], close: async () => areas.quotas.close() };
      },
    },
    opts,
  );
}
