import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../deps';

/** From request to deal: convert a request into a new deal, attach it to an open deal or a client card. */
export const conversionSchemas: { $id: string }[] = [];

export async function conversionRoutes(_app: FastifyInstance, _deps: GatewayDeps): Promise<void> {}
