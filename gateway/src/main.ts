import { loadConfig } from '@crm/config';
import { createLogger } from '@crm/logger';
import { initTelemetry } from '@crm/telemetry';
import { Authenticator } from './auth';
import { closeClients, createClients } from './clients';
import { gatewayEnv } from './config';
import { buildGateway } from './app';
import { RequestFeed } from './realtime';

async function main() {
  const env = loadConfig(gatewayEnv);
  const telemetry = await initTelemetry({ serviceName: 'gateway', otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT });
  const logger = createLogger({ service: 'gateway', level: env.LOG_LEVEL });
  const clients = createClients({ identity: env.IDENTITY_GRPC_ADDR, intake: env.INTAKE_GRPC_ADDR, reporting: env.REPORTING_GRPC_ADDR });
  const feed = new RequestFeed({ brokers: env.KAFKA_BROKERS, topicSuffix: env.TOPIC_SUFFIX, logger });
  await feed.start();
  const app = await buildGateway({ env, clients, logger, feed, auth: new Authenticator(clients, env.AUTH_CACHE_TTL_MS) });
  const address = await app.listen({ host: env.HTTP_HOST, port: env.HTTP_PORT });
  logger.info({ address }, 'gateway listening');
  let stopping = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, async () => {
      if (stopping) return;
      stopping = true;
      // A drain that hangs (e.g. the feed's Kafka client stuck leaving its group) must not keep the pod alive.
      setTimeout(() => {
        logger.error('drain did not finish in time; exiting');
        process.exit(1);
      }, 30_000).unref();
      await app.close();
      await feed.stop();
      closeClients(clients);
      await telemetry.shutdown();
      process.exit(0);
    });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
