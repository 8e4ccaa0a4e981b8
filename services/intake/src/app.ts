import { startService, type Built, type RunningService } from '@crm/service';
import { ContactBackfill } from './backfill';
import type { IntakeEnv } from './config';
import { GrpcContactMatcher } from './contacts';
import type { IntakeContext } from './context';
import { RequestCommentSchema } from './db/entities/request-comment.entity';
import { RequestSchema } from './db/entities/request.entity';
import { intakeMigrations } from './db/migrations/intake_0001_requests';
import { intakeService } from './grpc/intake.server';
import { contactEventsConsumer } from './kafka/crm.contacts.contact.v1.consumer';
import { dealEventsConsumer } from './kafka/crm.funnel.deal.v1.consumer';
import { RequestsService } from './requests.service';
import { routingParts } from './routing';
import { RoutingService } from './routing/routing.service';
import { tasksParts } from './tasks';
import { GrpcTeamDirectory } from './team';
import { timersParts } from './timers';
import { workflowParts, WorkflowService } from './workflow';

/**
 * Starts intake: its database (created and migrated, with the runtime's outbox), the outbox relay, the
 * consumers of contacts' merges and of the funnel's request links (the conversion saga), the contact
 * backfill, the areas of working the request (workflow, routing, tasks, timers) and the gRPC server. Used by main.ts, the integration tests (in-process) and
 * the lead's `npm start`.
 */
export function startIntake(env: IntakeEnv, opts: { handleSignals?: boolean } = {}): Promise<RunningService> {
  let ctx: IntakeContext | undefined;
  return startService(
    {
      name: 'intake',
      env,
      database: { entities: [RequestSchema, RequestCommentSchema], migrations: intakeMigrations },
      build: ({ orm, logger, kafka, topicName }) => {
        const contacts = new GrpcContactMatcher(env.CONTACTS_GRPC_ADDR, env.INTAKE_CONTACTS_TIMEOUT_MS);
        const team = new GrpcTeamDirectory(env.IDENTITY_GRPC_ADDR, env.INTAKE_TEAM_CACHE_MS);
        const requests = new RequestsService(orm!, env.INTAKE_DEFAULT_COUNTRY, contacts, logger, new RoutingService(orm!, team, env.IDENTITY_GRPC_ADDR, logger, env.INTAKE_TEAM_CACHE_MS, contacts));
        ctx = { env, orm: orm!, logger, kafka, topicName, contacts, team, requests };
        const backfill = new ContactBackfill({ orm: orm!, contacts, logger, defaultCountry: env.INTAKE_DEFAULT_COUNTRY, intervalMs: env.INTAKE_BACKFILL_INTERVAL_MS });
        const parts: Partial<Built>[] = [routingParts(ctx), workflowParts(ctx), tasksParts(ctx), timersParts(ctx)];
        return {
          grpc: [intakeService(requests), ...parts.flatMap((p) => p.grpc ?? [])],
          consumers: [
            contactEventsConsumer(env.TOPIC_SUFFIX),
            // The conversion saga: funnel's request_linked finishes a request's move to converted / attached.
            dealEventsConsumer(env.TOPIC_SUFFIX, new WorkflowService(orm!, team, env.INTAKE_DEFAULT_COUNTRY, logger), logger),
            ...parts.flatMap((p) => p.consumers ?? []),
          ],
          workers: [backfill, ...parts.flatMap((p) => p.workers ?? [])],
          close: async () => {
            for (const p of parts) await p.close?.();
            contacts.close();
            team.close();
          },
        };
      },
    },
    opts,
  );
}

export { intakeEnv, type IntakeEnv } from './config';
