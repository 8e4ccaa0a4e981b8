import { DomainError } from '@crm/errors';
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth';
import { AUTHENTICATED, json, problems } from '../schemas';
import type { GatewayDeps } from '../deps';
import { isTimeZone, timeZoneSchema } from '../time-zone';

/** A calendar day ClickHouse can hold (reporting answers 400 outside 1970-01-01…2105-12-31). */
const date = { type: 'string', format: 'date', pattern: '^(19[7-9][0-9]|20[0-9]{2}|210[0-5])-[0-9]{2}-[0-9]{2}$' } as const;

export async function reportRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  app.get<{ Querystring: { from: string; to: string; time_zone?: string } }>(
    '/v1/reports/requests-per-day',
    {
      schema: {
        tags: ['reports'],
        operationId: 'requestsPerDay',
        summary: "Requests per day × channel × UTM source (dates inclusive, local days of the tenant's time zone)",
        description: "Days are calendar days in the tenant's time zone (`GET /v1/me` → `time_zone`) unless `time_zone` names another; `from`/`to` are local days in that zone, and the answer says which zone it used.",
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['from', 'to'],
          properties: { from: date, to: date, time_zone: { ...timeZoneSchema, description: "Count days in this IANA time zone instead of the tenant's" } },
        },
        response: { 200: json('Rows of the report', { $ref: 'RequestsPerDayReport#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      const caller = req.caller!;
      requireScope(caller, 'reports:read');
      const override = req.query.time_zone;
      if (override !== undefined && !isTimeZone(override)) {
        throw new DomainError('INVALID_ARGUMENT', 'time_zone must be an IANA time zone name such as Europe/Moscow or UTC', {
          violations: [{ field: 'time_zone', message: 'is not a known IANA time zone name' }],
        });
      }
      const timeZone = override ?? caller.principal.tenantTimeZone;
      const res = await deps.clients.reporting.requestsPerDay({ dateFrom: req.query.from, dateTo: req.query.to, timeZone }, caller.tenant);
      return {
        time_zone: res.timeZone || 'UTC',
        items: res.rows.map((r) => ({ day: r.day, channel: r.channel, utm_source: r.utmSource, requests: Number(r.requests) })),
      };
    },
  );
}
