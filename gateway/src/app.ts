import { DomainError } from '@crm/errors';
import type { Logger } from '@crm/logger';
import swagger from '@fastify/swagger';
import fastifyStatic from '@fastify/static';
import swaggerUi from '@fastify/swagger-ui';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Fastify from 'fastify';
import { CSRF_HEADER, type Authenticator } from './auth';
import { demoFormHtml } from './demo-form';
import { FixedWindowLimiter } from './limiter';
import type { Clients } from './clients';
import type { GatewayEnv } from './config';
import type { RequestFeed } from './realtime';
import { problem, sendProblem, toProblem } from './problem';
import { formRoutes } from './routes/forms';
import { reportRoutes } from './routes/reports';
import { requestRoutes } from './routes/requests';
import { sessionRoutes } from './routes/session';
import { streamRoutes } from './routes/stream';
import { attributionSchema, commentSchema, problemSchema, requestSchema } from './schemas';

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

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The Fastify edge: `/v1` REST (OpenAPI at /openapi.json, docs at /docs), problem+json errors. */
export async function buildGateway(deps: GatewayDeps) {
  const app = Fastify({
    loggerInstance: deps.logger,
    disableRequestLogging: true,
    bodyLimit: deps.env.BODY_LIMIT_BYTES,
    trustProxy: deps.env.TRUST_PROXY,
    // Unknown fields are an error, not silently dropped (Fastify's default would remove them).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } },
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Sales 2.0 API', version: '1.0.0', description: 'Public REST API of Sales 2.0. Errors are application/problem+json (RFC 9457).' },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: `Authorization: Bearer crm_…`' },
          session: { type: 'apiKey', in: 'cookie', name: 'crm_session', description: `The web UI's session; unsafe methods also need the ${CSRF_HEADER} header` },
        },
      },
      security: [{ apiKey: [] }, { session: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  for (const s of [problemSchema, attributionSchema, requestSchema, commentSchema]) app.addSchema(s);

  app.setErrorHandler((err, req, reply) => {
    const p = toProblem(err);
    if (p.status >= 500) req.log.error({ err, url: req.url }, 'request failed');
    return sendProblem(reply, p, req);
  });
  // The web UI is a single-page app: unknown GETs outside the API get its index.html.
  const webDist = deps.env.WEB_DIST_DIR ? resolve(deps.env.WEB_DIST_DIR) : '';
  const hasUi = Boolean(webDist && existsSync(join(webDist, 'index.html')));
  if (hasUi) await app.register(fastifyStatic, { root: webDist, prefix: '/', wildcard: false, index: ['index.html'] });
  app.setNotFoundHandler((req, reply) => {
    const api = req.url.startsWith('/v1/') || req.url === '/v1';
    if (hasUi && !api && req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) return reply.sendFile('index.html');
    return sendProblem(reply, problem(404, 'no such route'), req);
  });

  // Authentication before the body is parsed: a wrong key is a 401 whatever the body.
  const perCredential = new FixedWindowLimiter(deps.env.API_RATE_PER_CREDENTIAL);
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/') || req.routeOptions.config?.public || req.method === 'OPTIONS') return;
    req.caller = await deps.auth.authenticate(req);
    const wait = perCredential.hit(req.caller.tenant.callerId);
    if (wait) {
      reply.header('retry-after', String(wait));
      throw new DomainError('RESOURCE_EXHAUSTED', 'too many requests for this credential; slow down');
    }
    if (req.caller.via === 'session' && UNSAFE.has(req.method) && req.headers[CSRF_HEADER] !== '1') {
      throw Object.assign(new Error(`cookie-authenticated ${req.method} needs the ${CSRF_HEADER}: 1 header`), { statusCode: 403 });
    }
  });

  await app.register(async (scoped) => {
    await requestRoutes(scoped, deps);
    await formRoutes(scoped, deps);
    await sessionRoutes(scoped, deps);
    await reportRoutes(scoped, deps);
    await streamRoutes(scoped, deps);
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/demo/form', { schema: { hide: true } }, async (_req, reply) => reply.type('text/html; charset=utf-8').send(demoFormHtml()));
  return app;
}
