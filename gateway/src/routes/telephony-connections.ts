import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../deps';

/** Named schemas of the telephony connections and extensions routes (being written). */
export const connectionSchemas: { $id: string }[] = [];

/** /v1/telephony/connections, /v1/telephony/extensions (being written). */
export async function connectionRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  void app;
  void deps;
}
