import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../deps';

/** The team routes (issue 8; see /work/briefs/work/overview.md for the paths). */
export async function teamRoutes(_app: FastifyInstance, _deps: GatewayDeps): Promise<void> {}
