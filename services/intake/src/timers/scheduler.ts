/**
 * Durable timers on graphile-worker's queue (schema `graphile_worker` in intake's database), added in
 * the caller's transaction (ARCHITECTURE.md "Time-based work"): the job exists exactly when the change
 * that makes it due commits. Each timer is keyed, so scheduling again replaces it and cancelling removes
 * it; handlers (timers/jobs.ts) re-check the row under lock, so a job that runs twice has one effect.
 */
import type { EntityManager } from '@crm/db';

/** The job names the runner (@crm/jobs JobRunner, built in timers/index.ts) handles. */
export const JOB = {
  slaBreach: 'intake_sla_breach',
  revisit: 'intake_revisit',
  taskReminder: 'intake_task_reminder',
} as const;

export interface SlaBreachPayload {
  tenantId: string;
  requestId: string;
  /** The due time the job was scheduled for (a stale job, rescheduled since, does nothing). */
  dueAt: string;
}

export interface RevisitPayload {
  tenantId: string;
  requestId: string;
  revisitAt: string;
}

export interface TaskReminderPayload {
  tenantId: string;
  taskId: string;
  remindAt: string;
}

const key = {
  sla: (requestId: string) => `sla:${requestId}`,
  revisit: (requestId: string) => `revisit:${requestId}`,
  task: (taskId: string) => `task:${taskId}`,
};

async function add(em: EntityManager, job: string, payload: object, runAt: Date, jobKey: string): Promise<void> {
  // max_attempts 25 (graphile-worker's default back-off reaches hours): a handler failing on a
  // transient error is retried, a handler that succeeds is never run again.
  await em.execute('SELECT graphile_worker.add_job(?, ?::json, run_at => ?::timestamptz, job_key => ?, max_attempts => 25)', [
    job,
    JSON.stringify(payload),
    runAt.toISOString(),
    jobKey,
  ]);
}

async function remove(em: EntityManager, jobKey: string): Promise<void> {
  await em.execute('SELECT graphile_worker.remove_job(?)', [jobKey]);
}

export function scheduleSlaBreach(em: EntityManager, tenantId: string, requestId: string, dueAt: Date): Promise<void> {
  const payload: SlaBreachPayload = { tenantId, requestId, dueAt: dueAt.toISOString() };
  return add(em, JOB.slaBreach, payload, dueAt, key.sla(requestId));
}

export function cancelSlaBreach(em: EntityManager, requestId: string): Promise<void> {
  return remove(em, key.sla(requestId));
}

export function scheduleRevisit(em: EntityManager, tenantId: string, requestId: string, revisitAt: Date): Promise<void> {
  const payload: RevisitPayload = { tenantId, requestId, revisitAt: revisitAt.toISOString() };
  return add(em, JOB.revisit, payload, revisitAt, key.revisit(requestId));
}

export function cancelRevisit(em: EntityManager, requestId: string): Promise<void> {
  return remove(em, key.revisit(requestId));
}

export function scheduleTaskReminder(em: EntityManager, tenantId: string, taskId: string, remindAt: Date): Promise<void> {
  const payload: TaskReminderPayload = { tenantId, taskId, remindAt: remindAt.toISOString() };
  return add(em, JOB.taskReminder, payload, remindAt, key.task(taskId));
}

export function cancelTaskReminder(em: EntityManager, taskId: string): Promise<void> {
  return remove(em, key.task(taskId));
}
