import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth';
import { AUTHENTICATED, problems } from '../schemas';
import type { GatewayDeps } from '../deps';

/**
 * `GET /v1/requests/stream`: Server-Sent Events with the caller's tenant's request events
 * (`request.created`, `request.commented`), so the journal updates without a reload.
 */
export async function streamRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  app.get(
    '/v1/requests/stream',
    {
      schema: {
        tags: ['requests'],
        operationId: 'streamRequests',
        summary: 'Live request events (text/event-stream)',
        description: 'Server-Sent Events `request.created` and `request.commented`, each with a JSON `data` line; comments keep the connection alive.',
        response: {
          200: { description: 'An endless event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
          ...problems(...AUTHENTICATED, 404),
        },
      },
    },
    async (req, reply) => {
      const caller = req.caller!;
      requireScope(caller, 'requests:read');
      if (!deps.feed) throw Object.assign(new Error('realtime feed is not configured'), { statusCode: 404 });
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write('retry: 3000\n: connected\n\n');
      const unsubscribe = deps.feed.subscribe(caller.tenant.tenantId, (e) => res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`));
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      req.raw.on('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
      });
    },
  );
}
