import { startService, type RunningService } from '@crm/service';
import type { IntakeEnv } from './config';
import { RequestCommentSchema } from './db/entities/request-comment.entity';
import { RequestSchema } from './db/entities/request.entity';
import { intakeMigrations } from './db/migrations/intake_0001_requests';
import { intakeService } from './grpc/intake.server';
import { RequestsService } from './requests.service';

/**
 * Starts intake: its database (created and migrated, with the runtime's outbox), the outbox relay and
 * the gRPC server. Used by main.ts, the integration tests (in-process) and the lead's `npm start`.
 */
export function startIntake(env: IntakeEnv, opts: { handleSignals?: boolean } = {}): Promise<RunningService> {
  return startService(
    {
      name: 'intake',
      env,
      database: { entities: [RequestSchema, RequestCommentSchema], migrations: intakeMigrations },
      build: ({ orm }) => ({ grpc: [intakeService(new RequestsService(orm!, env.INTAKE_DEFAULT_COUNTRY))] }),
    },
    opts,
  );
}

export { intakeEnv, type IntakeEnv } from './config';
