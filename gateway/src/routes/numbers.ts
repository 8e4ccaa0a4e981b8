import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../deps';

/** Named schemas of the numbers, pools and DNI routes (being written). */
export const numberSchemas: { $id: string }[] = [];

/** /v1/numbers, /v1/number-pools, the public DNI endpoints and script (being written). */
export async function numberRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  void app;
  void deps;
}
