import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth';
import { errorResponses } from '../schemas';
import type { GatewayDeps } from '../app';

const date = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const;

export async function reportRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  app.get<{ Querystring: { from: string; to: string } }>(
    '/v1/reports/requests-per-day',
    {
      schema: {
        tags: ['reports'],
        summary: 'Requests per day × channel × UTM source (dates inclusive, UTC)',
        querystring: { type: 'object', additionalProperties: false, required: ['from', 'to'], properties: { from: date, to: date } },
        response: {
          200: {
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: { type: 'object', properties: { day: { type: 'string' }, channel: { type: 'string' }, utm_source: { type: 'string' }, requests: { type: 'integer' } } },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'reports:read');
      const res = await deps.clients.reporting.requestsPerDay({ dateFrom: req.query.from, dateTo: req.query.to }, req.caller!.tenant);
      return { items: res.rows.map((r) => ({ day: r.day, channel: r.channel, utm_source: r.utmSource, requests: Number(r.requests) })) };
    },
  );
}
