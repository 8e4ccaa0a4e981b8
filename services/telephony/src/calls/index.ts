import type { Built } from '@crm/service';
import type { TelephonyContext } from '../context';
import { callRunner } from './runner';

export { CallIngest, type IngestResult } from './ingest';
export { callTasks, JOBS_LOCK_NAME } from './runner';

/**
 * The calls area: the job runner (webhook processing → calls/ingest.ts, recording downloads →
 * calls/recordings.ts) as a worker, so graphile's schema is migrated and the runner running before
 * gRPC serves (webhooks/receive.ts adds jobs in its own transactions), and drained after gRPC stopped.
 */
export function callsParts(ctx: TelephonyContext): Partial<Built> {
  return { workers: [callRunner(ctx)] };
}
