import type { DecideResponse, ReceiveRequest, ReceiveResponse } from '@crm/contracts/crm/telephony/v1/telephony';
import { uuidv7, type EntityManager } from '@crm/db';
import { meter } from '@crm/telemetry';
import { createHash } from 'node:crypto';
import { ADAPTERS } from '../adapters/registry';
import type { AdapterResult, Decider, Outcome, WebhookInput } from '../adapters/types';
import type { ConnectionRow, NormalizedCallEvent } from '../calls/model';
import { loadConnection } from '../connections/store';
import type { TelephonyContext } from '../context';
import type { CallDecider } from '../decide/decide';
import { enqueueProcessWebhook } from '../jobs';
import { findActiveNumber } from '../numbers/store';
import { problemAnswer, REFUSAL_STATUS } from './kit';

/** Outcomes after which nothing was stored (the provider's request is refused or has nothing to do). */
const STORED: ReadonlySet<Outcome> = new Set(['accepted', 'unknown_number']);

/**
 * WebhookService.Receive: connection → adapter → verify/parse/answer → raw payload + events + processing
 * job in one transaction, answered at once (calls/ingest.ts applies the events from the job).
 *
 * - An unknown connection id is a 404 `unknown_connection`, a disabled connection a 403 `disabled`.
 * - The adapter verifies before it parses and never throws for bad input (a throw is a 400 `malformed`).
 * - Inbound events' dialed numbers are looked up in the registry: another tenant's active number is a
 *   403 `foreign_number` (nothing stored); a number nobody registered is kept (the call is not lost; it
 *   has no attribution) and answered 200 with outcome `unknown_number`.
 * - Stored once per (connection, delivery id): a repeat is a 2xx `duplicate` with the adapter's answer.
 *   A delivery with no id of the provider's gets the sha-256 of method, path, query and body.
 * - Counted per provider and outcome (`telephony.webhooks`), one warn line per refusal.
 *
 * Nothing on this path calls intake or contacts, except the decider for providers that route
 * synchronously (Zadarma, Twilio, Kamailio) or right after the event (Mango's route command).
 */
export class WebhookReceiver {
  private readonly counter = meter('crm.telephony').createCounter('telephony.webhooks', { description: 'provider webhook requests by provider and outcome' });

  constructor(
    private readonly ctx: TelephonyContext,
    private readonly decider: CallDecider,
  ) {}

  /**
   * `em`, when given, is a transaction the rows are written in (the fallback topic's consumer passes
   * its own, so the Kafka message and the stored delivery commit together).
   */
  receive = async (req: ReceiveRequest, em?: EntityManager): Promise<ReceiveResponse> => {
    const started = Date.now();
    const receivedAt = req.receivedAt && !Number.isNaN(Date.parse(req.receivedAt)) ? new Date(req.receivedAt) : new Date();
    const read = em ?? this.ctx.orm.em.fork();
    const connection = await loadConnection(read, req.connectionId);
    if (!connection) return this.finish(req, undefined, 'unknown_connection', problemAnswer(404, 'unknown_connection', 'no such telephony connection'), started);
    if (connection.disabled) return this.finish(req, connection, 'disabled', problemAnswer(403, 'disabled', 'this telephony connection is disabled'), started);

    const input: WebhookInput = {
      path: req.path ?? '',
      method: (req.method || 'POST').toUpperCase(),
      headers: lowerCased(req.headers ?? {}),
      body: Buffer.from(req.body ?? new Uint8Array()),
      query: req.query ?? '',
      url: req.url ?? '',
      remoteIp: req.remoteIp ?? '',
      receivedAt,
    };
    const adapter = ADAPTERS[connection.provider];
    let result: AdapterResult;
    try {
      result = await adapter.handle(input, { connection, decide: this.deciderFor(connection), toleranceSeconds: this.ctx.env.TELEPHONY_WEBHOOK_TOLERANCE_S, now: receivedAt });
    } catch (err) {
      this.ctx.logger.warn({ err, connectionId: connection.id, provider: connection.provider }, 'adapter threw on a webhook; answered malformed');
      result = { outcome: 'malformed', answer: problemAnswer(400, 'malformed', 'the request could not be read'), deliveryId: '', events: [] };
    }
    if (result.outcome !== 'accepted' || result.events.length === 0) {
      const outcome = result.outcome === 'accepted' ? 'ignored' : result.outcome;
      return this.finish(req, connection, outcome, result.answer, started);
    }

    // Whose number was dialed: another tenant's is refused, an unregistered one is kept without attribution.
    let outcome: Outcome = 'accepted';
    const dialed = [...new Set(result.events.filter((e) => e.direction === 'inbound' && e.dialed).map((e) => e.dialed!))];
    for (const phone of dialed) {
      const number = await findActiveNumber(read, phone);
      if (number && number.tenantId !== connection.tenantId) {
        return this.finish(req, connection, 'foreign_number', problemAnswer(REFUSAL_STATUS.foreign_number, 'foreign_number', 'the dialed number is not one of this connection\'s tenant'), started, { dialed: phone });
      }
      if (!number) outcome = 'unknown_number';
    }

    const deliveryId = (result.deliveryId || `sha256:${createHash('sha256').update(`${input.method} ${input.path}?${input.query}\n`).update(input.body).digest('hex')}`).slice(0, 500);
    const stored = await (em ? this.store(em, connection, input, deliveryId, result.events) : this.ctx.orm.em.fork().transactional((tx) => this.store(tx, connection, input, deliveryId, result.events)));
    if (!stored) outcome = 'duplicate';
    if (outcome === 'unknown_number') this.ctx.logger.warn({ connectionId: connection.id, provider: connection.provider, dialed }, 'webhook for a number not in the registry; kept without attribution');
    return this.finish(req, connection, outcome, result.answer, started, undefined, STORED.has(outcome));
  };

  /** Inserts the delivery and its job; false when the delivery was already stored. */
  private async store(em: EntityManager, connection: ConnectionRow, input: WebhookInput, deliveryId: string, events: NormalizedCallEvent[]): Promise<boolean> {
    const id = uuidv7();
    const rows = await em.execute<{ id: string }[]>(
      `INSERT INTO webhook_events (id, tenant_id, connection_id, provider, delivery_id, path, method, headers, body, query, url, remote_ip, received_at, events)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?::jsonb)
       ON CONFLICT (connection_id, delivery_id) DO NOTHING RETURNING id`,
      [id, connection.tenantId, connection.id, connection.provider, deliveryId, input.path, input.method, JSON.stringify(input.headers), input.body, input.query, input.url, input.remoteIp, input.receivedAt, JSON.stringify(events)],
    );
    if (!rows.length) return false;
    await enqueueProcessWebhook(em, { tenantId: connection.tenantId, webhookEventId: id }, { connectionId: connection.id, providerCallId: events[0].providerCallId });
    return true;
  }

  /** The decider as adapters see it: never throws (the connection's fallback when the decision fails). */
  private deciderFor(connection: ConnectionRow): Decider {
    return async ({ caller, dialed, providerCallId }) => {
      try {
        return await this.decider.decide({ connectionId: connection.id, caller, dialed, providerCallId });
      } catch (err) {
        this.ctx.logger.warn({ err, connectionId: connection.id, providerCallId }, 'decision failed; answering the fallback');
        return fallbackDecision(connection);
      }
    };
  }

  private finish(req: ReceiveRequest, connection: ConnectionRow | undefined, outcome: Outcome, answer: { status: number; contentType: string; body: string | Buffer }, started: number, extra?: Record<string, unknown>, stored = false): ReceiveResponse {
    const provider = connection?.provider ?? 'unknown';
    this.counter.add(1, { provider, outcome });
    const refused = !['accepted', 'duplicate', 'ignored', 'unknown_number'].includes(outcome);
    if (refused) {
      this.ctx.logger.warn({ connectionId: req.connectionId, provider, outcome, path: req.path, remoteIp: req.remoteIp, status: answer.status, ...extra }, 'webhook refused');
    } else {
      this.ctx.logger.debug({ connectionId: req.connectionId, provider, outcome, stored, ms: Date.now() - started }, 'webhook received');
    }
    return { status: answer.status, contentType: answer.contentType, body: Buffer.isBuffer(answer.body) ? answer.body : Buffer.from(answer.body, 'utf8'), outcome };
  }
}

/** What a PBX is told when no decision could be made: the connection's fallback target. */
export function fallbackDecision(connection: ConnectionRow): DecideResponse {
  return { extensions: [], userIds: [], queue: '', departmentId: '', decidedBy: 'fallback', fallback: true, fallbackTarget: connection.fallbackTarget, requestId: '' };
}

function lowerCased(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}
