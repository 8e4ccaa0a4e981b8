import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../deps';

/** Pipelines, deals and the board (funnel's PipelineService and DealService). */
export const funnelSchemas: { $id: string }[] = [];

export async function funnelRoutes(_app: FastifyInstance, _deps: GatewayDeps): Promise<void> {}
