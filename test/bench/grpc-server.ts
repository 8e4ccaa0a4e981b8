/** The probe gRPC server as its own process for bench:grpc; prints `PORT <n>` when listening. */
import { ProbeServiceService } from '@crm/contracts/crm/testkit/v1/probe';
import { registration, startGrpcServer } from '@crm/grpc';
import { createLogger } from '@crm/logger';

async function main() {
  const logger = createLogger({ service: 'bench-grpc-server', level: 'warn' });
  const svc = registration('crm.testkit.v1.ProbeService', ProbeServiceService, {
    echo: async (req, ctx) => ({ message: req.message, tenantId: ctx.tenantId }),
    getItem: async () => ({ item: undefined }),
    createItem: async () => ({ item: undefined }),
    sleep: async (req) => ({ sleptMs: req.delayMs }),
  });
  const server = await startGrpcServer({ services: [svc], logger, host: '127.0.0.1', port: 0 });
  process.stdout.write(`PORT ${server.port}\n`);
  process.on('SIGTERM', () => void server.shutdown(1000).then(() => process.exit(0)));
}

void main();
