/**
 * Two-factor sign-in (issue 16 §3): /v1/me/two-factor…, the login's second step /v1/session/second-factor,
 * enrolment at login, the tenant's policy /v1/security/policy, an admin's reset. OWNER: helper "mfa".
 */
import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../deps';

export const twoFactorSchemas: { $id: string }[] = [];

export async function twoFactorRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  void app;
  void deps;
}
