/** graphile-worker as a service worker (migrate under a lock, liveness lock + dead-runner sweep, pino bridge). */
export { graphileLogger, graphileVersion, JobRunner, migrateJobs, migrateJobsStep, releaseDeadRunners, type JobRunnerOptions } from './runner';
export type { JobHelpers, Task, TaskList } from 'graphile-worker';
