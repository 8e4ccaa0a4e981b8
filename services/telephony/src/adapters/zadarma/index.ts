import { DomainError } from '@crm/errors';
import type { ConnectionRow, Disposition, NormalizedCallEvent } from '../../calls/model';
import type { Adapter, AdapterContext, AdapterResult, HttpAnswer, WebhookInput } from '../types';
import { providerRequest } from '../../http/provider-client';
import { problemAnswer } from '../../webhooks/kit';
import { apiAuthorization, apiQuery, notificationSignature, sameSignature } from './signature';

/**
 * Zadarma (zadarma/user-api-v1 lib/Webhook/*, zadarma.com/en/support/api): form-encoded NOTIFY_* POSTs,
 * each signed in the `Signature` header over its own fields (signature.ts); `GET ?zd_echo=X` is the URL
 * check and answers X before any signature. NOTIFY_START and NOTIFY_IVR are answered synchronously with
 * `{"redirect": <extension>}` from the decision; when the decision fails or is late the answer is `{}`
 * (the PBX's own scenario routes the call).
 *
 * Zadarma has no event ids: a delivery is identified by event + pbx_call_id + call_start + the event's
 * distinguishing field (internal, destination, disposition, call_id_with_rec), so a repeat is a duplicate.
 * `call_start` is a wall-clock time of the account's zone (the URL's `tz` parameter, see callStartInstant);
 * an event's time is call_start (+ `duration` for an END), and the order within a call comes from the
 * event type (`seq`), so late or repeated events fold to the same call.
 */

const JSON_TYPE = 'application/json';
const text = (status: number, body: string): HttpAnswer => ({ status, contentType: 'text/plain; charset=utf-8', body });
const json = (body: unknown): HttpAnswer => ({ status: 200, contentType: JSON_TYPE, body: JSON.stringify(body) });

/** The order of a call's notifications (NormalizedCallEvent.seq). */
const SEQ: Record<string, number> = { NOTIFY_START: 1, NOTIFY_OUT_START: 1, NOTIFY_IVR: 2, NOTIFY_INTERNAL: 3, NOTIFY_ANSWER: 4, NOTIFY_END: 5, NOTIFY_OUT_END: 5, NOTIFY_RECORD: 6 };
const EVENTS = new Set(Object.keys(SEQ));
/** Zadarma's `redirect`: an extension (digits), a scenario `0-1`, a menu `0-main`, or `blacklist`. */
const REDIRECT = /^(\d{1,10}|\d+-\d+|\d+-main)$/;
/** How long a synchronous answer waits for the decision at most (the decider has its own, shorter, deadline). */
const DECIDE_CAP_MS = 800;
/** Where Zadarma's recording links point besides the connection's API host. */
const ZADARMA_HOSTS = ['api.zadarma.com', 'zadarma.com', 'my.zadarma.com'];
const RECORDING_MAX_BYTES = 50 * 1024 * 1024;

export function parseForm(body: Buffer | string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'))) if (!(k in out)) out[k] = v;
  return out;
}

/** A Zadarma number (`79161234567`, `+7 916…`) as E.164; an extension (`100`) or anything else as given. */
export function zadarmaParty(raw: string | undefined): string | undefined {
  const s = (raw ?? '').trim();
  if (!s) return undefined;
  const digits = s.replace(/[\s()-]/g, '');
  if (/^\+?\d{8,15}$/.test(digits)) return `+${digits.replace(/^\+/, '')}`;
  return s;
}

const WALL = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/;

/** The offset (ms, east positive) of an IANA zone at an instant. */
function zoneOffset(zone: string, at: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(at));
  const v = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return Date.UTC(v('year'), v('month') - 1, v('day'), v('hour'), v('minute'), v('second')) - Math.floor(at / 1000) * 1000;
}

/** A valid IANA zone name, or undefined. */
export function zadarmaZone(raw: string | null | undefined): string | undefined {
  if (!raw) return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: raw });
    return raw;
  } catch {
    return undefined;
  }
}

/**
 * `call_start` as an instant. Zadarma writes it as a wall-clock time of the account's time zone without
 * an offset: the zone is the `tz` query parameter of the notification URL configured in Zadarma
 * (`…/webhooks/telephony/{id}?tz=Europe/Moscow`), UTC without one. An ISO time with an offset is taken
 * as is; anything else is undefined.
 */
export function callStartInstant(callStart: string | undefined, zone: string | undefined): Date | undefined {
  const s = (callStart ?? '').trim();
  const m = WALL.exec(s);
  if (!m) {
    if (/[zZ]|[+-]\d{2}:?\d{2}$/.test(s)) {
      const t = Date.parse(s);
      return Number.isNaN(t) ? undefined : new Date(t);
    }
    return undefined;
  }
  const naive = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  if (Number.isNaN(naive)) return undefined;
  if (!zone) return new Date(naive);
  // Twice: the offset at the first guess may differ across a DST change.
  const first = naive - zoneOffset(zone, naive);
  return new Date(naive - zoneOffset(zone, first));
}

function disposition(raw: string | undefined): Disposition {
  switch ((raw ?? '').trim().toLowerCase()) {
    case 'answered':
      return 'answered';
    case 'busy':
      return 'busy';
    case 'cancel':
    case 'canceled':
    case 'cancelled':
      return 'canceled';
    case 'no answer':
    case 'noanswer':
    case 'no_answer':
      return 'no_answer';
    default:
      return 'failed';
  }
}

const int = (s: string | undefined): number | undefined => (s && /^\d+$/.test(s.trim()) ? Number(s.trim()) : undefined);

/** The delivery id: what makes this notification unique within its call. */
export function zadarmaDeliveryId(f: Readonly<Record<string, string>>): string {
  const event = f.event ?? '';
  const extra =
    event === 'NOTIFY_INTERNAL' ? f.internal
    : event === 'NOTIFY_ANSWER' ? `${f.internal ?? ''}:${f.destination ?? ''}`
    : event === 'NOTIFY_END' || event === 'NOTIFY_OUT_END' ? `${f.disposition ?? ''}:${f.internal ?? ''}`
    : event === 'NOTIFY_OUT_START' ? `${f.internal ?? ''}:${f.destination ?? ''}`
    : event === 'NOTIFY_RECORD' ? f.call_id_with_rec
    : event === 'NOTIFY_IVR' ? Object.keys(f).filter((k) => k.startsWith('wait_dtmf')).sort().map((k) => `${k}=${f[k]}`).join('&')
    : '';
  return ['zadarma', event, f.pbx_call_id ?? '', f.call_start ?? '', extra ?? ''].join(':');
}

/** The normalised events of one verified notification (no decision: `extensions` added by handle). */
export function zadarmaEvents(f: Readonly<Record<string, string>>, receivedAt: Date, zone?: string): NormalizedCallEvent[] {
  const event = f.event ?? '';
  const providerCallId = (f.pbx_call_id ?? '').trim();
  if (!providerCallId || !EVENTS.has(event)) return [];
  const duration = int(f.duration);
  const ending = event === 'NOTIFY_END' || event === 'NOTIFY_OUT_END';
  const at = (event === 'NOTIFY_RECORD' ? receivedAt : callStartInstant(f.call_start, zone)) ?? receivedAt;
  const base = {
    providerCallId,
    providerEventId: zadarmaDeliveryId(f),
    at: new Date(at.getTime() + (ending ? (duration ?? 0) * 1000 : 0)).toISOString(),
    seq: SEQ[event],
  };
  const internal = f.internal?.trim() || undefined;
  switch (event) {
    case 'NOTIFY_START':
    case 'NOTIFY_IVR':
      return [{ ...base, kind: 'ringing', direction: 'inbound', caller: zadarmaParty(f.caller_id), dialed: zadarmaParty(f.called_did) }];
    case 'NOTIFY_INTERNAL':
      return [{ ...base, kind: 'ringing', direction: 'inbound', caller: zadarmaParty(f.caller_id), dialed: zadarmaParty(f.called_did), ...(internal ? { extensions: [internal] } : {}) }];
    case 'NOTIFY_ANSWER':
      return [{ ...base, kind: 'answered', direction: 'inbound', caller: zadarmaParty(f.caller_id), ...(internal ? { extension: internal } : {}) }];
    case 'NOTIFY_END': {
      const d = disposition(f.disposition);
      return [
        // An answered END also says the call was answered (a lost NOTIFY_ANSWER must not make it a miss;
        // a real ANSWER, earlier in seq, wins).
        ...(d === 'answered' ? [answeredToo(base, 'inbound', internal, f)] : []),
        {
          ...base,
          kind: d === 'answered' ? 'ended' : 'missed',
          direction: 'inbound',
          caller: zadarmaParty(f.caller_id),
          dialed: zadarmaParty(f.called_did),
          disposition: d,
          ...(duration !== undefined ? { durationSeconds: duration, talkSeconds: d === 'answered' ? duration : 0 } : {}),
          ...(internal ? { extension: internal } : {}),
        },
      ];
    }
    case 'NOTIFY_OUT_START':
      return [{ ...base, kind: 'ringing', direction: 'outbound', callee: zadarmaParty(f.destination), ...(internal ? { extension: internal, caller: internal } : {}) }];
    case 'NOTIFY_OUT_END': {
      const d = disposition(f.disposition);
      return [
        // Zadarma sends no answer notification of an outbound call: an answered OUT_END is its answer.
        ...(d === 'answered' ? [answeredToo(base, 'outbound', internal, f)] : []),
        {
          ...base,
          kind: 'ended',
          direction: 'outbound',
          callee: zadarmaParty(f.destination),
          disposition: d,
          ...(duration !== undefined ? { durationSeconds: duration, talkSeconds: d === 'answered' ? duration : 0 } : {}),
          ...(internal ? { extension: internal, caller: internal } : {}),
        },
      ];
    }
    case 'NOTIFY_RECORD': {
      const rec = (f.call_id_with_rec ?? '').trim();
      if (!rec) return [];
      // Not a URL yet: downloadRecording asks the API for the link (it lives 30 minutes).
      const url = `zadarma:record?${new URLSearchParams({ call_id: rec, pbx_call_id: providerCallId }).toString()}`;
      return [{ ...base, kind: 'recording_ready', direction: 'inbound', recording: { url, contentType: 'audio/mpeg' } }];
    }
    default:
      return [];
  }
}

/** The `answered` an answered END implies: at the start (Zadarma does not say when), before the END. */
function answeredToo(base: { providerCallId: string; providerEventId: string; at: string; seq?: number }, direction: 'inbound' | 'outbound', internal: string | undefined, f: Readonly<Record<string, string>>): NormalizedCallEvent {
  const start = Date.parse(base.at) - (int(f.duration) ?? 0) * 1000;
  return {
    ...base,
    providerEventId: `${base.providerEventId}:answered`,
    at: new Date(start).toISOString(),
    kind: 'answered',
    direction,
    ...(direction === 'inbound' ? { caller: zadarmaParty(f.caller_id) } : { callee: zadarmaParty(f.destination) }),
    ...(internal ? { extension: internal } : {}),
  };
}

/** Another provider's request sent to a Zadarma connection (a Twilio callback, a Mango or generic webhook). */
function looksForeign(input: WebhookInput, f: Readonly<Record<string, string>>): boolean {
  return Boolean(input.headers['x-twilio-signature'] || input.headers['webhook-signature'] || f.CallSid || f.vpbx_api_key || f.json || /^\s*[{[]/.test(input.body.toString('utf8', 0, 64)));
}

async function decideRedirect(ctx: AdapterContext, caller: string, dialed: string, providerCallId: string): Promise<{ extensions: string[]; answer: Record<string, unknown> }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const d = await Promise.race([
      ctx.decide({ caller, dialed, providerCallId }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('decision timed out')), DECIDE_CAP_MS);
      }),
    ]);
    const target = d.extensions.find((x) => REDIRECT.test(x)) ?? [d.queue, d.fallback ? d.fallbackTarget : '', ctx.connection.fallbackTarget].find((x) => x && REDIRECT.test(x));
    return { extensions: d.extensions, answer: target ? { redirect: target } : {} };
  } catch {
    return { extensions: [], answer: {} };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

async function handle(input: WebhookInput, ctx: AdapterContext): Promise<AdapterResult> {
  // Refusals are problem+json like every adapter's (webhooks/kit.ts), with the outcome as `code`.
  const refuse = (outcome: AdapterResult['outcome'], status: number, why: string): AdapterResult => ({ outcome, answer: problemAnswer(status, outcome, why), deliveryId: '', events: [] });
  const query = new URLSearchParams(input.query);
  // The URL check Zadarma makes when the notification URL is saved: echo before any signature.
  if (query.has('zd_echo')) return { outcome: 'ignored', answer: text(200, query.get('zd_echo') ?? ''), deliveryId: '', events: [] };
  if (input.method.toUpperCase() !== 'POST') return refuse('malformed', 400, 'zadarma: notifications are POSTs');
  const f = parseForm(input.body);
  if (!f.event) return looksForeign(input, f) ? refuse('wrong_provider', 400, 'not a Zadarma notification') : refuse('malformed', 400, 'zadarma: no event');
  const signature = input.headers.signature ?? '';
  const expected = notificationSignature(ctx.connection.secret, f);
  // An event we do not know (SMS, speech recognition…) is acknowledged and left alone.
  if (!expected) return { outcome: 'ignored', answer: json({}), deliveryId: '', events: [] };
  if (!signature || !ctx.connection.secret || !sameSignature(signature.trim(), expected)) return refuse('bad_signature', 401, 'zadarma: wrong signature');
  const events = zadarmaEvents(f, input.receivedAt, zadarmaZone(query.get('tz')));
  if (!events.length) return refuse('malformed', 400, 'zadarma: no pbx_call_id');
  const deliveryId = zadarmaDeliveryId(f);
  if (f.event === 'NOTIFY_START' || f.event === 'NOTIFY_IVR') {
    const ringing = events[0]!;
    const { extensions, answer } = await decideRedirect(ctx, ringing.caller ?? '', ringing.dialed ?? '', ringing.providerCallId);
    if (extensions.length) ringing.extensions = extensions;
    return { outcome: 'accepted', answer: json(answer), deliveryId, events };
  }
  return { outcome: 'accepted', answer: json({}), deliveryId, events };
}

function parse(input: WebhookInput): NormalizedCallEvent[] {
  if (input.method.toUpperCase() !== 'POST') return [];
  return zadarmaEvents(parseForm(input.body), input.receivedAt, zadarmaZone(new URLSearchParams(input.query).get('tz')));
}

function apiBase(connection: ConnectionRow): string {
  return (connection.apiBaseUrl || 'https://api.zadarma.com').replace(/\/+$/, '');
}

const unavailable = (details: Record<string, unknown>, cause?: unknown) => new DomainError('UNAVAILABLE', 'provider_unavailable', { details: { provider: 'zadarma', ...details }, cause });

/** A signed GET of the API (`method` like `/v1/request/callback/`); the JSON answer, or an UNAVAILABLE error. */
export async function zadarmaApiGet(connection: ConnectionRow, method: string, params: Record<string, string>): Promise<Record<string, unknown>> {
  const all = { ...params, format: 'json' };
  const res = await providerRequest({
    method: 'GET',
    baseUrl: apiBase(connection),
    path: `${method}?${apiQuery(all)}`,
    headers: { authorization: apiAuthorization(connection.account, connection.secret, method, all) },
    // A callback request rings a phone: never twice.
    idempotent: method !== '/v1/request/callback/',
  }).catch((err: unknown) => {
    throw unavailable({ method }, err);
  });
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    /* not JSON: refused below */
  }
  if (body.status !== 'success') throw unavailable({ method, message: String(body.message ?? '') });
  return body;
}

export const zadarmaAdapter: Adapter = {
  provider: 'zadarma',
  handle: async (input, ctx) => {
    try {
      return await handle(input, ctx);
    } catch {
      return { outcome: 'malformed', answer: problemAnswer(400, 'malformed', 'zadarma: unreadable notification'), deliveryId: '', events: [] };
    }
  },
  parse: (input) => parse(input),
  /**
   * Click-to-call: `GET /v1/request/callback/?from=<extension>&to=<phone>` — Zadarma rings the extension,
   * then the phone. The answer carries no call id (the call's NOTIFY_OUT_* bring its pbx_call_id), so the
   * id returned is `callback:<from>:<to>:<time>`.
   */
  originate: async (connection, call) => {
    const to = call.phone.replace(/\D/g, '');
    const body = await zadarmaApiGet(connection, '/v1/request/callback/', { from: call.extension, to });
    return { providerCallId: `callback:${call.extension}:${to}:${String(body.time ?? Date.now())}` };
  },
  /** `zadarma:record?call_id=…&pbx_call_id=…` → `GET /v1/pbx/record/request/` → its `link` → the file. */
  downloadRecording: async (connection, url) => {
    const params = url.startsWith('zadarma:record?') ? new URLSearchParams(url.slice('zadarma:record?'.length)) : undefined;
    const callId = params?.get('call_id') ?? '';
    if (!callId) throw new DomainError('INVALID_ARGUMENT', 'not a Zadarma recording reference');
    const pbxCallId = params?.get('pbx_call_id') ?? '';
    const body = await zadarmaApiGet(connection, '/v1/pbx/record/request/', { call_id: callId, ...(pbxCallId ? { pbx_call_id: pbxCallId } : {}) });
    const link = typeof body.link === 'string' ? body.link : Array.isArray(body.links) && typeof body.links[0] === 'string' ? body.links[0] : '';
    if (!/^https?:\/\//.test(link)) throw unavailable({ reason: 'no link' });
    const file = await providerRequest({ method: 'GET', baseUrl: apiBase(connection), path: link, allowedHosts: ZADARMA_HOSTS, maxBytes: RECORDING_MAX_BYTES }).catch((err: unknown) => {
      throw unavailable({ reason: 'download' }, err);
    });
    return { contentType: file.contentType.split(';')[0]?.trim() || 'audio/mpeg', data: file.body };
  },
};
