import { JobRunner, migrateJobs } from '@crm/jobs';
import type { Logger } from '@crm/logger';
import type { Built } from '@crm/service';
import type { IntakeContext } from '../context';
import { roundRobinEscalation } from './escalation';
import { TimerHandlers, type Escalator } from './jobs';

export { roundRobinEscalation } from './escalation';
export { TimerHandlers } from './jobs';

/** The name of intake's graphile locks (`intake:graphile-worker:migrate`, `intake:timer-pool:<id>`). */
export const TIMERS_LOCK_NAME = 'intake';

/** graphile-worker's schema in intake's database (the service at start, the k8s migrations job). */
export function migrateTimers(databaseUrl: string, logger: Logger): Promise<void> {
  return migrateJobs(TIMERS_LOCK_NAME, databaseUrl, logger);
}

/**
 * The timers area: graphile-worker's runner (SLA breach, revisit, task reminder) as a worker of the
 * service, so it is migrated and running before gRPC serves and drained after gRPC stopped.
 */
export function timersParts(ctx: IntakeContext, opts: { escalate?: Escalator } = {}): Partial<Built> {
  if (!ctx.env.DATABASE_URL) throw new Error('intake timers: DATABASE_URL is required');
  const handlers = new TimerHandlers({ orm: ctx.orm, team: ctx.team, logger: ctx.logger, escalate: opts.escalate ?? roundRobinEscalation });
  const runner = new JobRunner({
    name: TIMERS_LOCK_NAME,
    databaseUrl: ctx.env.DATABASE_URL,
    concurrency: ctx.env.INTAKE_TIMER_CONCURRENCY,
    pollIntervalMs: ctx.env.INTAKE_TIMER_POLL_MS,
    taskList: handlers.taskList(),
    logger: ctx.logger,
  });
  return { workers: [runner] };
}
