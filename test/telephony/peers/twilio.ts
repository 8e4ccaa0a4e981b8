/**
 * A local peer of Twilio (no internet here), written from Twilio's documentation (Voice API "Call
 * resource", "Recording resource", webhooks security, status callbacks):
 *
 * - its REST API: `POST /2010-04-01/Accounts/{AccountSid}/Calls.json` (create a call: To, From, Twiml or
 *   Url, StatusCallback…; 201 with the call), `POST …/Calls/{CallSid}.json` (update a live call with new
 *   Twiml; 200), `GET …/Recordings/{RecordingSid}.mp3` (the file), all with HTTP basic auth
 *   AccountSid:AuthToken (else 401 `{"code":20003,…}`);
 * - a sender of webhooks signed as Twilio signs them (`X-Twilio-Signature` = base64 HMAC-SHA1(auth token,
 *   URL + the POST parameters sorted by name, name + value)) — its own code, not the adapter's.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export function twilioRequestSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

export interface TwilioPeer {
  url: string;
  accountSid: string;
  authToken: string;
  /** REST requests received (form parameters as lists: StatusCallbackEvent repeats). */
  requests: { method: string; path: string; form: Record<string, string[]>; authorized: boolean }[];
  /** Recording files (RecordingSid → bytes). */
  recordings: Map<string, Buffer>;
  close(): Promise<void>;
}

export async function startTwilioPeer(opts: { accountSid?: string; authToken?: string } = {}): Promise<TwilioPeer> {
  const accountSid = opts.accountSid ?? `AC${'0'.repeat(30)}1`;
  const authToken = opts.authToken ?? 'twilio-auth-token-1';
  const requests: TwilioPeer['requests'] = [];
  const recordings = new Map<string, Buffer>();
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://peer');
      const form: Record<string, string[]> = {};
      for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) (form[k] ??= []).push(v);
      const authorized = req.headers.authorization === `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
      requests.push({ method: req.method ?? '', path: u.pathname, form, authorized });
      const send = (status: number, body: unknown, type = 'application/json') => {
        res.writeHead(status, { 'content-type': type });
        res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
      };
      if (!authorized) return send(401, { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
      const prefix = `/2010-04-01/Accounts/${accountSid}`;
      if (!u.pathname.startsWith(prefix)) return send(404, { code: 20404, message: 'The requested resource was not found', status: 404 });
      const rest = u.pathname.slice(prefix.length);
      if (req.method === 'POST' && rest === '/Calls.json') {
        const to = form.To?.[0];
        const from = form.From?.[0];
        if (!to || !from || !(form.Twiml?.[0] || form.Url?.[0])) return send(400, { code: 21205, message: 'To, From and Url or Twiml are required', status: 400 });
        const sid = `CA${String(++n).padStart(32, '0')}`;
        return send(201, { sid, account_sid: accountSid, to, from, status: 'queued', direction: 'outbound-api', api_version: '2010-04-01', uri: `${prefix}/Calls/${sid}.json` });
      }
      const update = /^\/Calls\/(CA[0-9a-zA-Z]+)\.json$/.exec(rest);
      if (req.method === 'POST' && update) {
        if (!form.Twiml?.[0] && !form.Url?.[0] && !form.Status?.[0]) return send(400, { code: 21218, message: 'Twiml, Url or Status is required', status: 400 });
        return send(200, { sid: update[1], account_sid: accountSid, status: 'in-progress' });
      }
      const rec = /^\/Recordings\/(RE[0-9a-zA-Z]+)\.mp3$/.exec(rest);
      if (req.method === 'GET' && rec) {
        const data = recordings.get(rec[1]!);
        return data ? send(200, data, 'audio/mpeg') : send(404, { code: 20404, message: 'not found', status: 404 });
      }
      return send(404, { code: 20404, message: 'The requested resource was not found', status: 404 });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, accountSid, authToken, requests, recordings, close: () => new Promise((r) => server.close(() => r())) };
}

/** Sends one webhook the way Twilio does: a form POST to `url` (query included) with X-Twilio-Signature. */
export async function sendTwilioWebhook(url: string, authToken: string, params: Record<string, string>, opts: { signature?: string } = {}): Promise<{ status: number; body: string; contentType: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': opts.signature ?? twilioRequestSignature(authToken, url, params) },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type') ?? '' };
}
