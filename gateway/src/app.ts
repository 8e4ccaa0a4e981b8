import AjvCompiler from '@fastify/ajv-compiler';
import SerializerSelector from '@fastify/fast-json-stringify-compiler';
import swagger from '@fastify/swagger';
import fastifyStatic from '@fastify/static';
import swaggerUi from '@fastify/swagger-ui';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Fastify, { LogController, type FastifySchemaCompiler } from 'fastify';
import { CSRF_HEADER } from './auth';
import { DEMO_SCRIPT, DEMO_STYLE, demoFormHtml } from './demo-form';
import { httpServerOptions } from './edge-limits';
import { registerSecurityHeaders } from './security-headers';
import { Admission, type Priority } from './admission';
import { enforceLimits, gatewayLimits } from './limiter';
import type { GatewayDeps } from './deps';
import { problem, sendProblem, toProblem } from './problem';
import { contactsSchemas } from './contacts-schemas';
import { cardRoutes } from './routes/cards';
import { companyRoutes } from './routes/companies';
import { contactRoutes } from './routes/contacts';
import { conversionRoutes, conversionSchemas } from './routes/conversion';
import { formRoutes } from './routes/forms';
import { funnelRoutes, funnelSchemas } from './routes/funnel';
import { importRoutes } from './routes/imports';
import { reportRoutes } from './routes/reports';
import { requestRoutes } from './routes/requests';
import { securityRoutes, securitySchemas } from './routes/security';
import { sessionRoutes } from './routes/session';
import { sessionsRoutes, sessionsSchemas } from './routes/sessions';
import { twoFactorRoutes, twoFactorSchemas } from './routes/two-factor';
import { streamRoutes } from './routes/stream';
import { routingRoutes } from './routes/routing';
import { tasksRoutes } from './routes/tasks';
import { teamRoutes } from './routes/team';
import { tenantRoutes, tenantSchemas } from './routes/tenant';
import { workRoutes } from './routes/work';
import { callRoutes, callSchemas } from './routes/calls';
import { numberRoutes, numberSchemas } from './routes/numbers';
import { connectionRoutes, connectionSchemas } from './routes/telephony-connections';
import { webhookRoutes, webhookSchemas } from './routes/telephony-webhooks';
import { teamSchemas } from './team-schemas';
import { workSchemas } from './work-schemas';
import { isTimeZone } from './time-zone';
import { namedSchemas } from './schemas';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** The order of the methods in an `Allow` header. */
const ALLOW_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * `format: idn-email` (RFC 6531: Unicode allowed): one `@` between non-blank parts, no NUL. Whether it is
 * an address worth keeping is the services' answer (a 400 when not); Ajv has no idn-email of its own.
 */
const idnEmailFormat = (value: string) => !value.includes('\u0000') && /^[^\s@]+@[^\s@]+$/u.test(value);

/**
 * `format: phone` (CreateRequest): '' or at most 64 characters with a digit and no NUL; whether the
 * digits are a real number is intake's answer (libphonenumber), a 400 when they are not.
 */
const phoneFormat = (value: string) => value.length <= 64 && !value.includes('\u0000') && (value.trim() === '' || /\d/.test(value));

/**
 * The document as served, plus what @fastify/swagger cannot say from the route schemas: a request body's
 * media type gets the `examples` of its named schema (the examples phase of a fuzzer and /docs use them).
 */
function withBodyExamples<T extends object>(doc: T): T {
  type Media = { schema?: { $ref?: string }; examples?: unknown };
  type Operation = { requestBody?: { content?: Record<string, Media> } };
  const d = doc as { paths?: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, { examples?: unknown[] }> } };
  const schemas = d.components?.schemas ?? {};
  for (const item of Object.values(d.paths ?? {})) {
    for (const op of Object.values(item)) {
      for (const media of Object.values(op?.requestBody?.content ?? {})) {
        const name = media.schema?.$ref?.replace('#/components/schemas/', '');
        const examples = name ? schemas[name]?.examples : undefined;
        if (examples?.length && !media.examples) media.examples = Object.fromEntries(examples.map((value, i) => [`example${i + 1}`, { value }]));
      }
    }
  }
  return doc;
}

type Validate = ReturnType<FastifySchemaCompiler<unknown>>;
type AjvValidate = ReturnType<ReturnType<ReturnType<typeof AjvCompiler>>>;

/** A validator compiled on its first call; Fastify reads `errors` off the function after a failed call. */
function lazyValidator(make: () => Validate): AjvValidate {
  let compiled: Validate | undefined;
  const validate: Validate = (data: unknown) => {
    compiled ??= make();
    const ok = compiled(data);
    validate.errors = compiled.errors;
    return ok;
  };
  // Fastify's types ask for Ajv's own function type; Fastify only calls it and reads `errors`.
  return validate as unknown as AjvValidate;
}

/** The Fastify edge: `/v1` REST (OpenAPI at /openapi.json, docs at /docs), problem+json errors. */
export async function buildGateway(input: Omit<GatewayDeps, 'limits'> & { limits?: GatewayDeps['limits'] }) {
  const deps: GatewayDeps = { ...input, limits: input.limits ?? gatewayLimits(input.env, input.clients, input.logger) };
  const app = Fastify({
    loggerInstance: deps.logger,
    // No per-request log lines (the gateway logs failures itself, in the error handler).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.env.BODY_LIMIT_BYTES,
    // Node's HTTP server under hostile input: timeouts, header size, 408/431 as problem+json (edge-limits.ts).
    ...httpServerOptions(deps.env),
    trustProxy: deps.env.TRUST_PROXY,
    // Unknown fields are an error, not silently dropped (Fastify's default would remove them).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true, formats: { phone: phoneFormat, 'idn-email': idnEmailFormat, 'time-zone': isTimeZone } } },
    // The serializer's own Ajv (it picks the anyOf branch of a response field) knows the same formats.
    serializerOpts: { ajv: { formats: { phone: phoneFormat, 'idn-email': idnEmailFormat, 'time-zone': isTimeZone } } },
    // Query strings, path parameters and headers are text, so their values are coerced to the schema's
    // types (`limit=5`, `state=new` as a one-item array); a JSON body's types are its own: `{"text": false}`
    // is a 400, not the comment "false".
    schemaController: {
      compilersFactory: {
        // Validators and serializers are compiled on a route's first use, not at start: compiling all of
        // them (~200 routes) was most of the gateway's start-up (~4 s quiet, far more under load — and the
        // test suites start a gateway per file); a route's first call pays its own (a few ms).
        buildValidator(externalSchemas, options) {
          const pool = AjvCompiler();
          const coercing = pool(externalSchemas, options as Parameters<typeof pool>[1]);
          const exact = pool(externalSchemas, { ...options, customOptions: { ...options?.customOptions, coerceTypes: false } } as Parameters<typeof pool>[1]);
          return (route) => lazyValidator(() => (route.httpPart === 'body' ? exact(route) : coercing(route)));
        },
        // Compiling a fast-json-stringify serializer per route and status took ~18 s of the gateway's start
        // (~150 routes × ~8 documented statuses). Problems (status ≥ 400) are built by the gateway itself
        // (problem.ts) and are small: they go through JSON.stringify. Success serializers are shared by
        // every route with the same response schema (most answer a `$ref` to a named one).
        buildSerializer(externalSchemas, options) {
          const compile = SerializerSelector()(externalSchemas, options);
          const shared = new Map<string, ReturnType<typeof compile>>();
          return (route) => {
            if (Number.parseInt(String(route.httpStatus), 10) >= 400 || /^[45]xx$/i.test(String(route.httpStatus))) return (data: unknown) => JSON.stringify(data);
            const key = JSON.stringify(route.schema);
            let fn = shared.get(key);
            if (!fn) {
              let compiled: ReturnType<typeof compile> | undefined;
              fn = (data: unknown) => (compiled ??= compile(route))(data);
              shared.set(key, fn);
            }
            return fn;
          };
        },
      },
    },
  });

  // Security headers before any route or plugin, so every answer (the UI, /docs, early refusals) has them.
  await registerSecurityHeaders(app, deps.env);
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
    // Components are named by their `$id` (`Request`, `Problem`, …), not `def-0…`.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transformObject: (doc) => ('openapiObject' in doc ? withBodyExamples(doc.openapiObject) : doc.swaggerObject),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  for (const s of namedSchemas) app.addSchema(s);
  for (const s of tenantSchemas) app.addSchema(s);
  for (const s of contactsSchemas) app.addSchema(s);
  for (const s of teamSchemas) app.addSchema(s);
  for (const s of workSchemas) app.addSchema(s);
  for (const s of [...securitySchemas, ...sessionsSchemas, ...twoFactorSchemas]) app.addSchema(s);
  for (const s of [...funnelSchemas, ...conversionSchemas]) app.addSchema(s);
  for (const s of [...numberSchemas, ...connectionSchemas, ...webhookSchemas, ...callSchemas]) app.addSchema(s);

  // Admission first: under overload the excess is refused before anything else is spent on it
  // (admission.ts). The realtime stream is long-lived and not counted.
  const admission = new Admission({ maxInFlight: deps.env.GATEWAY_MAX_INFLIGHT, maxEventLoopDelayMs: deps.env.GATEWAY_MAX_EVENT_LOOP_DELAY_MS });
  app.addHook('onReady', async () => admission.resetDelay());
  app.addHook('onClose', async () => admission.close());
  app.addHook('onRequest', async (req, reply) => {
    if (req.is404 || !req.url.startsWith('/v1/') || req.routeOptions.url === '/v1/requests/stream' || req.method === 'OPTIONS') return;
    const config = req.routeOptions.config;
    const priority: Priority = config?.signIn ? 'sign_in' : config?.public ? 'public' : req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write';
    if (!admission.tryAdmit(priority)) {
      reply.header('retry-after', '1');
      return sendProblem(reply, problem(503, 'the platform is busy; retry in a second', { code: 'OVERLOADED' }), req);
    }
    reply.raw.once('close', () => admission.release());
  });

  // Every method each /v1 path answers, collected as the routes are added. A known path called with
  // another method (PUT, TRACE, QUERY…) is a 405 with `Allow` (RFC 9110), answered before any credential
  // is asked for or any body read; OPTIONS is a 204 with `Allow` where the path has no OPTIONS route.
  const paths = new Map<string, { match: RegExp; methods: Set<string> }>();
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/v1/')) return;
    const entry = paths.get(route.url) ?? { match: new RegExp(`^${route.url.replace(/:[^/]+/g, '[^/]+')}$`), methods: new Set<string>() };
    for (const m of [route.method].flat()) entry.methods.add(m.toUpperCase());
    if (entry.methods.has('GET')) entry.methods.add('HEAD');
    paths.set(route.url, entry);
  });
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/')) return;
    const path = req.url.split('?')[0];
    // A static path wins over a parametric one (`/v1/requests/stream` over `/v1/requests/:id`), as in routing;
    // so PATCH /v1/contacts/lookup is a 405 of the static path, not a PATCH of a contact named `lookup`.
    const exact = paths.get(path);
    const routedElsewhere = !req.is404 && exact !== undefined && req.routeOptions.url !== path && !exact.methods.has(req.method);
    if (!req.is404 && !routedElsewhere) return;
    const known = exact ?? [...paths.values()].find((p) => p.match.test(path));
    if (!known) return;
    const allow = ALLOW_ORDER.filter((m) => known.methods.has(m) || m === 'OPTIONS').join(', ');
    reply.header('allow', allow);
    if (req.method === 'OPTIONS') return reply.code(204).send();
    return sendProblem(reply, problem(405, `${req.method} is not allowed here; use ${allow}`), req);
  });

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
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/') || req.routeOptions.config?.public || req.method === 'OPTIONS') return;
    req.caller = await deps.auth.authenticate(req);
    // Shared by every replica (limiter.ts); a lease hit is a Map lookup, no network call.
    await enforceLimits(reply, 'too many requests for this credential; slow down', [deps.limits.perCredential, req.caller.tenant.callerId]);
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
    await tenantRoutes(scoped, deps);
    await contactRoutes(scoped, deps);
    await companyRoutes(scoped, deps);
    await cardRoutes(scoped, deps);
    await importRoutes(scoped, deps);
    await teamRoutes(scoped, deps);
    await workRoutes(scoped, deps);
    await routingRoutes(scoped, deps);
    await tasksRoutes(scoped, deps);
    await securityRoutes(scoped, deps);
    await sessionsRoutes(scoped, deps);
    await twoFactorRoutes(scoped, deps);
    await funnelRoutes(scoped, deps);
    await conversionRoutes(scoped, deps);
    await numberRoutes(scoped, deps);
    await connectionRoutes(scoped, deps);
    await callRoutes(scoped, deps);
  });
  // Providers' webhooks: outside /v1 (no credential but the provider's signature, which telephony checks;
  // raw bodies in a scope of their own).
  await app.register(async (scoped) => webhookRoutes(scoped, deps));

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/demo/form', { schema: { hide: true }, config: { csp: { inlineScripts: [DEMO_SCRIPT], inlineStyles: [DEMO_STYLE] } } }, async (_req, reply) => reply.type('text/html; charset=utf-8').send(demoFormHtml()));
  return app;
}
