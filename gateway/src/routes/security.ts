/**
 * Login locks for admins (issue 16 §1): GET /v1/security/login-locks, DELETE /v1/security/login-locks/{id}.
 * OWNER: helper "throttle".
 */
import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../deps';

export const securitySchemas: { $id: string }[] = [];

export async function securityRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  void app;
  void deps;
}
