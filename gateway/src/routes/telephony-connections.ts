import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth';
import { connectionFieldsIn, connectionMaskIn, connectionOut, decisionOut, extensionOut, withBodyFields, type ConnectionBody } from '../connection-mappers';
import { connectionNamedSchemas } from '../connection-schemas';
import type { GatewayDeps } from '../deps';
import { AUTHENTICATED, idParam, json, problems, str, uuid, WITH_BODY } from '../schemas';

/** Named schemas of the telephony connections and extensions routes. */
export const connectionSchemas: { $id: string }[] = connectionNamedSchemas;

const SCOPE = 'telephony:admin';
const pageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
    cursor: { ...str(1024), description: 'The next_cursor of the previous page' },
  },
} as const;
const extensionQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { ...pageQuery.properties, connection_id: uuid, user_id: uuid },
} as const;

const connectionLinks = (id: string) => ({
  GetTelephonyConnection: { operationId: 'getTelephonyConnection', parameters: { id }, description: 'The connection' },
  UpdateTelephonyConnection: { operationId: 'updateTelephonyConnection', parameters: { id }, description: 'Change it' },
});

/**
 * /v1/telephony/connections (PBX connections: list, create, get, change, rotate the signing secret, "where
 * would this caller go") and /v1/telephony/extensions (employees' extensions). Scope `telephony:admin`
 * (heads of sales and admins). Another tenant's connection or extension is a 404.
 */
export async function connectionRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { clients } = deps;

  app.get<{ Querystring: { limit?: number; cursor?: string } }>(
    '/v1/telephony/connections',
    {
      schema: {
        tags: ['telephony'],
        operationId: 'listTelephonyConnections',
        summary: "The tenant's PBX connections, oldest first",
        querystring: pageQuery,
        response: { 200: json('A page of connections', { $ref: 'TelephonyConnectionPage#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, SCOPE);
      const res = await clients.connections.listConnections({ pageSize: req.query.limit ?? 50, pageToken: req.query.cursor ?? '' }, req.caller!.tenant);
      return { items: res.connections.map(connectionOut), next_cursor: res.nextPageToken || null };
    },
  );

  app.post<{ Body: ConnectionBody }>(
    '/v1/telephony/connections',
    {
      schema: {
        tags: ['telephony'],
        operationId: 'createTelephonyConnection',
        summary: 'Connect a PBX',
        description:
          'generic / kamailio: we generate the webhook signing secret and show it here, once. mango / zadarma / twilio: `secret` is the provider credential you enter (required), stored and never shown again. The first connection becomes the default.',
        body: { $ref: 'CreateTelephonyConnection#' },
        response: {
          201: json('Created', { $ref: 'TelephonyConnectionCreated#' }, { location: { type: 'string', description: 'The new connection: /v1/telephony/connections/{id}' } }),
          ...problems(...WITH_BODY, ...AUTHENTICATED),
        },
      },
      links: { 201: connectionLinks('$response.body#/connection/id') },
    },
    async (req, reply) => {
      requireScope(req.caller!, SCOPE);
      const res = await withBodyFields(clients.connections.createConnection({ connection: connectionFieldsIn(req.body) }, req.caller!.tenant));
      const c = res.connection!;
      return reply
        .code(201)
        .header('location', `/v1/telephony/connections/${c.id}`)
        .send({ connection: connectionOut(c), signing_secret: res.signingSecret || null });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/telephony/connections/:id',
    {
      schema: {
        tags: ['telephony'],
        operationId: 'getTelephonyConnection',
        summary: 'A connection (without secrets)',
        params: idParam,
        response: { 200: json('The connection', { $ref: 'TelephonyConnection#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, SCOPE);
      return connectionOut((await clients.connections.getConnection({ id: req.params.id }, req.caller!.tenant)).connection!);
    },
  );

  app.patch<{ Params: { id: string }; Body: ConnectionBody }>(
    '/v1/telephony/connections/:id',
    {
      schema: {
        tags: ['telephony'],
        operationId: 'updateTelephonyConnection',
        summary: 'Change a connection',
        description: 'Only the fields present change. `secret` replaces a provider credential (generic / kamailio: rotate instead). `is_default: true` makes it the default.',
        params: idParam,
        body: { $ref: 'UpdateTelephonyConnection#' },
        response: { 200: json('The connection after the change', { $ref: 'TelephonyConnection#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, SCOPE);
      const body = req.body ?? {};
      const res = await withBodyFields(clients.connections.updateConnection({ id: req.params.id, connection: connectionFieldsIn(body), updateMask: connectionMaskIn(body) }, req.caller!.tenant));
      return connectionOut(res.connection!);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/telephony/connections/:id/rotate-secret',
    {
      schema: {
        tags: ['telephony'],
        operationId: 'rotateTelephonyConnectionSecret',
        summary: 'A new webhook signing secret (generic / kamailio)',
        description: 'The new secret is shown here, once; the previous one keeps verifying for 24 hours so the PBX can be switched over. Other providers: 409 (update `secret` instead).',
        params: idParam,
        response: { 200: json('The connection and its new secret', { $ref: 'TelephonyConnectionCreated#' }), ...problems(400, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, SCOPE);
      const res = await clients.connections.rotateSecret({ id: req.params.id }, req.caller!.tenant);
      return { connection: connectionOut(res.connection!), signing_secret: res.signingSecret || null };
    },
  );

  app.post<{ Params: { id: string }; Body: { caller: string; dialed?: string } }>(
    '/v1/telephony/connections/:id/decide',
    {
      schema: {
        tags: ['telephony'],
        operationId: 'decideTelephonyCall',
        summary: 'Where would this caller go now',
        description: "The live decision a PBX gets (intake's published rules, the client's owner first, the department's on-shift sellers, the fallback), without a call: the round-robin pointer moves as for a real call.",
        params: idParam,
        body: { $ref: 'TelephonyDecideQuestion#' },
        response: { 200: json('The decision', { $ref: 'TelephonyDecision#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, SCOPE);
      // The connection must be the caller's (WebhookService.Decide itself finds the tenant from the id).
      await clients.connections.getConnection({ id: req.params.id }, req.caller!.tenant);
      const d = await clients.webhooks.decide({ connectionId: req.params.id, caller: req.body.caller, dialed: req.body.dialed ?? '', providerCallId: '' }, req.caller!.tenant);
      return decisionOut(d);
    },
  );

  // ---- extensions ---------------------------------------------------------------------------------------

  app.get<{ Querystring: { limit?: number; cursor?: string; connection_id?: string; user_id?: string } }>(
    '/v1/telephony/extensions',
    {
      schema: {
        tags: ['telephony'],
        operationId: 'listTelephonyExtensions',
        summary: "Employees' extensions, by connection and/or user",
        querystring: extensionQuery,
        response: { 200: json('A page of extensions', { $ref: 'TelephonyExtensionPage#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, SCOPE);
      const q = req.query;
      const res = await clients.connections.listExtensions({ connectionId: q.connection_id ?? '', userId: q.user_id ?? '', pageSize: q.limit ?? 50, pageToken: q.cursor ?? '' }, req.caller!.tenant);
      return { items: res.extensions.map(extensionOut), next_cursor: res.nextPageToken || null };
    },
  );

  app.put<{ Body: { connection_id: string; user_id: string; extension: string } }>(
    '/v1/telephony/extensions',
    {
      schema: {
        tags: ['telephony'],
        operationId: 'setTelephonyExtension',
        summary: "Set a user's extension on a connection",
        description: 'The user must be a user of the tenant (400 otherwise); an extension another user has on the connection is a 409.',
        body: { $ref: 'SetTelephonyExtension#' },
        response: { 200: json('The extension', { $ref: 'TelephonyExtension#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, SCOPE);
      const b = req.body;
      const res = await clients.connections.setExtension({ connectionId: b.connection_id, userId: b.user_id, extension: b.extension }, req.caller!.tenant);
      return extensionOut(res.extension!);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/telephony/extensions/:id',
    {
      schema: {
        tags: ['telephony'],
        operationId: 'deleteTelephonyExtension',
        summary: 'Remove an extension',
        params: idParam,
        response: { 204: { description: 'Removed' }, ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, SCOPE);
      await clients.connections.deleteExtension({ id: req.params.id }, req.caller!.tenant);
      return reply.code(204).send();
    },
  );
}
