/**
 * What the gateway's routes are built from. app.ts builds the Fastify instance and registers the
 * routes; the routes import this file, never app.ts, so there is no import circle between them.
 */
import type { Logger } from '@crm/logger';
import type { Authenticator } from './auth';
import type { Clients } from './clients';
import type { GatewayEnv } from './config';
import type { GatewayLimits } from './limiter';
import type { RequestFeed } from './realtime';

export interface GatewayDeps {
  env: GatewayEnv;
  clients: Clients;
  auth: Authenticator;
  logger: Logger;
  /** The realtime feed behind /v1/requests/stream (absent: the stream answers 404). */
  feed?: RequestFeed;
  /** The rate limiters, one set per replica, counted in identity (limiter.ts). buildGateway makes them when absent. */
  limits: GatewayLimits;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes that need no credential (public forms, login). */
    public?: boolean;
    /** A sign-in step (login, second factor, invite acceptance): admitted in its own, smallest class (admission.ts). */
    signIn?: boolean;
  }
}
