/** The migrations job of funnel: its PostgreSQL database and the topics it owns (crm.funnel.*). */
// A plan packages the service's own migrations into its image's job, so it imports the service (an
// Nx "app"); only these plan files do, and the service never imports them back.
import { funnelEnv } from '@crm/funnel/src/config';
import { funnelMigrations } from '@crm/funnel/src/db';
import type { MigrationPlan } from '../migrate';

export const plan: MigrationPlan<typeof funnelEnv> = {
  service: 'funnel',
  envSchema: funnelEnv,
  postgres: (env) => ({ url: env.DATABASE_URL, migrations: funnelMigrations }),
};
