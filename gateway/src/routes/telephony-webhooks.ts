import type { ReceiveRequest } from '@crm/contracts/crm/telephony/v1/telephony';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PLATFORM } from '../auth';
import type { GatewayDeps } from '../deps';
import { problem, sendProblem } from '../problem';
import { json, problems, str } from '../schemas';
import { WebhookFallback } from '../webhook-fallback';

/** The generic webhook's JSON body (services/telephony/src/adapters/generic/index.ts reads it). */
const genericCallEventSchema = {
  $id: 'GenericCallEvent',
  type: 'object',
  description:
    'One call event of any PBX or middleware, sent to POST /webhooks/telephony/{connection_id} of a `generic` connection. Events of a call may arrive in any order and more than once: the call converges to the same record (`seq` orders events of one call; `event_id` or the `webhook-id` is the idempotency key).',
  examples: [{ type: 'call.ringing', call_id: 'pbx-call-4711', event_id: 'pbx-call-4711-1', at: '2026-12-02T09:15:00Z', seq: 1, direction: 'inbound', caller: '+79161234567', dialed: '+74951234567', extensions: ['101'] }],
  additionalProperties: false,
  required: ['type', 'call_id', 'at'],
  properties: {
    type: { type: 'string', enum: ['call.ringing', 'call.answered', 'call.transferred', 'call.ended', 'call.missed', 'call.recording_ready'], description: 'What happened; other types are answered 200 `ignored`' },
    call_id: { ...str(200), minLength: 1, description: "The PBX's id of the whole call" },
    event_id: { ...str(200), description: 'Unique per event within the connection (default: the webhook-id)' },
    at: { type: 'string', format: 'date-time', description: 'When it happened (RFC 3339)' },
    seq: { type: 'integer', minimum: 0, description: "The PBX's order of this call's events; a later seq wins" },
    direction: { type: 'string', enum: ['inbound', 'outbound'], description: 'Default inbound' },
    caller: { ...str(64), description: 'E.164 (or an extension for an internal party)' },
    callee: { ...str(64), description: 'E.164 or an extension' },
    dialed: { ...str(64), description: "Inbound: the tenant's number that was dialed (E.164; default: callee)" },
    extensions: { type: 'array', maxItems: 50, items: str(32), description: 'ringing: the extensions being rung (their users get the screen pop)' },
    extension: { ...str(32), description: 'answered: who answered; outbound: who placed it' },
    disposition: { type: 'string', enum: ['answered', 'no_answer', 'busy', 'failed', 'canceled'], description: 'ended / missed: how it ended' },
    duration_seconds: { type: 'integer', minimum: 0 },
    talk_seconds: { type: 'integer', minimum: 0 },
    transfer_to: { type: 'object', additionalProperties: false, properties: { extension: str(32), phone: str(64) }, description: 'transferred: to whom' },
    recording_url: { ...str(2000), description: 'recording_ready: where telephony downloads it (same host as the connection\'s API base URL)' },
  },
} as const;

const webhookAcceptedSchema = {
  $id: 'WebhookAccepted',
  type: 'object',
  properties: { accepted: { type: 'boolean' }, ignored: { type: 'boolean', description: 'A valid payload with nothing to do' } },
} as const;

/** Named schemas of the provider webhook routes. */
export const webhookSchemas: { $id: string }[] = [genericCallEventSchema, webhookAcceptedSchema];

const SIGNATURE_DOC = `Authenticated by a Standard Webhooks signature (https://www.standardwebhooks.com/), not a credential:

- \`webhook-id\`: the delivery's id; a delivery repeated with the same id is answered 200 and stored once;
- \`webhook-timestamp\`: Unix seconds; more than TELEPHONY_WEBHOOK_TOLERANCE_S (300) from the time received is a 409 \`stale_timestamp\`;
- \`webhook-signature\`: \`v1,<base64 HMAC-SHA256(key, webhook-id + "." + webhook-timestamp + "." + body)>\`, several space-separated allowed; \`key\` is the base64-decoded part after \`whsec_\` of the connection's signing secret (after a rotation the previous secret is accepted for 24 h). A wrong or missing signature is a 401 \`bad_signature\`.

Other refusals: 400 \`malformed\` (not a GenericCallEvent) or \`wrong_provider\` (another provider's payload), 403 \`disabled\` or \`foreign_number\` (another tenant's number), 404 \`unknown_connection\`, 413 (larger than max(BODY_LIMIT_BYTES, 256 KiB)). An accepted event is processed asynchronously. When telephony is unavailable the gateway keeps the request in Kafka and answers 200 (it is verified when processed); only when that also fails, 503 — retry later. Every problem's \`code\` names the outcome.`;

const connectionParams = {
  type: 'object',
  additionalProperties: false,
  required: ['connection_id'],
  properties: { connection_id: { type: 'string', format: 'uuid', description: 'The connection (its webhook URL is shown on the connection)' } },
} as const;

/** How long the gateway waits for telephony before keeping the request in Kafka. */
const RECEIVE_DEADLINE_MS = 2000;

/**
 * /webhooks/telephony/{connection_id}[/…] — providers' requests handed to telephony's WebhookService.Receive
 * as received (raw body of any type, lower-case headers, query, the public URL, the remote address) with
 * tenant `platform`; telephony's answer (status, type, body) is passed through. Telephony unavailable or
 * slower than 2 s: the request goes to Kafka (webhook-fallback.ts) and the provider gets 200; Kafka too:
 * a 503 so the provider retries. No other 5xx.
 */
export async function webhookRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const bodyLimit = Math.max(deps.env.BODY_LIMIT_BYTES, 256 * 1024);
  const fallback = new WebhookFallback({ brokers: deps.env.KAFKA_BROKERS, topicSuffix: deps.env.TOPIC_SUFFIX, logger: deps.logger });
  // Connected at start, so a fallback during an outage does not also wait for a Kafka connection.
  app.addHook('onReady', async () => fallback.warm());
  app.addHook('onClose', async () => fallback.close());
  // Every body is a Buffer, whatever its type (or none): the adapters verify signatures over raw bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));

  const handle = async (req: FastifyRequest, reply: FastifyReply) => {
    const receivedAt = new Date();
    const params = req.params as { connection_id: string; '*'?: string };
    const rest = params['*'];
    const q = req.url.indexOf('?');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
    const pathname = q >= 0 ? req.url.slice(0, q) : req.url;
    const request: ReceiveRequest = {
      connectionId: params.connection_id.slice(0, 100),
      path: rest ? `/${rest}` : '',
      method: req.method,
      headers,
      body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      query: q >= 0 ? req.url.slice(q + 1) : '',
      url: `${req.protocol}://${req.host}${pathname}${q >= 0 ? req.url.slice(q) : ''}`,
      remoteIp: req.ip,
      receivedAt: receivedAt.toISOString(),
    };
    try {
      const res = await deps.clients.webhooks.receive(request, PLATFORM, { deadlineMs: RECEIVE_DEADLINE_MS });
      if (res.status >= 200 && res.status < 500) {
        return reply.code(res.status).header('content-type', res.contentType || 'application/octet-stream').send(Buffer.from(res.body));
      }
      req.log.warn({ status: res.status, connectionId: request.connectionId }, 'telephony answered a webhook with a status the gateway does not pass on; keeping it in Kafka');
    } catch (err) {
      req.log.warn({ err, connectionId: request.connectionId }, 'telephony did not take a webhook; keeping it in Kafka');
    }
    try {
      await fallback.publish(request);
      return reply.code(200).header('content-type', 'application/json').send('{"accepted":true}');
    } catch (err) {
      req.log.error({ err, connectionId: request.connectionId }, 'webhook fallback to Kafka failed; answering 503');
      reply.header('retry-after', '5');
      return sendProblem(reply, problem(503, 'telephony is unavailable; retry later'), req);
    }
  };

  // Nothing for Ajv: the body is raw bytes and telephony checks everything (an unknown connection is its 404).
  const raw = { validatorCompiler: () => () => true, bodyLimit };
  app.post(
    '/webhooks/telephony/:connection_id',
    {
      ...raw,
      schema: {
        tags: ['webhooks'],
        operationId: 'receiveGenericCallEvent',
        summary: 'A call event from any PBX (the generic signed webhook)',
        description: SIGNATURE_DOC,
        security: [],
        params: connectionParams,
        headers: {
          type: 'object',
          required: ['webhook-id', 'webhook-timestamp', 'webhook-signature'],
          properties: {
            'webhook-id': { ...str(200), description: "The delivery's id (idempotency key)" },
            'webhook-timestamp': { type: 'string', pattern: '^[0-9]{1,12}$', description: 'Unix seconds when it was sent' },
            'webhook-signature': { ...str(2000), description: '`v1,<base64 HMAC-SHA256>`, space-separated when several' },
          },
        },
        body: { content: { 'application/json': { schema: { $ref: 'GenericCallEvent#' } } } },
        response: {
          200: json('Accepted (processed asynchronously), a repeat of an accepted delivery, or ignored', { $ref: 'WebhookAccepted#' }),
          ...problems(400, 401, 403, 404, 409, 413, 503),
        },
      },
    },
    handle,
  );
  app.get(
    '/webhooks/telephony/:connection_id',
    {
      ...raw,
      schema: {
        tags: ['webhooks'],
        operationId: 'checkProviderWebhook',
        summary: "A provider's check of its webhook URL (Zadarma's `zd_echo`)",
        description: "Answered by the connection's provider adapter: Zadarma's `?zd_echo=X` gets `X` back; a provider that posts only (the generic webhook) answers 400 `malformed`. Like the POST, the answer is the provider's and never a 5xx but a 503 when telephony and the fallback are both unavailable.",
        security: [],
        params: connectionParams,
        querystring: { type: 'object', properties: { zd_echo: { ...str(200), description: 'Zadarma: echoed back as text/plain' } } },
        response: {
          200: { description: 'The echo (text/plain) or the provider\'s acknowledgement', content: { 'text/plain': { schema: { type: 'string' } }, 'application/json': { schema: { $ref: 'WebhookAccepted#' } } } },
          ...problems(400, 401, 403, 404, 503),
        },
      },
    },
    handle,
  );
  // The providers' own paths (Mango's /events/*, Twilio's /status and /voice, Kamailio's /route …).
  app.route({ method: ['GET', 'POST'], url: '/webhooks/telephony/:connection_id/*', ...raw, schema: { hide: true }, handler: handle });
  // Other methods are refused before telephony is asked (RFC 9110: 405 with Allow).
  const notAllowed = async (req: FastifyRequest, reply: FastifyReply) => {
    reply.header('allow', 'GET, HEAD, POST');
    if (req.method === 'OPTIONS') return reply.code(204).send();
    return sendProblem(reply, problem(405, `${req.method} is not allowed here; use GET, HEAD, POST`), req);
  };
  for (const url of ['/webhooks/telephony/:connection_id', '/webhooks/telephony/:connection_id/*']) {
    app.route({ method: ['PUT', 'PATCH', 'DELETE', 'OPTIONS'], url, ...raw, schema: { hide: true }, handler: notAllowed });
  }
}
