/** identity's migrations job: its PostgreSQL database (identity owns no topic yet). */
// A plan packages the service's own migrations into its image's job, so it imports the service (an
// Nx "app"); only these plan files do, and the service never imports them back.
import { identityEnv } from '@crm/identity/src/config';
import { identityMigrations } from '@crm/identity/src/db';
import type { MigrationPlan } from '../migrate';

export const plan: MigrationPlan<typeof identityEnv> = {
  service: 'identity',
  envSchema: identityEnv,
  postgres: (env) => ({ url: env.DATABASE_URL, migrations: identityMigrations }),
};
