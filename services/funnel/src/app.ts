import { startService, type RunningService } from '@crm/service';
import type { FunnelEnv } from './config';
import { funnelEntities, funnelMigrations } from './db';
import { dealsServer } from './grpc/deals.server';
import { pipelinesServer } from './grpc/pipelines.server';

export { funnelEnv, type FunnelEnv } from './config';
export { DEAL_SERVICE_NAME } from './grpc/deals.server';
export { PIPELINE_SERVICE_NAME } from './grpc/pipelines.server';

/**
 * Starts funnel in this process: its database (created and migrated, with the runtime's outbox), the
 * outbox relay and the gRPC server (PipelineService, DealService and grpc.health.v1). src/main.ts, the
 * integration tests and `npm start` use it.
 */
export function startFunnel(env: FunnelEnv, opts: { handleSignals?: boolean } = {}): Promise<RunningService> {
  return startService(
    {
      name: 'funnel',
      env,
      database: { entities: funnelEntities, migrations: funnelMigrations },
      build: ({ orm }) => ({ grpc: [pipelinesServer(orm!), dealsServer(orm!)] }),
    },
    opts,
  );
}
