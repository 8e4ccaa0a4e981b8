import type { IntakeServiceService } from '@crm/contracts/crm/intake/v1/intake';
import type { RoutingServiceService } from '@crm/contracts/crm/intake/v1/routing';
import type { WorkflowServiceService } from '@crm/contracts/crm/intake/v1/workflow';
import type { ContactsServiceService } from '@crm/contracts/crm/contacts/v1/contacts';
import type { IdentityServiceService } from '@crm/contracts/crm/identity/v1/identity';
import type { TeamServiceService } from '@crm/contracts/crm/identity/v1/team';
import type { MikroORM } from '@crm/db';
import type { PromiseClient } from '@crm/grpc';
import type { Kafka } from '@crm/kafka';
import type { Logger } from '@crm/logger';
import type { TelephonyEnv } from './config';

/** The services telephony asks (one channel each, made in app.ts, closed on stop). */
export interface TelephonyClients {
  intake: PromiseClient<typeof IntakeServiceService>;
  routing: PromiseClient<typeof RoutingServiceService>;
  workflow: PromiseClient<typeof WorkflowServiceService>;
  contacts: PromiseClient<typeof ContactsServiceService>;
  identity: PromiseClient<typeof IdentityServiceService>;
  team: PromiseClient<typeof TeamServiceService>;
}

/** What telephony's areas are built from, made once in app.ts. */
export interface TelephonyContext {
  env: TelephonyEnv;
  orm: MikroORM;
  logger: Logger;
  kafka: Kafka;
  topicName(topic: string): string;
  clients: TelephonyClients;
}
