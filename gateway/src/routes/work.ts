import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../deps';

/** The work routes (issue 8; see /work/briefs/work/overview.md for the paths). */
export async function workRoutes(_app: FastifyInstance, _deps: GatewayDeps): Promise<void> {}
