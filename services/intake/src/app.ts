import { startService, type RunningService } from '@crm/service';
import { ContactBackfill } from './backfill';
import type { IntakeEnv } from './config';
import { GrpcContactMatcher, type ContactMatcher } from './contacts';
import { RequestCommentSchema } from './db/entities/request-comment.entity';
import { RequestSchema } from './db/entities/request.entity';
import { intakeMigrations } from './db/migrations/intake_0001_requests';
import { intakeService } from './grpc/intake.server';
import { contactEventsConsumer } from './kafka/crm.contacts.contact.v1.consumer';
import { RequestsService } from './requests.service';

/**
 * Starts intake: its database (created and migrated, with the runtime's outbox), the outbox relay, the
 * consumer of contacts' merges, the contact backfill and the gRPC server. Used by main.ts, the
 * integration tests (in-process) and the lead's `npm start`.
 */
export function startIntake(env: IntakeEnv, opts: { handleSignals?: boolean } = {}): Promise<RunningService> {
  let contacts: ContactMatcher | undefined;
  return startService(
    {
      name: 'intake',
      env,
      database: { entities: [RequestSchema, RequestCommentSchema], migrations: intakeMigrations },
      build: ({ orm, logger }) => {
        contacts = new GrpcContactMatcher(env.CONTACTS_GRPC_ADDR, env.INTAKE_CONTACTS_TIMEOUT_MS);
        const backfill = new ContactBackfill({ orm: orm!, contacts, logger, defaultCountry: env.INTAKE_DEFAULT_COUNTRY, intervalMs: env.INTAKE_BACKFILL_INTERVAL_MS });
        return {
          grpc: [intakeService(new RequestsService(orm!, env.INTAKE_DEFAULT_COUNTRY, contacts, logger))],
          consumers: [contactEventsConsumer(env.TOPIC_SUFFIX)],
          workers: [backfill],
          close: async () => contacts?.close(),
        };
      },
    },
    opts,
  );
}

export { intakeEnv, type IntakeEnv } from './config';
