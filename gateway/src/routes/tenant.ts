import { DomainError } from '@crm/errors';
import type { Tenant } from '@crm/contracts/crm/identity/v1/identity';
import type { FastifyInstance } from 'fastify';
import { requireScope, SESSION_COOKIE } from '../auth';
import { readCookie } from '../cookies';
import type { GatewayDeps } from '../deps';
import { AUTHENTICATED, json, problems, uuid, WITH_BODY } from '../schemas';
import { isTimeZone, timeZoneSchema } from '../time-zone';

/** The caller's tenant as the API shows it. */
export const tenantSchema = {
  $id: 'Tenant',
  type: 'object',
  description: "The caller's tenant. Times in the API stay UTC; reports count days and the web UI shows times in `time_zone`.",
  required: ['id', 'name', 'slug', 'locale', 'time_zone', 'created_at'],
  properties: {
    id: uuid,
    name: { type: 'string' },
    slug: { type: 'string' },
    locale: { type: 'string', enum: ['ru', 'en'] },
    time_zone: { ...timeZoneSchema, description: "The tenant's IANA time zone (canonical spelling)" },
    created_at: { type: 'string', format: 'date-time' },
  },
} as const;

/** PATCH /v1/tenant: the settings to change (absent ones are kept). */
export const updateTenantSchema = {
  $id: 'UpdateTenant',
  type: 'object',
  additionalProperties: false,
  properties: { time_zone: timeZoneSchema },
  examples: [{ time_zone: 'Europe/Moscow' }],
} as const;

export const tenantSchemas = [tenantSchema, updateTenantSchema];

function tenantOut(t: Tenant) {
  return { id: t.id, name: t.name, slug: t.slug, locale: t.locale, time_zone: t.timeZone || 'UTC', created_at: t.createdAt };
}

/**
 * The caller's tenant: read and change its settings (today the time zone). Admins only (scope
 * identity:admin); identity audits every change. A changed zone reaches other credentials' cached
 * principals within AUTH_CACHE_TTL_MS; the caller's own session is refreshed at once.
 */
export async function tenantRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  app.get(
    '/v1/tenant',
    {
      schema: {
        tags: ['tenant'],
        summary: "The caller's tenant and its settings",
        operationId: 'getTenant',
        response: { 200: json('The tenant', { $ref: 'Tenant#' }), ...problems(...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'identity:admin');
      const res = await deps.clients.identity.getTenant({}, req.caller!.tenant);
      return tenantOut(res.tenant!);
    },
  );

  app.patch<{ Body: { time_zone?: string } }>(
    '/v1/tenant',
    {
      schema: {
        tags: ['tenant'],
        summary: "Change the caller's tenant settings",
        description: 'Only the fields sent are changed. `time_zone` must be an IANA time zone name; it is stored in its canonical spelling.',
        operationId: 'updateTenant',
        body: { $ref: 'UpdateTenant#' },
        response: { 200: json('The tenant after the change', { $ref: 'Tenant#' }), ...problems(...WITH_BODY, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      const caller = req.caller!;
      requireScope(caller, 'identity:admin');
      const timeZone = req.body?.time_zone;
      if (timeZone !== undefined && !isTimeZone(timeZone)) {
        throw new DomainError('INVALID_ARGUMENT', 'time_zone must be an IANA time zone name such as Europe/Moscow or UTC', {
          violations: [{ field: 'time_zone', message: 'is not a known IANA time zone name' }],
        });
      }
      const res = await deps.clients.identity.updateTenant({ timeZone }, caller.tenant);
      // This replica's cached principal of the caller's session would show the old zone for a while.
      const token = caller.via === 'session' ? readCookie(req.headers.cookie, SESSION_COOKIE) : undefined;
      if (token) deps.auth.forgetSession(token);
      return tenantOut(res.tenant!);
    },
  );
}
