/**
 * `npm start`: brings the platform up on the local stack. Services do not exist yet (they arrive with
 * the next issues); for now it starts the engines, creates the registry's topics and says so.
 */
import { createRegistryTopics } from './topics-create';
import { stackUp } from './stack';

async function main() {
  const info = await stackUp();
  const created = await createRegistryTopics(info.env.KAFKA_BROKERS.split(','));
  console.log('');
  for (const [k, v] of Object.entries(info.env)) console.log(`${k}=${v}`);
  console.log(`\ntopics: ${created.length ? `created ${created.join(', ')}` : 'all registry topics exist'}`);
  console.log('\nSales 2.0: the local stack is up (PostgreSQL, Kafka, ClickHouse). No services exist yet, so there is');
  console.log('no demo tenant or API key to print; `npm run stack:status` shows the engines, `npm run stack:down` stops them.');
}

main().catch((err) => {
  console.error((err as Error).message);
  process.exit(1);
});
