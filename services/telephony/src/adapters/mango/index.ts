/**
 * Mango Office VPBX API (MangoOffice_VPBX_API_v1.9, "MG§n" = its sections; channels.md §1).
 *
 * Inbound: Mango POSTs form fields `vpbx_api_key`, `sign`, `json` to the connection's URL + a path:
 * - `/events/call` (MG§27): one leg's state — `call_state` Appeared / Connected / OnHold / Disconnected,
 *   `location` ivr / queue / abonent, `entry_id` (the whole call = providerCallId), `call_id` (the leg),
 *   `seq` (order within the call: events are sent in parallel and may arrive out of order), `from` /
 *   `to` {extension, number, line_number = the DID}, `transfer` on a leg made by a transfer.
 *   Appeared → ringing (abonent: the extension rung; a leg made by a transfer: transferred), Connected
 *   → answered; Disconnected / OnHold are one leg's, not the call's: the call ends with the summary.
 *   Appeared in the IVR or a queue asks the decider and sends the route command (below).
 * - `/events/summary` (MG§32): the final event of every call, also for calls that produced no call
 *   events (outside an employee's working hours Mango sends none): `call_direction` 1 in / 2 out
 *   (0 internal: ignored), `create_time`, `talk_time` (0: no talk), `end_time`, `entry_result`
 *   (1 talked, 0 missed) → answered (when talked) + ended.
 * - `/events/recording` (MG§29): `recording_state` Completed with `completion_code` 1000 →
 *   recording_ready with the URL `mango:recording/<recording_id>` (downloadRecording fetches it).
 * - `/result/*` (command results), `/events/dtmf`, `/events/sms`, `/ping`: acknowledged, nothing stored.
 *
 * Authenticity (MG§20): `vpbx_api_key` must be the connection's `account`, `sign` = hex
 * sha256(vpbx_api_key + json + salt) with the salt the connection's `secret`; both directions are signed.
 * Timestamps are Unix seconds.
 *
 * Outbound through http/provider-client.ts, signed the same way: `/vpbx/commands/route` (MG§42-43:
 * call_id, to_number), `/vpbx/commands/callback` (originate, MG§36: from.extension, to_number,
 * line_number), `/vpbx/commands/transfer` (MG§44: call_id, method blind, to_number, initiator),
 * `/vpbx/queries/recording/post` (recording_id, action download: a 302 to a one-time link, or the file).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { ConnectionRow, NormalizedCallEvent } from '../../calls/model';
import { providerRequest, ProviderError } from '../../http/provider-client';
import { accept, e164, ignore, refuse, safeEqual } from '../../webhooks/kit';
import type { Adapter, AdapterContext, AdapterResult, WebhookInput } from '../types';

/** Mango's own API host (a recording link may be on a subdomain of mango-office.ru). */
export const MANGO_API_BASE = 'https://app.mango-office.ru';
const MANGO_HOSTS = ['app.mango-office.ru'];

export function mangoSign(apiKey: string, json: string, salt: string): string {
  return createHash('sha256').update(apiKey + json + salt).digest('hex');
}

/** The form body Mango sends and expects: vpbx_api_key, sign, json. */
export function mangoForm(apiKey: string, salt: string, payload: unknown): string {
  const json = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return new URLSearchParams({ vpbx_api_key: apiKey, sign: mangoSign(apiKey, json, salt), json }).toString();
}

interface Party {
  extension?: string | number;
  number?: string;
  line_number?: string;
  taken_from_call_id?: string;
  was_transferred?: boolean;
}

const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));
const isoOf = (ts: unknown): string | undefined => {
  const n = Number(ts);
  return Number.isFinite(n) && n > 0 && n < 1e11 ? new Date(n * 1000).toISOString() : undefined;
};

function looksLikeOtherProvider(input: WebhookInput): boolean {
  const h = input.headers;
  return Boolean(h['webhook-signature'] || h['x-twilio-signature'] || h['signature'] || (h['content-type'] ?? '').includes('json') || /(^|&)zd_echo=/.test(input.query));
}

interface Verified {
  payload: Record<string, unknown>;
}

function verify(input: WebhookInput, connection: ConnectionRow): Verified | AdapterResult {
  const form = new URLSearchParams(input.body.toString('utf8'));
  const key = form.get('vpbx_api_key');
  const sign = form.get('sign');
  const json = form.get('json');
  if (key === null || sign === null || json === null) {
    if (looksLikeOtherProvider(input)) return refuse('wrong_provider', 'not a Mango request: the form fields vpbx_api_key, sign and json are required');
    return refuse('malformed', 'the form fields vpbx_api_key, sign and json are required');
  }
  const keyOk = safeEqual(key, connection.account);
  const signOk = safeEqual(sign.toLowerCase(), mangoSign(key, json, connection.secret));
  if (!keyOk || !signOk) return refuse('bad_signature', keyOk ? 'sign does not match sha256(vpbx_api_key + json + salt)' : 'vpbx_api_key is not this connection\'s');
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch {
    return refuse('malformed', 'json is not JSON');
  }
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return refuse('malformed', 'json must be an object');
  return { payload: payload as Record<string, unknown> };
}

/** /events/call → at most one event (and whether the call waits in the IVR / a queue for a route). */
function callEvent(p: Record<string, unknown>): { event?: NormalizedCallEvent; needsRoute?: boolean; problem?: string } {
  const entry = str(p.entry_id);
  const leg = str(p.call_id);
  const at = isoOf(p.timestamp);
  const seq = Number(p.seq);
  if (!entry || entry.length > 128 || !leg || !at || !Number.isInteger(seq)) return { problem: 'entry_id, call_id, timestamp and seq are required' };
  const from = (p.from ?? {}) as Party;
  const to = (p.to ?? {}) as Party;
  const fromExt = str(from.extension);
  const toExt = str(to.extension);
  // an employee calling an employee is internal: not a call of the CRM's
  if (fromExt && toExt && !p.transfer) return {};
  const outbound = Boolean(fromExt) && !toExt;
  const base = {
    providerCallId: entry,
    providerEventId: `call:${leg}:${seq}`,
    at,
    seq,
    direction: outbound ? ('outbound' as const) : ('inbound' as const),
    caller: outbound ? fromExt : e164(from.number),
    callee: outbound ? e164(to.number) : (toExt ?? e164(to.number)),
    ...(outbound ? {} : { dialed: e164(str(to.line_number)) }),
  };
  const state = String(p.call_state ?? '');
  const location = String(p.location ?? '');
  if (state === 'Appeared') {
    if (!outbound && p.transfer && toExt) {
      return { event: { ...base, kind: 'transferred', extension: str((p.from as Party)?.extension), transferTo: { extension: toExt } } };
    }
    if (outbound) return { event: { ...base, kind: 'ringing', extension: fromExt } };
    if (location === 'abonent' && toExt) return { event: { ...base, kind: 'ringing', extensions: [toExt] } };
    return { event: { ...base, kind: 'ringing', extensions: [] }, needsRoute: location === 'ivr' || location === 'queue' };
  }
  if (state === 'Connected') return { event: { ...base, kind: 'answered', extension: outbound ? fromExt : toExt } };
  return {};
}

/** /events/summary → answered (when there was talk) + ended. */
function summaryEvents(p: Record<string, unknown>): { events?: NormalizedCallEvent[]; problem?: string } {
  const entry = str(p.entry_id);
  const created = isoOf(p.create_time);
  const ended = isoOf(p.end_time);
  if (!entry || entry.length > 128 || !created || !ended) return { problem: 'entry_id, create_time and end_time are required' };
  const dir = Number(p.call_direction);
  if (dir !== 1 && dir !== 2) return { events: [] };
  const outbound = dir === 2;
  const from = (p.from ?? {}) as Party;
  const to = (p.to ?? {}) as Party;
  const talk = isoOf(p.talk_time);
  const talked = Number(p.entry_result) === 1 && Boolean(talk);
  const ext = outbound ? str(from.extension) : str(to.extension);
  const base = {
    providerCallId: entry,
    direction: outbound ? ('outbound' as const) : ('inbound' as const),
    caller: outbound ? ext : e164(from.number),
    callee: outbound ? e164(to.number) : (ext ?? e164(to.number)),
    ...(outbound ? {} : { dialed: e164(str(p.line_number)) }),
  };
  const out: NormalizedCallEvent[] = [];
  if (talked) out.push({ ...base, kind: 'answered', providerEventId: `summary:${entry}:answered`, at: talk!, ...(ext ? { extension: ext } : {}) });
  const duration = Math.max(0, Math.round((Date.parse(ended) - Date.parse(created)) / 1000));
  out.push({
    ...base,
    kind: 'ended',
    providerEventId: `summary:${entry}:ended`,
    at: ended,
    disposition: talked ? 'answered' : 'no_answer',
    durationSeconds: duration,
    talkSeconds: talked ? Math.max(0, Math.round((Date.parse(ended) - Date.parse(talk!)) / 1000)) : 0,
    ...(outbound && ext ? { extension: ext } : {}),
  });
  return { events: out };
}

function recordingEvent(p: Record<string, unknown>): { event?: NormalizedCallEvent; problem?: string } {
  const id = str(p.recording_id);
  const entry = str(p.entry_id);
  const at = isoOf(p.timestamp);
  if (!id || id.length > 128 || !entry || !at) return { problem: 'recording_id, entry_id and timestamp are required' };
  if (p.recording_state !== 'Completed' || (p.completion_code !== undefined && String(p.completion_code) !== '1000')) return {};
  return { event: { kind: 'recording_ready', providerCallId: entry, providerEventId: `recording:${id}`, at, direction: 'inbound', recording: { url: `mango:recording/${id}` } } };
}

function eventsOf(path: string, p: Record<string, unknown>): { events: NormalizedCallEvent[]; needsRoute?: boolean; problem?: string } {
  switch (path) {
    case '/events/call': {
      const r = callEvent(p);
      return { events: r.event ? [r.event] : [], needsRoute: r.needsRoute, problem: r.problem };
    }
    case '/events/summary': {
      const r = summaryEvents(p);
      return { events: r.events ?? [], problem: r.problem };
    }
    case '/events/recording': {
      const r = recordingEvent(p);
      return { events: r.event ? [r.event] : [], problem: r.problem };
    }
    default:
      return { events: [] };
  }
}

/** A signed command to Mango's API (base URL: the connection's api_base_url, else Mango's own). */
async function command(connection: ConnectionRow, path: string, payload: unknown, opts: { idempotent?: boolean; okStatus?: number[]; maxBytes?: number } = {}) {
  return providerRequest({
    method: 'POST',
    baseUrl: connection.apiBaseUrl || MANGO_API_BASE,
    path,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: mangoForm(connection.account, connection.secret, payload),
    idempotent: opts.idempotent ?? false,
    okStatus: opts.okStatus,
    maxBytes: opts.maxBytes,
    allowedHosts: MANGO_HOSTS,
  });
}

/** On Appeared in the IVR or a queue: whom to connect, then the route command (after the answer). */
function routeLater(input: WebhookInput, ctx: AdapterContext, p: Record<string, unknown>, event: NormalizedCallEvent): void {
  // A request replayed from the gateway's fallback much later: the call is no longer waiting.
  if (Date.now() - input.receivedAt.getTime() > 30_000) return;
  void (async () => {
    const decision = await ctx.decide({ caller: event.caller ?? '', dialed: event.dialed ?? '', providerCallId: event.providerCallId });
    const to = decision.extensions[0] || decision.queue || decision.fallbackTarget || ctx.connection.fallbackTarget;
    if (!to) return;
    await command(ctx.connection, '/vpbx/commands/route', { command_id: `route:${String(p.call_id)}`, call_id: String(p.call_id), to_number: to });
  })().catch(() => undefined);
}

export const mangoAdapter: Adapter = {
  provider: 'mango',
  async handle(input, ctx) {
    if (input.method !== 'POST') return refuse('malformed', 'Mango posts its events');
    const v = verify(input, ctx.connection);
    if ('outcome' in v) return v;
    const { events, needsRoute, problem } = eventsOf(input.path, v.payload);
    if (problem) return refuse('malformed', problem);
    if (!events.length) return ignore();
    if (needsRoute) routeLater(input, ctx, v.payload, events[0]);
    return accept(events.map((e) => e.providerEventId).join(' '), events);
  },
  parse(input) {
    const form = new URLSearchParams(input.body.toString('utf8'));
    try {
      const p = JSON.parse(form.get('json') ?? '');
      return p && typeof p === 'object' ? eventsOf(input.path, p as Record<string, unknown>).events : [];
    } catch {
      return [];
    }
  },
  async originate(connection, call) {
    const commandId = `cbk:${randomUUID()}`;
    await command(connection, '/vpbx/commands/callback', {
      command_id: commandId,
      from: { extension: call.extension },
      to_number: call.phone.replace(/^\+/, ''),
      ...(call.callerId ? { line_number: call.callerId.replace(/^\+/, '') } : {}),
    });
    return { providerCallId: commandId };
  },
  async transfer(connection, providerCallId, to) {
    const target = to.extension ?? to.phone?.replace(/^\+/, '');
    if (!target) throw new ProviderError('bad_url', 'a transfer needs an extension or a phone');
    await command(connection, '/vpbx/commands/transfer', { command_id: `xfer:${randomUUID()}`, call_id: providerCallId, method: 'blind', to_number: target, initiator: 'to.extension' });
  },
  async downloadRecording(connection, url) {
    const m = /^mango:recording\/(.+)$/.exec(url);
    if (!m) throw new ProviderError('bad_url', `not a Mango recording: ${url}`);
    const max = 100 * 1024 * 1024;
    const res = await command(connection, '/vpbx/queries/recording/post', { recording_id: m[1], action: 'download' }, { idempotent: true, okStatus: [302], maxBytes: max });
    if (res.status === 302) {
      const location = res.headers.location;
      if (!location) throw new ProviderError('http_status', 'recording/post answered 302 without a Location', 302);
      const base = connection.apiBaseUrl || MANGO_API_BASE;
      const host = new URL(location, base).host;
      const allowed = host.endsWith('.mango-office.ru') ? [host] : MANGO_HOSTS;
      const file = await providerRequest({ method: 'GET', baseUrl: base, path: new URL(location, base).toString(), allowedHosts: allowed, maxBytes: max });
      return { contentType: file.contentType || 'audio/mpeg', data: file.body };
    }
    return { contentType: res.contentType || 'audio/mpeg', data: res.body };
  },
};
