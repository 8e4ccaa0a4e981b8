/**
 * The one HTTP client of telephony's outbound calls to providers (Mango's route / callback / transfer
 * commands and recording queries, Zadarma's and Twilio's REST calls, recording downloads). Every
 * adapter goes through `providerRequest`:
 *
 * - the URL is the connection's `api_base_url` + a path, or an absolute URL a provider announced
 *   (a recording) — then only on the connection's own host or one of the provider's documented hosts
 *   (`allowedHosts`);
 * - a deadline per attempt (TELEPHONY_PROVIDER_TIMEOUT_MS) and retries with exponential backoff and
 *   jitter (TELEPHONY_PROVIDER_RETRIES) only when the caller says the call is idempotent (GETs, queries,
 *   a command carrying a provider-side idempotency key) and only for network errors, 429 and 5xx;
 * - the answer's body is capped (`maxBytes`, default 1 MiB; recordings pass a larger one): a longer
 *   answer aborts with ProviderError `too_large`;
 * - SSRF: the address a host name resolves to is checked in the socket's own DNS lookup (so a name
 *   cannot resolve to a public address for the check and a private one for the connection): loopback,
 *   private, link-local, CGNAT and unique-local ranges are refused, unless loopback/private targets are
 *   allowed — `NODE_ENV=test` (the tests' local peers listen on 127.0.0.1) or
 *   TELEPHONY_ALLOW_PRIVATE_PROVIDER_URLS=true (an on-premise PBX on a private network).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

export type ProviderErrorCode = 'timeout' | 'network' | 'too_large' | 'blocked_address' | 'bad_url' | 'http_status';

/** A failed provider call. `status` is set for http_status (the provider answered non-2xx). */
export class ProviderError extends Error {
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
    readonly status?: number,
    readonly body?: string,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

export interface ProviderClientSettings {
  timeoutMs: number;
  retries: number;
  /** Loopback and private ranges reachable (tests' local peers, on-premise PBXs). */
  allowPrivate: boolean;
  /** First backoff step (doubled each retry, ± 50 % jitter). */
  backoffMs: number;
}

const settings: ProviderClientSettings = {
  timeoutMs: 5000,
  retries: 2,
  allowPrivate: process.env.NODE_ENV === 'test' || process.env.TELEPHONY_ALLOW_PRIVATE_PROVIDER_URLS === 'true',
  backoffMs: 200,
};

/** Set once at start from the service's env (webhooks/index.ts). */
export function configureProviderClient(s: Partial<ProviderClientSettings>): void {
  Object.assign(settings, s);
}

export function providerClientSettings(): Readonly<ProviderClientSettings> {
  return settings;
}

export interface ProviderRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The connection's api_base_url (commands) … */
  baseUrl?: string;
  /** … plus this path (`/vpbx/commands/route`), or an absolute URL (a recording's). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Safe to repeat: retried on network errors, 429 and 5xx. Default: true for GET only. */
  idempotent?: boolean;
  /** Largest answer body (default 1 MiB). */
  maxBytes?: number;
  /** An absolute `path` must be on one of these hosts or the base URL's host (tenant-given URLs). */
  allowedHosts?: readonly string[];
  /** Overrides the deadline per attempt. */
  timeoutMs?: number;
  /** Non-2xx statuses that are an answer, not an error (Mango's 302 to a recording). */
  okStatus?: readonly number[];
}

export interface ProviderResponse {
  status: number;
  headers: Record<string, string>;
  contentType: string;
  body: Buffer;
}

const BLOCKED = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  BLOCKED.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  BLOCKED.addSubnet(net, bits, 'ipv6');

/** True when the address is loopback, private, link-local, CGNAT, multicast or reserved. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return BLOCKED.check(mapped[1], 'ipv4');
    return BLOCKED.check(address, 'ipv6');
  }
  return true;
}

const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return (callback as (e: NodeJS.ErrnoException | null, a: string | LookupAddress[], f?: number) => void)(err, '', 0);
    const list = addresses as LookupAddress[];
    const ok = settings.allowPrivate ? list : list.filter((a) => !isBlockedAddress(a.address));
    const cb = callback as (e: NodeJS.ErrnoException | null, a: string | LookupAddress[], f?: number) => void;
    if (!ok.length) return cb(Object.assign(new Error(`${hostname} resolves only to private or reserved addresses`), { code: 'EBLOCKED' }), '', 0);
    if ((options as { all?: boolean }).all) return cb(null, ok);
    return cb(null, ok[0].address, ok[0].family);
  });
};

/** The URL a request goes to, or a ProviderError bad_url / blocked_address (checked before any socket). */
export function resolveProviderUrl(req: Pick<ProviderRequest, 'baseUrl' | 'path' | 'allowedHosts'>): URL {
  let url: URL;
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(req.path);
  try {
    url = absolute ? new URL(req.path) : new URL(req.path.replace(/^\/+/, ''), `${(req.baseUrl ?? '').replace(/\/+$/, '')}/`);
  } catch {
    throw new ProviderError('bad_url', `not a URL: ${absolute ? req.path : `${req.baseUrl ?? ''} + ${req.path}`}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ProviderError('bad_url', `only http(s) URLs are fetched, not ${url.protocol}`);
  if (url.username || url.password) throw new ProviderError('bad_url', 'URLs with credentials are not fetched');
  if (absolute) {
    const base = req.baseUrl ? safeHost(req.baseUrl) : undefined;
    const allowed = new Set([...(req.allowedHosts ?? []), ...(base ? [base] : [])].map((h) => h.toLowerCase()));
    if (!allowed.has(url.host.toLowerCase()) && !allowed.has(url.hostname.toLowerCase())) throw new ProviderError('blocked_address', `host ${url.host} is neither the connection's nor the provider's`);
  }
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) && !settings.allowPrivate && isBlockedAddress(literal)) throw new ProviderError('blocked_address', `${literal} is a private or reserved address`);
  return url;
}

function safeHost(u: string): string | undefined {
  try {
    return new URL(u).host;
  } catch {
    return undefined;
  }
}

/** One provider call with the deadline, retries (idempotent only), size cap and address checks above. */
export async function providerRequest(req: ProviderRequest): Promise<ProviderResponse> {
  const url = resolveProviderUrl(req);
  const idempotent = req.idempotent ?? req.method === 'GET';
  const attempts = 1 + (idempotent ? settings.retries : 0);
  let last: ProviderError | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const res = await once(url, req);
      if ((res.status >= 200 && res.status < 300) || req.okStatus?.includes(res.status)) return res;
      last = new ProviderError('http_status', `${req.method} ${url.pathname} answered ${res.status}`, res.status, res.body.subarray(0, 500).toString('utf8'));
      if (!(res.status === 429 || res.status >= 500)) throw last;
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      last = err;
      if (err.code === 'http_status' && !(err.status === 429 || (err.status ?? 0) >= 500)) throw err;
      if (err.code === 'too_large' || err.code === 'blocked_address' || err.code === 'bad_url') throw err;
    }
    if (attempt < attempts) await sleep(settings.backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random()));
  }
  throw last!;
}

function once(url: URL, req: ProviderRequest): Promise<ProviderResponse> {
  const maxBytes = req.maxBytes ?? 1024 * 1024;
  const timeoutMs = req.timeoutMs ?? settings.timeoutMs;
  const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
  const headers: Record<string, string> = { 'user-agent': 'sales2-telephony/1', ...req.headers };
  if (body) headers['content-length'] = String(body.length);
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise<ProviderResponse>((resolve, reject) => {
    let settled = false;
    const fail = (e: ProviderError) => {
      if (settled) return;
      settled = true;
      r.destroy();
      reject(e);
    };
    const r = lib.request(url, { method: req.method, headers, lookup: guardedLookup, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) return fail(new ProviderError('too_large', `the answer is ${declared} bytes, more than ${maxBytes}`));
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) return fail(new ProviderError('too_large', `the answer is more than ${maxBytes} bytes`));
        chunks.push(c);
      });
      res.on('error', (e) => fail(new ProviderError('network', e.message)));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: res.statusCode ?? 0, headers: h, contentType: h['content-type'] ?? '', body: Buffer.concat(chunks) });
      });
    });
    const timer = setTimeout(() => fail(new ProviderError('timeout', `${req.method} ${url.host}${url.pathname} took longer than ${timeoutMs} ms`)), timeoutMs);
    r.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      fail(new ProviderError(e.code === 'EBLOCKED' ? 'blocked_address' : 'network', e.message));
    });
    r.on('close', () => clearTimeout(timer));
    if (body) r.write(body);
    r.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
