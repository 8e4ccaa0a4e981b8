/**
 * The chaos suite's PostgreSQL sink, as its own process (SIGKILLed and restarted by the suite): an
 * IdempotentConsumer on `crm.intake.request.v1` that writes one `effects` row per event with the
 * request's sequence number (0 for the creation, the comment's text for each comment). The suite then
 * checks count = distinct = produced and, per request, the sequence in effect order.
 */
import { RequestCommented, RequestCreated } from '@crm/contracts/crm/intake/events/v1/request_events';
import { createOrm } from '@crm/db';
import { createKafka, decodeData, eventingEntities, IdempotentConsumer } from '@crm/kafka';
import { createLogger } from '@crm/logger';

async function main() {
  const logger = createLogger({ service: 'chaos-sink', level: process.env.LOG_LEVEL ?? 'warn' });
  const orm = await createOrm({ clientUrl: process.env.DATABASE_URL!, entities: eventingEntities, migrations: [] });
  const consumer = new IdempotentConsumer({
    kafka: createKafka({ clientId: 'chaos-sink', brokers: process.env.KAFKA_BROKERS!.split(','), logger }),
    orm,
    logger,
    groupId: 'chaos-sink',
    topics: [process.env.TOPIC!],
    fromBeginning: true,
    handler: async (event, em) => {
      let seq: number;
      if (event.type === 'crm.intake.request.created.v1') {
        decodeData(event, RequestCreated);
        seq = 0;
      } else {
        seq = Number(decodeData(event, RequestCommented).comment?.text);
      }
      await em.execute('INSERT INTO effects (event_id, subject, seq) VALUES (?, ?, ?)', [event.id, event.subject, seq]);
    },
  });
  await consumer.start();
  process.stdout.write('READY\n');
  process.on('SIGTERM', () => void consumer.stop().then(() => orm.close(true)).then(() => process.exit(0)));
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
