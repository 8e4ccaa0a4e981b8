/**
 * The self-hosted SIP path: the Kamailio configuration shipped in deploy/kamailio/ talks to us with two
 * signed JSON POSTs to the connection's webhook URL:
 *
 *   /route  {call_id, caller, dialed, domain?}        on a new INVITE; answered at once with where to
 *           relay it: {target: "sip:<ext>@<domain>", extensions, user_ids, queue, fallback, fallback_target}
 *           (target "" when nobody and no fallback: Kamailio answers 480)
 *   /state  {call_id, event, caller, dialed, extension, code, ts}   event = ringing (180/183),
 *           answered (200 OK), ended (BYE), missed (486 busy, 487 canceled, 408/480 no answer, others failed)
 *
 * Kamailio 5.6 has no HMAC in its config language, so the signature is an envelope hash with the
 * connection's signing secret: header `x-crm-signature: t=<unix seconds>,v1=<hex SHA-256(secret + "." +
 * t + "." + body + "." + secret)>` (the secret on both sides defeats length extension). `t` further than
 * TELEPHONY_WEBHOOK_TOLERANCE_S from when the gateway received it: 409 `stale_timestamp`; a wrong or
 * missing signature: 401 `bad_signature` (the previous secret verifies for 24 h after a rotation).
 * The SIP Call-ID is the provider call id; one event of each kind per call (`<call id>:<event>`), so a
 * retransmitted report is a duplicate.
 */
import { createHash } from 'node:crypto';
import type { DecideResponse } from '@crm/contracts/crm/telephony/v1/telephony';
import type { ConnectionRow, Disposition, NormalizedCallEvent } from '../../calls/model';
import { accept, e164, jsonAnswer, refuse, safeEqual } from '../../webhooks/kit';
import type { Adapter, AdapterContext, AdapterResult, WebhookInput } from '../types';

export const KAMAILIO_EVENTS = ['ringing', 'answered', 'ended', 'missed'] as const;
type KamailioEvent = (typeof KAMAILIO_EVENTS)[number];

export interface KamailioRoute {
  call_id: string;
  caller?: string;
  dialed?: string;
  /** The SIP domain the extension's URI is built in (Kamailio sends its own). */
  domain?: string;
}

export interface KamailioState {
  call_id: string;
  event: KamailioEvent;
  caller?: string;
  dialed?: string;
  /** The extension rung / answered (the R-URI user Kamailio relayed to). */
  extension?: string;
  /** The SIP status that made the event (180, 200, 486, 487, 408…). */
  code?: number | string;
  /** Unix seconds when Kamailio saw it. */
  ts?: number | string;
}

/** The envelope hash Kamailio sends (lower-case hex). */
export function kamailioDigest(secret: string, timestamp: number | string, body: string | Buffer): string {
  return createHash('sha256').update(`${secret}.${timestamp}.`).update(body).update(`.${secret}`).digest('hex');
}

/** The `x-crm-signature` header value for a body (Kamailio's side; tests and the benchmark use it). */
export function signKamailio(secret: string, timestamp: number | string, body: string | Buffer): string {
  return `t=${timestamp},v1=${kamailioDigest(secret, timestamp, body)}`;
}

const CALL_ID_RE = /^[\x21-\x7e]{1,200}$/;
const EXT_RE = /^[0-9A-Za-z_.+-]{1,32}$/;
const DOMAIN_RE = /^[A-Za-z0-9.:[\]_-]{1,255}$/;

function verify(input: WebhookInput, ctx: AdapterContext): AdapterResult | undefined {
  const header = input.headers['x-crm-signature'] ?? '';
  const m = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header.trim());
  if (!m) return refuse('bad_signature', 'x-crm-signature is missing or malformed (t=<unix seconds>,v1=<hex sha256>)');
  const t = Number(m[1]);
  const ok = ctx.connection.signingSecrets.some((s) => safeEqual(kamailioDigest(s, m[1]!, input.body), m[2]!));
  if (!ok) return refuse('bad_signature', 'the signature does not match the connection secret');
  if (Math.abs(input.receivedAt.getTime() / 1000 - t) > ctx.toleranceSeconds) return refuse('stale_timestamp', `t is more than ${ctx.toleranceSeconds} s from now`);
  return undefined;
}

function parseJson(body: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown, max: number): string | undefined => (typeof v === 'string' && v.length <= max ? v : undefined);

/** Where Kamailio relays: the first extension, or the fallback target (an extension or a phone). */
export function routeAnswer(d: DecideResponse, domain: string): Record<string, unknown> {
  const first = d.extensions[0];
  const fallback = d.fallbackTarget.trim();
  const user = first ?? (fallback && (EXT_RE.test(fallback) || /^\+\d{7,15}$/.test(fallback)) ? fallback : '');
  return {
    target: user ? `sip:${user}@${domain}` : '',
    extensions: d.extensions,
    user_ids: d.userIds,
    queue: d.queue,
    decided_by: d.decidedBy,
    fallback: d.fallback,
    fallback_target: d.fallbackTarget,
  };
}

function disposition(code: number): Disposition {
  if (code === 486 || code === 600) return 'busy';
  if (code === 487) return 'canceled';
  if (code === 408 || code === 480 || code === 0) return 'no_answer';
  return 'failed';
}

function stateEvents(s: Record<string, unknown>, receivedAt: Date): NormalizedCallEvent[] | undefined {
  const callId = str(s.call_id, 200);
  const event = s.event as KamailioEvent;
  if (!callId || !CALL_ID_RE.test(callId) || !KAMAILIO_EVENTS.includes(event)) return undefined;
  const ext = str(s.extension, 64);
  const extension = ext && EXT_RE.test(ext) ? ext : undefined;
  const ts = Number(s.ts);
  const at = Number.isFinite(ts) && ts > 1e9 && ts < 1e11 ? new Date(ts * 1000).toISOString() : receivedAt.toISOString();
  const code = Number(s.code ?? 0) || 0;
  const ev: NormalizedCallEvent = {
    kind: event,
    providerCallId: callId,
    providerEventId: `${callId}:${event}`,
    at,
    direction: 'inbound',
    caller: e164(str(s.caller, 64)),
    dialed: e164(str(s.dialed, 64)),
  };
  if (event === 'ringing' && extension) ev.extensions = [extension];
  if (event === 'answered' && extension) ev.extension = extension;
  if (event === 'ended') ev.disposition = 'answered';
  if (event === 'missed') ev.disposition = disposition(code);
  for (const k of Object.keys(ev) as (keyof NormalizedCallEvent)[]) if (ev[k] === undefined) delete ev[k];
  return [ev];
}

const pathOf = (p: string) => p.replace(/\/+$/, '');

export const kamailioAdapter: Adapter = {
  provider: 'kamailio',

  async handle(input, ctx) {
    const path = pathOf(input.path);
    if (path !== '/route' && path !== '/state') return refuse('wrong_provider', 'a kamailio connection takes POST /route and /state');
    if (input.method.toUpperCase() !== 'POST') return refuse('malformed', 'POST only');
    const refused = verify(input, ctx);
    if (refused) return refused;
    const body = parseJson(input.body);
    if (!body) return refuse('malformed', 'the body is not a JSON object');
    if (path === '/route') {
      const callId = str(body.call_id, 200);
      if (!callId || !CALL_ID_RE.test(callId)) return refuse('malformed', 'call_id is required (the SIP Call-ID, at most 200 characters)');
      const domainRaw = str(body.domain, 255);
      const domain = domainRaw && DOMAIN_RE.test(domainRaw) ? domainRaw : 'localhost';
      const decision = await ctx.decide({ caller: str(body.caller, 64) ?? '', dialed: str(body.dialed, 64) ?? '', providerCallId: callId });
      return { outcome: 'ignored', answer: jsonAnswer(routeAnswer(decision, domain)), deliveryId: '', events: [] };
    }
    const events = stateEvents(body, input.receivedAt);
    if (!events) return refuse('malformed', `call_id and event (${KAMAILIO_EVENTS.join(', ')}) are required`);
    return accept(events[0]!.providerEventId, events);
  },

  parse(input: WebhookInput, connection: ConnectionRow): NormalizedCallEvent[] {
    void connection;
    if (pathOf(input.path) !== '/state') return [];
    const body = parseJson(input.body);
    return (body && stateEvents(body, input.receivedAt)) ?? [];
  },
};
