import type { EntityManager } from '@crm/db';

/**
 * telephony's graphile-worker jobs (the runner is built in calls/; handlers there). Jobs are added in
 * the transaction of the change that makes them due. Webhook processing runs in a named queue per call
 * (`call:<connection>:<provider call id>`), so the events of one call are applied one at a time.
 */
export const JOB = {
  processWebhook: 'telephony_process_webhook',
  downloadRecording: 'telephony_download_recording',
} as const;

export interface ProcessWebhookPayload {
  tenantId: string;
  webhookEventId: string;
}

export interface DownloadRecordingPayload {
  tenantId: string;
  callId: string;
  url: string;
}

/** Adds the processing job of a stored webhook event (in the caller's transaction). */
export async function enqueueProcessWebhook(em: EntityManager, payload: ProcessWebhookPayload, queue: { connectionId: string; providerCallId: string }): Promise<void> {
  await em.execute('SELECT graphile_worker.add_job(?, ?::json, queue_name => ?, job_key => ?, max_attempts => 25)', [
    JOB.processWebhook,
    JSON.stringify(payload),
    `call:${queue.connectionId}:${queue.providerCallId}`.slice(0, 200),
    `webhook:${payload.webhookEventId}`,
  ]);
}

/** Adds a recording download (keyed per call: a repeated recording_ready replaces the pending one). */
export async function enqueueDownloadRecording(em: EntityManager, payload: DownloadRecordingPayload): Promise<void> {
  await em.execute('SELECT graphile_worker.add_job(?, ?::json, job_key => ?, max_attempts => 10)', [JOB.downloadRecording, JSON.stringify(payload), `recording:${payload.callId}`]);
}
