import { JobRunner, type TaskList } from '@crm/jobs';
import type { TelephonyContext } from '../context';
import { JOB, type DownloadRecordingPayload, type ProcessWebhookPayload } from '../jobs';
import { CallIngest } from './ingest';
import { downloadRecording } from './recordings';

/** The name of telephony's graphile locks (`telephony:graphile-worker:migrate`, `telephony:timer-pool:<id>`). */
export const JOBS_LOCK_NAME = 'telephony';

/** The task list: webhook processing (ingest.ts) and recording downloads (recordings.ts). */
export function callTasks(ctx: TelephonyContext, ingest = new CallIngest(ctx)): TaskList {
  return {
    [JOB.processWebhook]: async (payload) => {
      await ingest.processWebhook(payload as ProcessWebhookPayload);
    },
    [JOB.downloadRecording]: async (payload) => {
      await downloadRecording(ctx, payload as DownloadRecordingPayload);
    },
  };
}

/** The graphile runner of this replica (concurrency and poll interval from the env). */
export function callRunner(ctx: TelephonyContext): JobRunner {
  if (!ctx.env.DATABASE_URL) throw new Error('telephony calls: DATABASE_URL is required');
  return new JobRunner({
    name: JOBS_LOCK_NAME,
    databaseUrl: ctx.env.DATABASE_URL,
    concurrency: ctx.env.TELEPHONY_JOB_CONCURRENCY,
    pollIntervalMs: ctx.env.TELEPHONY_JOB_POLL_MS,
    taskList: callTasks(ctx),
    logger: ctx.logger,
  });
}
