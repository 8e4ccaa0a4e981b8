import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../deps';

/** Named schemas of the provider webhook routes (being written). */
export const webhookSchemas: { $id: string }[] = [];

/** /webhooks/telephony/{connection_id}/* — providers' requests handed to telephony as received (being written). */
export async function webhookRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  void app;
  void deps;
}
