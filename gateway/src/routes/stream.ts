import { visibilityOf } from '@crm/grpc';
import type { FastifyInstance } from 'fastify';
import { Authenticator, requireScope } from '../auth';
import type { FeedEvent } from '../realtime';
import { AUTHENTICATED, problems } from '../schemas';
import type { GatewayDeps } from '../deps';

/** An SSE frame: a notification's data is the notification itself, any other event's the event. */
function frame(e: FeedEvent): string {
  const data = e.type === 'notification' ? e.notification : e;
  return `event: ${e.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * `GET /v1/requests/stream`: Server-Sent Events with the caller's tenant's request events
 * (`request.created`, `request.commented`, `request.updated`) that the caller may see, and the
 * `notification`s addressed to them, so the journal and the bell update without a reload; and the calls
 * that ring to them (the screen pop) and their changes.
 */
export async function streamRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  app.get(
    '/v1/requests/stream',
    {
      schema: {
        tags: ['requests'],
        operationId: 'streamRequests',
        summary: 'Live request events (text/event-stream)',
        description:
          'Server-Sent Events, each with a JSON `data` line: `request.created` (`{type, request}`), `request.commented` (`{type, comment}`), `request.updated` (`{type, change, request}`: the request after a state change, assignment, axis change, first response or SLA breach) — only about requests you may see — and `notification` (`{kind, request_id?, task_id?, title, at}`, `kind` `assigned` | `sla_breached` | `task_reminder`), only those addressed to you; `call.ringing` (`{type, call, contact_id}`: the screen pop, only to the users the call rings to) and `call.updated` (`{type, change, call}`, `change` `answered` | `transferred` | `ended` | `missed` | `recovered` | `recording_ready`: only to the users it rang to and whoever answered or placed it). Comments keep the connection alive.',
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
      const viewer = { visibility: visibilityOf(caller.tenant), userId: caller.tenant.callerKind === 'user' ? caller.tenant.callerId : undefined };
      const unsubscribe = deps.feed.subscribe(caller.tenant.tenantId, viewer, (e) => res.write(frame(e)));
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      // The credential ended (its session signed out, the user deactivated — on any replica): the stream ends.
      const unwatch = deps.auth.onRevoked((r) => {
        if (Authenticator.concerns(r, caller)) res.end();
      });
      const done = () => {
        clearInterval(heartbeat);
        unsubscribe();
        unwatch();
      };
      req.raw.on('close', done);
      res.once('finish', done);
      // A client gone while it was being authenticated closed before these listeners: without this its
      // heartbeat and subscription would live forever (and keep the process from exiting).
      if (res.destroyed) done();
    },
  );
}
