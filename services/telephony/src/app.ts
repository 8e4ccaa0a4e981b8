import { ContactsServiceService } from '@crm/contracts/crm/contacts/v1/contacts';
import { IdentityServiceService } from '@crm/contracts/crm/identity/v1/identity';
import { TeamServiceService } from '@crm/contracts/crm/identity/v1/team';
import { IntakeServiceService } from '@crm/contracts/crm/intake/v1/intake';
import { RoutingServiceService } from '@crm/contracts/crm/intake/v1/routing';
import { WorkflowServiceService } from '@crm/contracts/crm/intake/v1/workflow';
import { createClient } from '@crm/grpc';
import { startService, type Built, type RunningService } from '@crm/service';
import { callsParts } from './calls';
import type { TelephonyEnv } from './config';
import type { TelephonyClients, TelephonyContext } from './context';
import { telephonyEntities, telephonyMigrations } from './db';
import { CallDecider } from './decide/decide';
import { callsServer } from './grpc/calls.server';
import { connectionsServer } from './grpc/connections.server';
import { dniServer, numbersServer } from './grpc/numbers.server';
import { webhooksServer } from './grpc/webhooks.server';
import { webhooksParts } from './webhooks';
import { WebhookReceiver } from './webhooks/receive';

export { telephonyEnv, type TelephonyEnv } from './config';
export { CALL_SERVICE_NAME } from './grpc/calls.server';
export { CONNECTION_SERVICE_NAME } from './grpc/connections.server';
export { DNI_SERVICE_NAME, NUMBER_SERVICE_NAME } from './grpc/numbers.server';
export { WEBHOOK_SERVICE_NAME } from './grpc/webhooks.server';

/**
 * Starts telephony in this process: its database (created and migrated, with the runtime's outbox), the
 * outbox relay, the job runner (webhook processing, recording downloads), the consumer of the gateway's
 * webhook fallback topic, and the gRPC server (NumberService, DniService, ConnectionService,
 * WebhookService, CallService and grpc.health.v1). src/main.ts, the integration tests and `npm start` use it.
 */
export function startTelephony(env: TelephonyEnv, opts: { handleSignals?: boolean } = {}): Promise<RunningService> {
  return startService(
    {
      name: 'telephony',
      env,
      database: { entities: telephonyEntities, migrations: telephonyMigrations },
      build: ({ orm, logger, kafka, topicName }) => {
        const clients: TelephonyClients = {
          intake: createClient(IntakeServiceService, { address: env.INTAKE_GRPC_ADDR }),
          routing: createClient(RoutingServiceService, { address: env.INTAKE_GRPC_ADDR }),
          workflow: createClient(WorkflowServiceService, { address: env.INTAKE_GRPC_ADDR }),
          contacts: createClient(ContactsServiceService, { address: env.CONTACTS_GRPC_ADDR }),
          identity: createClient(IdentityServiceService, { address: env.IDENTITY_GRPC_ADDR }),
          team: createClient(TeamServiceService, { address: env.IDENTITY_GRPC_ADDR, idempotent: ['listProjects', 'getTeamDepartment'] }),
        };
        const ctx: TelephonyContext = { env, orm: orm!, logger, kafka, topicName, clients };
        const decider = new CallDecider(ctx);
        const receiver = new WebhookReceiver(ctx, decider);
        const parts: Partial<Built>[] = [callsParts(ctx), webhooksParts(ctx, receiver)];
        return {
          grpc: [numbersServer(ctx), dniServer(ctx), connectionsServer(ctx), webhooksServer(receiver, decider), callsServer(ctx, decider), ...parts.flatMap((p) => p.grpc ?? [])],
          consumers: parts.flatMap((p) => p.consumers ?? []),
          workers: parts.flatMap((p) => p.workers ?? []),
          close: async () => {
            for (const p of parts) await p.close?.();
            for (const c of Object.values(clients)) c.close();
            decider.close();
          },
        };
      },
    },
    opts,
  );
}
