/**
 * `npm run topics:create`: creates every topic of the registry (proto/topics/*.yaml) and its DLQ on
 * KAFKA_BROKERS (default: the local stack's broker). Existing topics are left as they are.
 */
import { createKafka, createTopics, loadRegistry } from '@crm/kafka';
import { createLogger } from '@crm/logger';
import { join } from 'node:path';
import { stackEnv } from './stack';

export async function createRegistryTopics(brokers: string[]): Promise<string[]> {
  const logger = createLogger({ service: 'tools', level: 'warn' });
  const kafka = createKafka({ clientId: 'topics-create', brokers, logger });
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await createTopics(admin, loadRegistry(join(__dirname, '..', '..', 'proto', 'topics')));
  } finally {
    await admin.disconnect();
  }
}

if (require.main === module) {
  const brokers = (process.env.KAFKA_BROKERS ?? stackEnv().KAFKA_BROKERS).split(',');
  createRegistryTopics(brokers).then(
    (created) => {
      console.log(created.length ? `created: ${created.join(', ')}` : 'all registry topics exist');
    },
    (err) => {
      console.error(`topics:create failed: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
