/**
 * The generic signed webhook of Sales 2.0, for any PBX or middleware (Standard Webhooks style,
 * https://www.standardwebhooks.com/): POST /webhooks/telephony/{connection_id} with
 *
 *   webhook-id:        the delivery's id (idempotency: a repeat is a 2xx `duplicate`)
 *   webhook-timestamp: Unix seconds; refused (409 `stale_timestamp`) when further than
 *                      TELEPHONY_WEBHOOK_TOLERANCE_S from when the gateway received it
 *   webhook-signature: space-separated `v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>`;
 *                      key = base64-decoded part after `whsec_` of the connection's signing secret (the
 *                      previous secret stays valid 24 h after a rotation); compared in constant time
 *
 * and a JSON body (GenericCallEvent below). The same document is in the gateway's OpenAPI
 * (`GenericCallEvent`, tag `webhooks`).
 */
import { createHmac } from 'node:crypto';
import type { CallEventKind, ConnectionRow, Direction, Disposition, NormalizedCallEvent } from '../../calls/model';
import { accept, e164, ignore, isRfc3339, refuse, safeEqual } from '../../webhooks/kit';
import type { Adapter, AdapterResult, WebhookInput } from '../types';

export const GENERIC_TYPES = ['call.ringing', 'call.answered', 'call.transferred', 'call.ended', 'call.missed', 'call.recording_ready'] as const;
export type GenericType = (typeof GENERIC_TYPES)[number];
const DISPOSITIONS: readonly Disposition[] = ['answered', 'no_answer', 'busy', 'failed', 'canceled'];

/** The JSON body of the generic webhook. */
export interface GenericCallEvent {
  type: GenericType;
  /** The PBX's id of the whole call (1..200 characters). */
  call_id: string;
  /** Unique per event within the connection; `webhook-id` when absent. */
  event_id?: string;
  /** RFC 3339. */
  at: string;
  /** The PBX's order of events within the call (later wins). */
  seq?: number;
  direction?: Direction;
  caller?: string;
  callee?: string;
  dialed?: string;
  extensions?: string[];
  extension?: string;
  disposition?: Disposition;
  duration_seconds?: number;
  talk_seconds?: number;
  transfer_to?: { extension?: string; phone?: string };
  recording_url?: string;
}

/** The signature header value for a body (the PBX's side; tests and the peers use it too). */
export function signGeneric(secret: string, id: string, timestamp: number | string, body: string | Buffer): string {
  return `v1,${createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64')}`;
}

/** `whsec_<base64>` → its bytes; any other string is used as it is (UTF-8). */
export function secretKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
}

const KIND: Record<GenericType, CallEventKind> = {
  'call.ringing': 'ringing',
  'call.answered': 'answered',
  'call.transferred': 'transferred',
  'call.ended': 'ended',
  'call.missed': 'missed',
  'call.recording_ready': 'recording_ready',
};

/** Another provider's request sent to a generic connection (its own signature header or form fields). */
function looksLikeOtherProvider(input: WebhookInput): boolean {
  const h = input.headers;
  if (h['x-twilio-signature'] || h['signature']) return true;
  const ct = (h['content-type'] ?? '').toLowerCase();
  if (ct.includes('application/x-www-form-urlencoded')) return true;
  return /(^|&)(zd_echo|vpbx_api_key)=/.test(input.query) || input.body.subarray(0, 64).toString('latin1').startsWith('vpbx_api_key=');
}

function verify(input: WebhookInput, connection: ConnectionRow, toleranceSeconds: number): AdapterResult | undefined {
  const id = input.headers['webhook-id'];
  const ts = input.headers['webhook-timestamp'];
  const sig = input.headers['webhook-signature'];
  if (!id || !ts || !sig) {
    if (looksLikeOtherProvider(input)) return refuse('wrong_provider', 'not a generic webhook: webhook-id, webhook-timestamp and webhook-signature are required');
    return refuse('bad_signature', 'webhook-id, webhook-timestamp and webhook-signature headers are required');
  }
  if (!/^\d{1,12}$/.test(ts)) return refuse('bad_signature', 'webhook-timestamp must be Unix seconds');
  if (id.length > 200) return refuse('malformed', 'webhook-id is longer than 200 characters');
  const offered = sig
    .split(' ')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1,'));
  let ok = false;
  for (const secret of connection.signingSecrets) {
    const expected = signGeneric(secret, id, ts, input.body);
    // every pair is compared (no early exit that would tell which secret matched)
    for (const o of offered) ok = safeEqual(o, expected) || ok;
  }
  if (!ok) return refuse('bad_signature', 'no webhook-signature matches the connection\'s signing secret');
  const skew = Math.abs(input.receivedAt.getTime() / 1000 - Number(ts));
  if (skew > toleranceSeconds) return refuse('stale_timestamp', `webhook-timestamp is ${Math.round(skew)} s from the time received (tolerance ${toleranceSeconds} s)`);
  return undefined;
}

/** Problems of a parsed body (empty when it is a valid GenericCallEvent). */
export function genericProblems(b: unknown): string[] {
  if (!b || typeof b !== 'object' || Array.isArray(b)) return ['the body must be a JSON object'];
  const o = b as Record<string, unknown>;
  const p: string[] = [];
  const str = (k: string, max = 200) => {
    if (o[k] !== undefined && o[k] !== null && (typeof o[k] !== 'string' || (o[k] as string).length > max)) p.push(`${k} must be a string of at most ${max} characters`);
  };
  const int = (k: string) => {
    if (o[k] !== undefined && o[k] !== null && !(Number.isInteger(o[k]) && (o[k] as number) >= 0 && (o[k] as number) <= 2 ** 31)) p.push(`${k} must be a non-negative integer`);
  };
  if (typeof o.type !== 'string') p.push('type is required');
  if (typeof o.call_id !== 'string' || !o.call_id || o.call_id.length > 200) p.push('call_id must be a string of 1..200 characters');
  if (!isRfc3339(o.at)) p.push('at must be an RFC 3339 date-time');
  str('event_id');
  for (const k of ['caller', 'callee', 'dialed', 'extension']) str(k, 64);
  str('recording_url', 2000);
  int('seq');
  int('duration_seconds');
  int('talk_seconds');
  if (o.direction !== undefined && o.direction !== 'inbound' && o.direction !== 'outbound') p.push('direction must be inbound or outbound');
  if (o.disposition !== undefined && !DISPOSITIONS.includes(o.disposition as Disposition)) p.push(`disposition must be one of ${DISPOSITIONS.join(', ')}`);
  if (o.extensions !== undefined && !(Array.isArray(o.extensions) && o.extensions.length <= 50 && o.extensions.every((e) => typeof e === 'string' && e.length <= 32))) p.push('extensions must be at most 50 strings');
  if (o.transfer_to !== undefined) {
    const t = o.transfer_to as Record<string, unknown> | null;
    if (!t || typeof t !== 'object' || Array.isArray(t) || (t.extension !== undefined && typeof t.extension !== 'string') || (t.phone !== undefined && typeof t.phone !== 'string')) p.push('transfer_to must be {extension?, phone?}');
  }
  if (o.type === 'call.recording_ready' && typeof o.recording_url !== 'string') p.push('recording_url is required for call.recording_ready');
  return p;
}

function toEvent(o: GenericCallEvent, deliveryId: string): NormalizedCallEvent {
  const direction = o.direction ?? 'inbound';
  const kind = KIND[o.type];
  return {
    kind,
    providerCallId: o.call_id,
    providerEventId: o.event_id || deliveryId,
    at: new Date(o.at).toISOString(),
    ...(o.seq !== undefined ? { seq: o.seq } : {}),
    direction,
    caller: e164(o.caller),
    callee: e164(o.callee),
    dialed: e164(o.dialed ?? (direction === 'inbound' ? o.callee : undefined)),
    ...(o.extensions ? { extensions: o.extensions } : {}),
    ...(o.extension ? { extension: o.extension } : {}),
    ...(o.disposition ? { disposition: o.disposition } : kind === 'missed' ? { disposition: 'no_answer' as const } : {}),
    ...(o.duration_seconds !== undefined ? { durationSeconds: o.duration_seconds } : {}),
    ...(o.talk_seconds !== undefined ? { talkSeconds: o.talk_seconds } : {}),
    ...(o.transfer_to ? { transferTo: { ...(o.transfer_to.extension ? { extension: o.transfer_to.extension } : {}), ...(o.transfer_to.phone ? { phone: e164(o.transfer_to.phone) } : {}) } } : {}),
    ...(o.recording_url ? { recording: { url: o.recording_url } } : {}),
  };
}

function parseBody(body: Buffer): { value?: unknown; problem?: string } {
  try {
    return { value: JSON.parse(body.toString('utf8')) };
  } catch {
    return { problem: 'the body is not JSON' };
  }
}

export const genericAdapter: Adapter = {
  provider: 'generic',
  async handle(input, ctx) {
    if (input.method !== 'POST') return refuse('malformed', 'the generic webhook is POST only');
    const refused = verify(input, ctx.connection, ctx.toleranceSeconds);
    if (refused) return refused;
    const deliveryId = input.headers['webhook-id'];
    const parsed = parseBody(input.body);
    if (parsed.problem) return refuse('malformed', parsed.problem);
    const problems = genericProblems(parsed.value);
    if (problems.length) return refuse('malformed', problems.join('; '));
    const o = parsed.value as GenericCallEvent;
    if (!(GENERIC_TYPES as readonly string[]).includes(o.type)) return ignore();
    return accept(deliveryId, [toEvent(o, deliveryId)]);
  },
  parse(input) {
    const parsed = parseBody(input.body);
    if (parsed.problem || genericProblems(parsed.value).length) return [];
    const o = parsed.value as GenericCallEvent;
    if (!(GENERIC_TYPES as readonly string[]).includes(o.type)) return [];
    return [toEvent(o, input.headers['webhook-id'] ?? '')];
  },
};
