/**
 * A local peer of Mango's VPBX API (MangoOffice_VPBX_API_v1.9) for tests — there is no internet here.
 * It is not Mango: a small node:http server that implements the documented requests and answers the
 * adapter sends, and a client that sends the documented notifications to our webhook URL:
 *
 * - the server answers POST /vpbx/commands/route | callback | transfer (form `vpbx_api_key`, `sign`,
 *   `json`; sign = hex sha256(vpbx_api_key + json + salt), checked: a wrong key or sign is a 401) with
 *   `{"result":1000}` and records every command; POST /vpbx/queries/recording/post
 *   `{recording_id, action: "download"}` answers a 302 to a one-time link GET /files/<token> that serves
 *   the recording (audio/mpeg) once;
 * - `MangoPeer.notify(url, path, payload)` POSTs a signed notification (`/events/call`,
 *   `/events/summary`, `/events/recording`, `/result/*`) as Mango does;
 * - `mangoRequestsOf(step)` writes a day step (test/telephony/day.ts) as the notifications Mango sends
 *   for it (Appeared / Connected / Disconnected with `seq`, the final summary, the recording).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DayStep } from '../day';

export interface MangoCommand {
  path: string;
  json: Record<string, unknown>;
}

const sign = (key: string, json: string, salt: string) => createHash('sha256').update(key + json + salt).digest('hex');
const form = (key: string, salt: string, payload: unknown) => {
  const json = JSON.stringify(payload);
  return new URLSearchParams({ vpbx_api_key: key, sign: sign(key, json, salt), json }).toString();
};

export class MangoPeer {
  readonly commands: MangoCommand[] = [];
  /** Requests refused for a wrong key or sign. */
  refused = 0;
  private server?: Server;
  private readonly files = new Map<string, Buffer>();
  /** The bytes served for every recording id. */
  recordingBytes = (id: string) => Buffer.from(`ID3 fake mp3 of ${id}`);
  base = '';

  constructor(
    readonly apiKey: string,
    readonly salt: string,
  ) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.base;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', this.base);
    if (req.method === 'GET' && url.pathname.startsWith('/files/')) {
      const token = url.pathname.slice('/files/'.length);
      const file = this.files.get(token);
      this.files.delete(token);
      if (!file) return void res.writeHead(404).end();
      return void res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': String(file.length) }).end(file);
    }
    if (req.method !== 'POST' || !url.pathname.startsWith('/vpbx/')) return void res.writeHead(404).end();
    const f = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const key = f.get('vpbx_api_key') ?? '';
    const json = f.get('json') ?? '';
    if (key !== this.apiKey || f.get('sign') !== sign(key, json, this.salt)) {
      this.refused++;
      return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"result":3102}');
    }
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(json);
    } catch {
      return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"result":3100}');
    }
    this.commands.push({ path: url.pathname, json: payload });
    if (url.pathname === '/vpbx/queries/recording/post') {
      const token = randomUUID();
      this.files.set(token, this.recordingBytes(String(payload.recording_id)));
      return void res.writeHead(302, { location: `${this.base}/files/${token}` }).end();
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: 1000, command_id: payload.command_id ?? '' }));
  }

  /** Notifications answered 503 (the platform's "retry later") and sent again. */
  retried = 0;

  /**
   * POSTs a signed notification to `<webhookUrl><path>`; resolves to the status and body. A 503 is sent
   * again after a second (a provider retries what was not acknowledged), at most 5 times.
   */
  async notify(webhookUrl: string, path: string, payload: unknown, opts: { salt?: string } = {}): Promise<{ status: number; body: string }> {
    for (let attempt = 1; ; attempt++) {
      const res = await fetch(`${webhookUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form(this.apiKey, opts.salt ?? this.salt, payload) });
      const body = await res.text();
      if (res.status !== 503 || attempt >= 5) return { status: res.status, body };
      this.retried++;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

const digits = (e164: string) => e164.replace(/^\+/, '');
const unix = (d: Date) => Math.floor(d.getTime() / 1000);

/** The notifications Mango sends for one day step (`entryPrefix` keeps runs apart). */
export function mangoRequestsOf(step: DayStep, entryPrefix: string): { path: string; payload: Record<string, unknown> }[] {
  const c = step.call;
  const entry = `${entryPrefix}-${c.id}`;
  const leg1 = `${entry}:1`;
  const inbound = c.direction === 'inbound';
  const customer = { number: digits(c.customer) };
  const line = digits(c.number);
  const base = { entry_id: entry, timestamp: unix(step.at), seq: step.seq };
  // odd calls wait in the IVR first (the adapter routes them), even ones ring an employee at once
  const ivr = inbound && Number(c.id.slice(1)) % 2 === 1;
  switch (step.kind) {
    case 'ringing':
      return [
        {
          path: '/events/call',
          payload: inbound
            ? { ...base, call_id: leg1, call_state: 'Appeared', location: ivr ? 'ivr' : 'abonent', from: customer, to: ivr ? { number: line, line_number: line } : { extension: step.extensions[0], number: `sip:${step.extensions[0]}@pbx.local`, line_number: line } }
            : { ...base, call_id: leg1, call_state: 'Appeared', location: 'abonent', from: { extension: c.extension, number: `sip:${c.extension}@pbx.local` }, to: { number: digits(c.customer), line_number: line } },
        },
      ];
    case 'answered':
      return [
        {
          path: '/events/call',
          payload: inbound
            ? { ...base, call_id: leg1, call_state: 'Connected', location: 'abonent', from: customer, to: { extension: c.extension, number: `sip:${c.extension}@pbx.local`, line_number: line } }
            : { ...base, call_id: leg1, call_state: 'Connected', location: 'abonent', from: { extension: c.extension }, to: { number: digits(c.customer), line_number: line } },
        },
      ];
    case 'transferred':
      return [
        {
          path: '/events/call',
          payload: { ...base, call_id: `${entry}:2`, call_state: 'Appeared', location: 'abonent', transfer: 'blind', from: { ...customer, taken_from_call_id: leg1, extension: undefined }, to: { extension: c.transferTo, line_number: line } },
        },
      ];
    case 'ended': {
      const out: { path: string; payload: Record<string, unknown> }[] = [];
      // the leg's Disconnected (acknowledged, nothing stored; sent for every 5th call that had call
      // events, to keep the replay short), then the final summary
      if (c.scenario !== 'offhours' && Number(c.id.slice(1)) % 5 === 0) {
        out.push({ path: '/events/call', payload: { ...base, call_id: leg1, call_state: 'Disconnected', location: 'abonent', from: inbound ? customer : { extension: c.extension }, to: inbound ? { line_number: line } : { number: digits(c.customer) }, disconnect_reason: c.disposition === 'busy' ? 4200 : 1100 } });
      }
      const answeredExt = c.transferTo ?? c.extension;
      out.push({
        path: '/events/summary',
        payload: {
          entry_id: entry,
          call_direction: inbound ? 1 : 2,
          from: inbound ? customer : { extension: c.extension, number: `sip:${c.extension}@pbx.local` },
          to: inbound ? (answeredExt ? { extension: answeredExt } : {}) : { number: digits(c.customer) },
          line_number: line,
          create_time: unix(c.startedAt),
          forward_time: unix(c.startedAt),
          talk_time: c.answeredAt ? unix(c.answeredAt) : 0,
          end_time: unix(c.endedAt),
          entry_result: c.answeredAt ? 1 : 0,
          disconnect_reason: c.disposition === 'busy' ? 4200 : 1100,
        },
      });
      return out;
    }
    case 'recording_ready':
      return [{ path: '/events/recording', payload: { recording_id: `${entry}-rec`, recording_state: 'Completed', seq: 1, entry_id: entry, call_id: leg1, extension: c.extension, timestamp: unix(step.at), completion_code: 1000, recipient: 'Cloud' } }];
  }
}
