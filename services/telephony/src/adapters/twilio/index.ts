import { DomainError } from '@crm/errors';
import type { ConnectionRow, Disposition, NormalizedCallEvent } from '../../calls/model';
import type { Adapter, AdapterContext, AdapterResult, HttpAnswer, WebhookInput } from '../types';
import { providerRequest } from '../../http/provider-client';
import { problemAnswer } from '../../webhooks/kit';
import { verifyTwilio } from './signature';

/**
 * Twilio Voice (twilio.com/docs/voice): form-encoded requests signed with `X-Twilio-Signature` over the
 * URL it called (WebhookInput.url) and the sorted parameters. Paths after /webhooks/telephony/{id}:
 * - `/voice` — the number's voice URL: a ringing event and, from the decision, TwiML
 *   `<Dial><Client>ext</Client>…</Dial>` (`<Number>` for a phone; a queue: `<Enqueue>`, which is how a
 *   caller joins a Twilio queue — `<Dial><Queue>` is the agent's side). Fallback target on error.
 * - `/status` (or empty) — the call's status callback: inbound ringing/completed and the unanswered
 *   statuses (busy, no-answer, canceled, failed); our originated calls (`outbound-api`, query `to`).
 * - `/leg?dir=inbound|outbound[&xfer=1][&ext=…]` — the status callback of the legs our TwiML dials
 *   (`ParentCallSid` is the call): who rang and who answered; a leg of a transfer is a `transferred`.
 * - `/dial` — the `<Dial action>` / `<Enqueue action>`: `DialCallStatus` / `QueueResult` say whether the
 *   caller was connected; not connected is a missed call.
 * - `/recording` — recording status callbacks (`RecordingStatus=completed` → recording_ready).
 * The call id is the parent CallSid; the delivery id is path + CallSid + CallStatus + SequenceNumber
 * (or Timestamp). Status callbacks are answered 204, TwiML as text/xml.
 */

const XML = 'text/xml; charset=utf-8';
const twiml = (inner: string): HttpAnswer => ({ status: 200, contentType: XML, body: `<?xml version="1.0" encoding="UTF-8"?><Response>${inner}</Response>` });
const noContent: HttpAnswer = { status: 204, contentType: 'text/plain; charset=utf-8', body: '' };
const DECIDE_CAP_MS = 800;
const E164 = /^\+\d{8,15}$/;
const LEG_EVENTS = 'initiated ringing answered completed';

export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** `client:alice` → `alice` (an extension); a phone stays a phone. */
export function twilioParty(raw: string | undefined): string | undefined {
  const s = (raw ?? '').trim();
  if (!s) return undefined;
  if (s.startsWith('client:')) return s.slice('client:'.length) || undefined;
  if (s.startsWith('sip:')) return s.slice(4).split('@')[0] || undefined;
  return s;
}

const isPhone = (s: string) => E164.test(s);

function disposition(status: string): Disposition | undefined {
  switch (status) {
    case 'busy':
      return 'busy';
    case 'no-answer':
      return 'no_answer';
    case 'canceled':
      return 'canceled';
    case 'failed':
      return 'failed';
    default:
      return undefined;
  }
}

/** The webhook base (…/webhooks/telephony/{id}) of a request, from the URL Twilio called. */
export function baseOf(input: Pick<WebhookInput, 'url' | 'path'>): string {
  const u = new URL(input.url);
  const path = input.path && u.pathname.endsWith(input.path) ? u.pathname.slice(0, u.pathname.length - input.path.length) : u.pathname;
  return `${u.origin}${path.replace(/\/+$/, '')}`;
}

/** Where Twilio must call back for a connection when no request says it (originate, transfer). */
function connectionBase(connection: ConnectionRow): string {
  return `${(process.env.TELEPHONY_PUBLIC_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '')}/webhooks/telephony/${connection.id}`;
}

/** TwiML that rings these extensions together (or a phone), reporting its legs to `/leg`. */
export function dialTwiml(base: string, to: { extensions?: string[]; phone?: string; queue?: string }, opts: { transfer?: boolean; callerId?: string; dialed?: string } = {}): HttpAnswer {
  // The legs' callbacks carry what Twilio's leg parameters do not: the number the caller dialed.
  const legQuery = new URLSearchParams({ dir: 'inbound', ...(opts.transfer ? { xfer: '1' } : {}), ...(opts.dialed ? { dialed: opts.dialed } : {}) });
  const legUrl = xmlEscape(`${base}/leg?${legQuery.toString()}`);
  const action = xmlEscape(`${base}/dial`);
  const leg = `statusCallbackEvent="${LEG_EVENTS}" statusCallback="${legUrl}" statusCallbackMethod="POST"`;
  const callerId = opts.callerId ? ` callerId="${xmlEscape(opts.callerId)}"` : '';
  if (to.extensions?.length) return twiml(`<Dial action="${action}" timeout="30"${callerId}>${to.extensions.map((x) => `<Client ${leg}>${xmlEscape(x)}</Client>`).join('')}</Dial>`);
  if (to.phone) return twiml(`<Dial action="${action}" timeout="30"${callerId}><Number ${leg}>${xmlEscape(to.phone)}</Number></Dial>`);
  if (to.queue) return twiml(`<Enqueue action="${action}">${xmlEscape(to.queue)}</Enqueue>`);
  return twiml('<Reject reason="busy"/>');
}

/** The decision as a Dial target; the connection's fallback target when it fails or is late. */
async function target(ctx: AdapterContext, caller: string, dialed: string, providerCallId: string): Promise<{ extensions?: string[]; phone?: string; queue?: string; decided: string[] }> {
  const fallback = (t: string) => (!t ? {} : isPhone(t) ? { phone: t } : { extensions: [t] });
  let timer: NodeJS.Timeout | undefined;
  try {
    const d = await Promise.race([
      ctx.decide({ caller, dialed, providerCallId }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('decision timed out')), DECIDE_CAP_MS);
      }),
    ]);
    if (d.extensions.length) return { extensions: d.extensions, decided: d.extensions };
    if (d.queue) return { queue: d.queue, decided: [] };
    return { ...fallback(d.fallbackTarget || ctx.connection.fallbackTarget), decided: [] };
  } catch {
    return { ...fallback(ctx.connection.fallbackTarget), decided: [] };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

type Params = Readonly<Record<string, string>>;

function paramsOf(body: Buffer): { list: Array<[string, string]>; p: Record<string, string> } {
  const list = [...new URLSearchParams(body.toString('utf8'))];
  const p: Record<string, string> = {};
  for (const [k, v] of list) if (!(k in p)) p[k] = v;
  return { list, p };
}

const route = (path: string): string => path.replace(/\/+$/, '').toLowerCase() || '/status';

function atOf(p: Params, receivedAt: Date): string {
  const t = p.Timestamp ? Date.parse(p.Timestamp) : NaN;
  return new Date(Number.isNaN(t) ? receivedAt.getTime() : t).toISOString();
}

const int = (s: string | undefined): number | undefined => (s && /^\d+$/.test(s) ? Number(s) : undefined);

/** The delivery id of a request (see the header comment). */
export function twilioDeliveryId(path: string, p: Params): string {
  const r = route(path);
  if (r === '/voice') return `twilio:voice:${p.CallSid ?? ''}`;
  if (r === '/dial') return `twilio:dial:${p.CallSid ?? ''}:${p.DialCallStatus ?? p.QueueResult ?? ''}`;
  if (r === '/recording' || (p.RecordingSid && p.RecordingStatus)) return `twilio:recording:${p.RecordingSid ?? ''}:${p.RecordingStatus ?? ''}`;
  return `twilio:${r.slice(1)}:${p.CallSid ?? ''}:${p.CallStatus ?? ''}:${p.SequenceNumber ?? p.Timestamp ?? ''}`;
}

/** The normalised events of one verified request (`decided`: the extensions the voice answer rings). */
export function twilioEvents(path: string, query: string, p: Params, receivedAt: Date, decided: string[] = []): NormalizedCallEvent[] {
  const r = route(path);
  const q = new URLSearchParams(query);
  const callSid = (p.CallSid ?? '').trim();
  if (!callSid) return [];
  const id = twilioDeliveryId(path, p);
  const at = atOf(p, receivedAt);
  const status = (p.CallStatus ?? '').trim();
  const from = twilioParty(p.From);
  const to = twilioParty(p.To);
  const duration = int(p.CallDuration);
  const out: NormalizedCallEvent[] = [];
  const push = (e: Omit<NormalizedCallEvent, 'providerEventId' | 'at'> & { at?: string }) => out.push({ at, ...e, providerEventId: out.length ? `${id}:${out.length}` : id });

  if (r === '/recording' || (p.RecordingSid && p.RecordingStatus)) {
    if ((p.RecordingStatus ?? '') === 'completed' && p.RecordingUrl) push({ kind: 'recording_ready', providerCallId: (p.ParentCallSid || callSid).trim(), direction: 'inbound', recording: { url: p.RecordingUrl, contentType: 'audio/mpeg' } });
    return out;
  }
  if (r === '/voice') {
    push({ kind: 'ringing', providerCallId: callSid, direction: 'inbound', caller: from, dialed: to, ...(decided.length ? { extensions: decided } : {}) });
    return out;
  }
  if (r === '/dial') {
    const dial = (p.DialCallStatus ?? '').trim();
    const queue = (p.QueueResult ?? '').trim();
    const d = dial ? disposition(dial) : queue && queue !== 'bridged' ? (queue === 'hangup' ? 'canceled' : 'failed') : undefined;
    if (d) push({ kind: 'missed', providerCallId: callSid, direction: 'inbound', caller: from, dialed: to, disposition: d });
    return out;
  }
  if (r === '/leg') {
    const callId = (p.ParentCallSid || callSid).trim();
    const party = to ?? '';
    const asTarget = isPhone(party) ? { phone: party } : { extension: party };
    if (q.get('dir') === 'outbound') {
      const ext = q.get('ext') ?? undefined;
      const mine = { providerCallId: callId, direction: 'outbound' as const, callee: party || undefined, ...(ext ? { extension: ext, caller: ext } : {}) };
      if (status === 'ringing') push({ kind: 'ringing', ...mine });
      else if (status === 'in-progress') push({ kind: 'answered', ...mine });
      else if (disposition(status)) push({ kind: 'ended', ...mine, disposition: disposition(status) });
      return out;
    }
    const transfer = q.get('xfer') === '1';
    const dialedNumber = q.get('dialed') ?? undefined;
    const mine = { providerCallId: callId, direction: 'inbound' as const, ...(from ? { caller: from } : {}), ...(dialedNumber ? { dialed: dialedNumber } : {}) };
    if (status === 'ringing') {
      if (transfer) push({ kind: 'transferred', ...mine, transferTo: asTarget });
      else if (party && !isPhone(party)) push({ kind: 'ringing', ...mine, extensions: [party] });
    } else if (status === 'in-progress') {
      push({ kind: 'answered', ...mine, ...(party && !isPhone(party) ? { extension: party } : {}) });
    }
    return out;
  }
  // The call's own status callback.
  const direction = (p.Direction ?? '').trim();
  if (p.ParentCallSid) return twilioEvents('/leg', 'dir=inbound', p, receivedAt);
  if (direction === 'outbound-api') {
    const ext = to;
    const callee = q.get('to') ?? undefined;
    const mine = { providerCallId: callSid, direction: 'outbound' as const, ...(callee ? { callee } : {}), ...(ext ? { extension: ext, caller: ext } : {}) };
    if (status === 'queued' || status === 'initiated' || status === 'ringing') push({ kind: 'ringing', ...mine });
    else if (status === 'completed') push({ kind: 'ended', ...mine, ...(duration !== undefined ? { durationSeconds: duration } : {}) });
    else if (disposition(status)) push({ kind: 'ended', ...mine, disposition: disposition(status), ...(duration !== undefined ? { durationSeconds: duration } : {}) });
  } else {
    const mine = { providerCallId: callSid, direction: 'inbound' as const, caller: from, dialed: to };
    if (status === 'queued' || status === 'initiated' || status === 'ringing') push({ kind: 'ringing', ...mine });
    else if (status === 'completed') push({ kind: 'ended', ...mine, ...(duration !== undefined ? { durationSeconds: duration } : {}) });
    else if (disposition(status)) push({ kind: 'missed', ...mine, disposition: disposition(status), ...(duration !== undefined ? { durationSeconds: duration } : {}) });
  }
  if (status === 'completed' && p.RecordingUrl) {
    push({ kind: 'recording_ready', providerCallId: callSid, direction: direction === 'outbound-api' ? 'outbound' : 'inbound', recording: { url: p.RecordingUrl, contentType: 'audio/mpeg' } });
  }
  return out;
}

/** Another provider's request sent to a Twilio connection. */
function looksForeign(input: WebhookInput, p: Params): boolean {
  return Boolean(input.headers.signature || input.headers['webhook-signature'] || p.event || p.vpbx_api_key || p.json || /^\s*[{[]/.test(input.body.toString('utf8', 0, 64)));
}

async function handle(input: WebhookInput, ctx: AdapterContext): Promise<AdapterResult> {
  // Refusals are problem+json like every adapter's (webhooks/kit.ts), with the outcome as `code`.
  const refuse = (outcome: AdapterResult['outcome'], status: number, why: string): AdapterResult => ({ outcome, answer: problemAnswer(status, outcome, why), deliveryId: '', events: [] });
  if (input.method.toUpperCase() !== 'POST') return refuse('malformed', 400, 'twilio: callbacks are POSTs');
  const { list, p } = paramsOf(input.body);
  const header = input.headers['x-twilio-signature'] ?? '';
  if (!header) return looksForeign(input, p) ? refuse('wrong_provider', 400, 'not a Twilio request') : refuse('bad_signature', 401, 'twilio: no signature');
  if (!verifyTwilio(ctx.connection.secret, header, input.url, list)) return refuse('bad_signature', 401, 'twilio: wrong signature');
  if (!p.CallSid) return looksForeign(input, p) ? refuse('wrong_provider', 400, 'not a Twilio call request') : refuse('malformed', 400, 'twilio: no CallSid');
  if (p.AccountSid && ctx.connection.account && p.AccountSid !== ctx.connection.account) return refuse('wrong_provider', 400, 'twilio: another account');
  const r = route(input.path);
  const deliveryId = twilioDeliveryId(input.path, p);
  if (r === '/voice') {
    const t = await target(ctx, twilioParty(p.From) ?? '', twilioParty(p.To) ?? '', p.CallSid);
    const events = twilioEvents(input.path, input.query, p, input.receivedAt, t.decided);
    return { outcome: 'accepted', answer: dialTwiml(baseOf(input), t, { dialed: twilioParty(p.To) }), deliveryId, events };
  }
  const events = twilioEvents(input.path, input.query, p, input.receivedAt);
  const answer = r === '/dial' ? twiml('<Hangup/>') : noContent;
  return { outcome: events.length ? 'accepted' : 'ignored', answer, deliveryId, events };
}

function apiBase(connection: ConnectionRow): string {
  return (connection.apiBaseUrl || 'https://api.twilio.com').replace(/\/+$/, '');
}

function basicAuth(connection: ConnectionRow): string {
  return `Basic ${Buffer.from(`${connection.account}:${connection.secret}`).toString('base64')}`;
}

const unavailable = (details: Record<string, unknown>, cause?: unknown) => new DomainError('UNAVAILABLE', 'provider_unavailable', { details: { provider: 'twilio', ...details }, cause });
const RECORDING_MAX_BYTES = 50 * 1024 * 1024;

/** A POST to the account's REST resources (never retried: each one rings or moves a call). */
async function callsApi(connection: ConnectionRow, path: string, form: Array<[string, string]>): Promise<Record<string, unknown>> {
  const res = await providerRequest({
    method: 'POST',
    baseUrl: apiBase(connection),
    path: `/2010-04-01/Accounts/${encodeURIComponent(connection.account)}${path}`,
    headers: { authorization: basicAuth(connection), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    idempotent: false,
  }).catch((err: unknown) => {
    throw unavailable({ path }, err);
  });
  try {
    return JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw unavailable({ path, reason: 'not JSON' });
  }
}

export const twilioAdapter: Adapter = {
  provider: 'twilio',
  handle: async (input, ctx) => {
    try {
      return await handle(input, ctx);
    } catch {
      return { outcome: 'malformed', answer: problemAnswer(400, 'malformed', 'twilio: unreadable request'), deliveryId: '', events: [] };
    }
  },
  parse: (input) => {
    if (input.method.toUpperCase() !== 'POST') return [];
    return twilioEvents(input.path, input.query, paramsOf(input.body).p, input.receivedAt);
  },
  /**
   * Click-to-call: `POST /2010-04-01/Accounts/{sid}/Calls.json` rings the employee's client first
   * (To=client:<ext>); when they answer, the TwiML dials the phone. Our status callbacks carry the phone
   * (`/status?to=`) and the extension (`/leg?dir=outbound&ext=`) since Twilio's parameters do not.
   */
  originate: async (connection, call) => {
    const base = connectionBase(connection);
    const from = call.callerId || (isPhone(connection.fallbackTarget) ? connection.fallbackTarget : 'client:crm');
    const legUrl = `${base}/leg?${new URLSearchParams({ dir: 'outbound', ext: call.extension }).toString()}`;
    const inner = `<Dial${call.callerId ? ` callerId="${xmlEscape(call.callerId)}"` : ''}><Number statusCallbackEvent="${LEG_EVENTS}" statusCallback="${xmlEscape(legUrl)}" statusCallbackMethod="POST">${xmlEscape(call.phone)}</Number></Dial>`;
    const form: Array<[string, string]> = [
      ['To', `client:${call.extension}`],
      ['From', from],
      ['Twiml', `<?xml version="1.0" encoding="UTF-8"?><Response>${inner}</Response>`],
      ['StatusCallback', `${base}/status?${new URLSearchParams({ to: call.phone }).toString()}`],
      ['StatusCallbackMethod', 'POST'],
      ...LEG_EVENTS.split(' ').map((e): [string, string] => ['StatusCallbackEvent', e]),
    ];
    const body = await callsApi(connection, '/Calls.json', form);
    if (typeof body.sid !== 'string' || !body.sid) throw unavailable({ reason: 'no sid' });
    return { providerCallId: body.sid };
  },
  /** Redirects the live call (the parent CallSid) to new TwiML dialing the target; its legs report as a transfer. */
  transfer: async (connection, providerCallId, to) => {
    const t = to.extension ? { extensions: [to.extension] } : to.phone ? { phone: to.phone } : undefined;
    if (!t) throw new DomainError('INVALID_ARGUMENT', 'a transfer needs an extension or a phone');
    const answer = dialTwiml(connectionBase(connection), t, { transfer: true });
    await callsApi(connection, `/Calls/${encodeURIComponent(providerCallId)}.json`, [['Twiml', String(answer.body)]]);
  },
  /** `RecordingUrl` + `.mp3`, with the account's basic auth. */
  downloadRecording: async (connection, url) => {
    const file = /\.(mp3|wav)$/.test(new URL(url).pathname) ? url : `${url.replace(/\/+$/, '')}.mp3`;
    // The account's credentials go only to the account's API host (the URL came in a signed callback).
    const ours = new URL(file).host === new URL(apiBase(connection)).host;
    const res = await providerRequest({ method: 'GET', baseUrl: apiBase(connection), path: file, headers: ours ? { authorization: basicAuth(connection) } : {}, allowedHosts: ['api.twilio.com'], maxBytes: RECORDING_MAX_BYTES }).catch((err: unknown) => {
      throw unavailable({ reason: 'download' }, err);
    });
    return { contentType: res.contentType.split(';')[0]?.trim() || 'audio/mpeg', data: res.body };
  },
};
