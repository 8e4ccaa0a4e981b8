/**
 * What the gateway's routes are built from. app.ts builds the Fastify instance and registers the
 * routes; the routes import this file, never app.ts, so there is no import circle between them.
 */
import type { Logger } from '@crm/logger';
import type { Authenticator } from './auth';
import type { Clients } from './clients';
import type { GatewayEnv } from './config';
import type { RequestFeed } from './realtime';

export interface GatewayDeps {
  env: GatewayEnv;
  clients: Clients;
  auth: Authenticator;
  logger: Logger;
  /** The realtime feed behind /v1/requests/stream (absent: the stream answers 404). */
  feed?: RequestFeed;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes that need no credential (public forms, login). */
    public?: boolean;
  }
}
