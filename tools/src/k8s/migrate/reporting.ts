/**
 * reporting's migrations job: its ClickHouse database (created when missing) and numbered SQL
 * migrations, read from `migrations/` two folders above the code — services/reporting/migrations from
 * the source tree, /app/migrations next to /app/dist/reporting/ in the image.
 */
// A plan packages the service's own migrations into its image's job, so it imports the service (an
// Nx "app"); only these plan files do, and the service never imports them back.
import { ClickHouse, ensureDatabase } from '@crm/reporting/src/clickhouse/client';
import { migrate } from '@crm/reporting/src/clickhouse/migrate';
import { reportingEnv } from '@crm/reporting/src/config';
import type { MigrationPlan } from '../migrate';

export const plan: MigrationPlan<typeof reportingEnv> = {
  service: 'reporting',
  envSchema: reportingEnv,
  other: async (env) => {
    await ensureDatabase(env.CLICKHOUSE_URL, env.CLICKHOUSE_DATABASE);
    const clickhouse = new ClickHouse({ url: env.CLICKHOUSE_URL, database: env.CLICKHOUSE_DATABASE });
    try {
      return await migrate(clickhouse);
    } finally {
      await clickhouse.close();
    }
  },
};
