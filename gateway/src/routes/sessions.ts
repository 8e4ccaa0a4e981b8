/**
 * Sessions people can manage (issue 16 §2): /v1/me/sessions (list, end one, end all / all others) and an
 * admin's /v1/team/users/{id}/sessions. OWNER: helper "sessions".
 */
import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../deps';

export const sessionsSchemas: { $id: string }[] = [];

export async function sessionsRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  void app;
  void deps;
}
