/**
 * A local peer of Zadarma (no internet here), written from Zadarma's documentation
 * (zadarma.com/en/support/api and zadarma/user-api-v1, lib/Client.php, lib/Api.php, lib/Webhook/*):
 *
 * - its API: `GET /v1/request/callback/` (click-to-call) and `GET /v1/pbx/record/request/` (a recording's
 *   temporary link) with the `Authorization: key:signature` check the real API makes, answered as the
 *   docs show (`{"status":"success",…}`, `{"status":"error","message":…}` with 401 on a bad signature),
 *   and the recording files behind the links;
 * - a sender of notifications signed as Zadarma signs them (`Signature` = base64 of the hex HMAC-SHA1
 *   over the event's fields) — its own code, not the adapter's, so the two are checked against each other.
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const ZADARMA_SIGNED_FIELDS: Record<string, string[]> = {
  NOTIFY_START: ['caller_id', 'called_did', 'call_start'],
  NOTIFY_IVR: ['caller_id', 'called_did', 'call_start'],
  NOTIFY_INTERNAL: ['caller_id', 'called_did', 'call_start'],
  NOTIFY_END: ['caller_id', 'called_did', 'call_start'],
  NOTIFY_ANSWER: ['caller_id', 'destination', 'call_start'],
  NOTIFY_OUT_START: ['internal', 'destination', 'call_start'],
  NOTIFY_OUT_END: ['internal', 'destination', 'call_start'],
  NOTIFY_RECORD: ['pbx_call_id', 'call_id_with_rec'],
};

/** PHP: base64_encode(hash_hmac('sha1', $text, $secret)) — hash_hmac returns hex. */
const phpSign = (secret: string, text: string) => Buffer.from(createHmac('sha1', secret).update(text).digest('hex')).toString('base64');

/** PHP's http_build_query(…, PHP_QUERY_RFC1738): urlencode (spaces `+`, only [A-Za-z0-9._-] kept). */
function rfc1738(s: string): string {
  return Array.from(Buffer.from(s, 'utf8'))
    .map((b) => {
      const c = String.fromCharCode(b);
      if (/[A-Za-z0-9._-]/.test(c)) return c;
      if (c === ' ') return '+';
      return `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

export function notificationSignature(secret: string, fields: Record<string, string>): string {
  return phpSign(secret, (ZADARMA_SIGNED_FIELDS[fields.event!] ?? []).map((f) => fields[f] ?? '').join(''));
}

export interface ZadarmaPeer {
  url: string;
  key: string;
  secret: string;
  /** API requests received: method path, params, whether the signature was right. */
  requests: { path: string; params: Record<string, string>; authorized: boolean }[];
  /** Recording files the peer serves (call_id_with_rec → bytes). */
  recordings: Map<string, Buffer>;
  close(): Promise<void>;
}

export async function startZadarmaPeer(opts: { key?: string; secret?: string } = {}): Promise<ZadarmaPeer> {
  const key = opts.key ?? 'zd-key-1';
  const secret = opts.secret ?? 'zd-secret-1';
  const requests: ZadarmaPeer['requests'] = [];
  const recordings = new Map<string, Buffer>();
  let url = '';
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://peer');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && u.pathname.startsWith('/rec/')) {
      const data = recordings.get(decodeURIComponent(u.pathname.slice(5).replace(/\.mp3$/, '')));
      if (!data) return send(404, { status: 'error', message: 'not found' });
      res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': String(data.length) });
      return res.end(data);
    }
    const params: Record<string, string> = {};
    for (const [k, v] of u.searchParams) params[k] = v;
    // The documented check: params sorted by key, http_build_query, method + query + md5(query), hmac.
    const query = Object.keys(params)
      .sort()
      .map((k) => `${rfc1738(k)}=${rfc1738(params[k]!)}`)
      .join('&');
    const expected = `${key}:${phpSign(secret, u.pathname + query + createHash('md5').update(query).digest('hex'))}`;
    const authorized = req.headers.authorization === expected;
    requests.push({ path: u.pathname, params, authorized });
    if (!authorized) return send(401, { status: 'error', message: 'Not authorized' });
    if (u.pathname === '/v1/request/callback/') {
      if (!params.from || !params.to) return send(400, { status: 'error', message: 'from and to are required' });
      return send(200, { status: 'success', from: params.from, to: params.to, time: Math.floor(Date.now() / 1000) });
    }
    if (u.pathname === '/v1/pbx/record/request/') {
      const id = params.call_id ?? '';
      if (!recordings.has(id)) return send(404, { status: 'error', message: 'record not found' });
      return send(200, { status: 'success', link: `${url}/rec/${encodeURIComponent(id)}.mp3`, lifetime_till: new Date(Date.now() + 1800_000).toISOString().slice(0, 19).replace('T', ' ') });
    }
    return send(404, { status: 'error', message: 'Method not found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, key, secret, requests, recordings, close: () => new Promise((r) => server.close(() => r())) };
}

/** Sends one notification the way Zadarma does: a form POST with the `Signature` header. */
export async function sendZadarmaNotification(webhookUrl: string, secret: string, fields: Record<string, string>, opts: { signature?: string } = {}): Promise<{ status: number; body: string; contentType: string }> {
  const res = await fetch(webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', signature: opts.signature ?? notificationSignature(secret, fields) },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type') ?? '' };
}

/** `call_start` as Zadarma writes it: `YYYY-MM-DD HH:MM:SS` in the account's time zone. */
export function zadarmaTime(at: Date, zone: string): string {
  const p = new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(at);
  const v = (t: string) => p.find((x) => x.type === t)!.value;
  return `${v('year')}-${v('month')}-${v('day')} ${v('hour')}:${v('minute')}:${v('second')}`;
}
