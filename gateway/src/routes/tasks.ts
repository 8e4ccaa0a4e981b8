import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../deps';

/** The tasks routes (issue 8; see /work/briefs/work/overview.md for the paths). */
export async function tasksRoutes(_app: FastifyInstance, _deps: GatewayDeps): Promise<void> {}
