import type { Logger } from '@crm/logger';
import { buildGateway } from './app';
import { Authenticator } from './auth';
import { closeClients, createClients } from './clients';
import type { GatewayEnv } from './config';
import { RequestFeed } from './realtime';
import { capConnections } from './edge-limits';
import { gatewayLimits } from './limiter';
import { Revocations } from './revocations';

export interface RunningGateway {
  /** The address it listens on, e.g. http://127.0.0.1:8080 */
  address: string;
  /** Stops accepting requests, then the realtime feed and the revocations consumer, then the gRPC clients. */
  stop(): Promise<void>;
}

/** The gateway with its gRPC clients, realtime feed and authenticator, listening on HTTP_HOST:HTTP_PORT. */
export async function startGateway(env: GatewayEnv, logger: Logger): Promise<RunningGateway> {
  const clients = createClients({ identity: env.IDENTITY_GRPC_ADDR, intake: env.INTAKE_GRPC_ADDR, reporting: env.REPORTING_GRPC_ADDR, contacts: env.CONTACTS_GRPC_ADDR, funnel: env.FUNNEL_GRPC_ADDR, telephony: env.TELEPHONY_GRPC_ADDR });
  const feed = new RequestFeed({ brokers: env.KAFKA_BROKERS, topicSuffix: env.TOPIC_SUFFIX, logger });
  const auth = new Authenticator(clients, env.AUTH_CACHE_TTL_MS);
  // Ended sessions and deactivated users, from identity: this replica's cache forgets them at once.
  const revocations = new Revocations({ brokers: env.KAFKA_BROKERS, topicSuffix: env.TOPIC_SUFFIX, logger, auth });
  try {
    await Promise.all([feed.start(), revocations.start()]);
    // One set of rate limiters per replica, counted in identity (shared by every replica).
    const app = await buildGateway({ env, clients, logger, feed, auth, limits: gatewayLimits(env, clients, logger) });
    // A flood of connections never takes the descriptors the gateway needs (edge-limits.ts).
    capConnections(app.server, env);
    const address = await app.listen({ host: env.HTTP_HOST, port: env.HTTP_PORT });
    return {
      address,
      stop: async () => {
        await app.close();
        await feed.stop();
        await revocations.stop();
        closeClients(clients);
      },
    };
  } catch (err) {
    await feed.stop().catch(() => undefined);
    await revocations.stop().catch(() => undefined);
    closeClients(clients);
    throw err;
  }
}
