import type { Logger } from '@crm/logger';
import type { MikroORM } from '@crm/db';
import type { Kafka } from '@crm/kafka';
import type { IntakeEnv } from './config';
import type { ContactMatcher } from './contacts';
import type { RequestsService } from './requests.service';
import type { TeamDirectory } from './team';

/** What intake's areas (workflow, routing, tasks, timers) are built from, made once in app.ts. */
export interface IntakeContext {
  env: IntakeEnv;
  orm: MikroORM;
  logger: Logger;
  kafka: Kafka;
  topicName(topic: string): string;
  contacts: ContactMatcher;
  team: TeamDirectory;
  requests: RequestsService;
}
