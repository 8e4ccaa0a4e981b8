import { loadConfig } from '@crm/config';
import { createLogger } from '@crm/logger';
import { handleShutdownSignals } from '@crm/service';
import { initTelemetry } from '@crm/telemetry';
import { gatewayEnv } from './config';
import { startGateway } from './server';

async function main() {
  const env = loadConfig(gatewayEnv);
  const telemetry = await initTelemetry({ serviceName: 'gateway', otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT });
  const logger = createLogger({ service: 'gateway', level: env.LOG_LEVEL });
  const gateway = await startGateway(env, logger);
  logger.info({ address: gateway.address }, 'gateway listening');
  handleShutdownSignals(async () => {
    await gateway.stop();
    await telemetry.shutdown();
  }, logger);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
