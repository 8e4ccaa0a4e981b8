/**
 * The outbox relay as its own process, for the crash test. With RELAY_PAUSE_AFTER_ACK=1 it prints
 * `ACKED <event ids>` after Kafka acknowledged a batch and then hangs before marking the rows sent,
 * so the test can SIGKILL it exactly there; otherwise it prints `SENT <n>` for every batch Kafka acked. It prints `LEADER` when it becomes the publishing leader of
 * its database (tests with several relays kill the leader).
 */
import { createKafka, OutboxRelay } from '@crm/kafka';
import { createLogger } from '@crm/logger';

async function main() {
  const logger = createLogger({ service: 'relay-process', level: process.env.LOG_LEVEL ?? 'warn' });
  const suffix = process.env.TOPIC_SUFFIX ?? '';
  const relay = new OutboxRelay({
    databaseUrl: process.env.DATABASE_URL!,
    kafka: createKafka({ clientId: 'relay-process', brokers: process.env.KAFKA_BROKERS!.split(','), logger }),
    logger,
    topicName: (t) => `${t}${suffix}`,
    batchSize: process.env.RELAY_BATCH_SIZE ? Number(process.env.RELAY_BATCH_SIZE) : undefined,
    afterAck:
      process.env.RELAY_PAUSE_AFTER_ACK === '1'
        ? async (ids) => {
            process.stdout.write(`ACKED ${ids.join(',')}\n`);
            await new Promise(() => undefined); // hang here until killed
          }
        : async (ids) => {
            process.stdout.write(`SENT ${ids.length}\n`);
          },
  });
  await relay.start();
  process.stdout.write('READY\n');
  const watch = setInterval(() => {
    if (!relay.isLeader) return;
    process.stdout.write('LEADER\n');
    clearInterval(watch);
  }, 10);
  process.on('SIGTERM', () => void relay.stop().then(() => process.exit(0)));
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
