import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../deps';

/** Named schemas of the calls routes (being written). */
export const callSchemas: { $id: string }[] = [];

/** /v1/calls… — calls, the call card (screen pop), click-to-call, transfer, recordings, missed calls (being written). */
export async function callRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  void app;
  void deps;
}
