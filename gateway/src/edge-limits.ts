/**
 * The gateway's HTTP server under hostile input (issue 16, "bad input"): slow clients (a request line or
 * headers sent a byte at a time, a body that never ends), huge headers and connection floods are refused
 * by Node's HTTP server before Fastify or any route spends anything on them, and answered in
 * problem+json where an answer is still possible.
 *
 * - `headersTimeout`: a request's headers must arrive within GATEWAY_HEADERS_TIMEOUT_MS, else 408 and the
 *   connection is closed (slowloris); `requestTimeout`: the whole request, body included, within
 *   GATEWAY_REQUEST_TIMEOUT_MS. Node checks both every `connectionsCheckingInterval` (its default is 30 s,
 *   which would let a stalled connection live 30 s past its timeout; here a quarter of the headers
 *   timeout, at most 5 s).
 * - `keepAliveTimeout`: an idle keep-alive connection is closed after GATEWAY_KEEP_ALIVE_TIMEOUT_MS (72 s
 *   by default: longer than the ingress' own idle timeout, so the proxy never reuses a connection the
 *   gateway is closing). `connectionTimeout`: any socket silent for GATEWAY_SOCKET_TIMEOUT_MS.
 * - `maxHeaderSize`: headers beyond GATEWAY_MAX_HEADER_BYTES (16 KiB) are a 431.
 * - `maxConnections`: at most GATEWAY_MAX_CONNECTIONS open connections; beyond it Node closes new ones at
 *   once. 0 (the default) is the process's open-file soft limit less 512, so a flood of connections never
 *   takes the descriptors the gateway needs for its gRPC channels, Kafka and the web UI's files.
 */
import type { Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import type { FastifyServerOptions } from 'fastify';
import type { Server, ServerOptions } from 'node:http';
import type { GatewayEnv } from './config';

/** Descriptors kept free for the gateway's own use when the connection cap is derived from the open-file limit. */
const RESERVED_DESCRIPTORS = 512;

/** The soft "Max open files" limit of this process (Linux /proc), or undefined where it cannot be read. */
export function openFileLimit(limits = '/proc/self/limits'): number | undefined {
  try {
    const line = readFileSync(limits, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    return Number.isInteger(soft) && soft > 0 ? soft : undefined;
  } catch {
    return undefined;
  }
}

/** The connection cap GATEWAY_MAX_CONNECTIONS asks for; 0 derives it from the open-file limit (undefined: no cap). */
export function connectionCap(env: Pick<GatewayEnv, 'GATEWAY_MAX_CONNECTIONS'>, limits = '/proc/self/limits'): number | undefined {
  if (env.GATEWAY_MAX_CONNECTIONS > 0) return env.GATEWAY_MAX_CONNECTIONS;
  const fileLimit = openFileLimit(limits);
  return fileLimit === undefined ? undefined : Math.max(64, fileLimit - RESERVED_DESCRIPTORS);
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** What a connection-level error answers: the status and a detail for people. */
function clientErrorAnswer(code: string | undefined, maxHeaderBytes: number): { status: number; detail: string } {
  if (code === 'HPE_HEADER_OVERFLOW') return { status: 431, detail: `the request's headers are larger than ${maxHeaderBytes} bytes` };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, detail: 'the request did not arrive in time' };
  return { status: 400, detail: 'the request is not valid HTTP/1.1' };
}

/** Sockets already answered: Node may report a connection's parse error again as more of its bytes arrive. */
const answered = new WeakSet<Socket>();

/**
 * Fastify's `clientErrorHandler`: a connection Node's parser refused (headers too large, too slow, not
 * HTTP) gets a problem+json answer with `Connection: close` and is closed. The rest of its bytes are read
 * and dropped for a moment first, so the client reads the answer instead of a connection reset.
 */
export function clientErrorHandler(maxHeaderBytes: number) {
  return (err: Error & { code?: string }, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed || answered.has(socket)) return;
    answered.add(socket);
    const { status, detail } = clientErrorAnswer(err.code, maxHeaderBytes);
    const body = JSON.stringify({ type: 'about:blank', title: STATUS_TEXT[status], status, detail });
    if (socket.writable) {
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\n` +
          'Content-Type: application/problem+json\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          'Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n' +
          body,
      );
    }
    setTimeout(() => socket.destroy(), 1000).unref();
  };
}

/** The Fastify options that configure its Node HTTP server (spread into `Fastify({...})`). */
export function httpServerOptions(env: GatewayEnv): Pick<FastifyServerOptions, 'connectionTimeout' | 'keepAliveTimeout' | 'requestTimeout' | 'clientErrorHandler'> & { http: ServerOptions } {
  // Node refuses a headers timeout longer than the request timeout.
  const headersTimeout = Math.min(env.GATEWAY_HEADERS_TIMEOUT_MS, env.GATEWAY_REQUEST_TIMEOUT_MS);
  return {
    connectionTimeout: env.GATEWAY_SOCKET_TIMEOUT_MS,
    keepAliveTimeout: env.GATEWAY_KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: env.GATEWAY_REQUEST_TIMEOUT_MS,
    http: {
      headersTimeout,
      requestTimeout: env.GATEWAY_REQUEST_TIMEOUT_MS,
      maxHeaderSize: env.GATEWAY_MAX_HEADER_BYTES,
      connectionsCheckingInterval: Math.max(100, Math.min(5000, Math.floor(headersTimeout / 4))),
    },
    clientErrorHandler: clientErrorHandler(env.GATEWAY_MAX_HEADER_BYTES),
  };
}

/** Caps the server's open connections (see connectionCap); returns the cap, undefined when there is none. */
export function capConnections(server: Server, env: GatewayEnv): number | undefined {
  const cap = connectionCap(env);
  if (cap !== undefined) server.maxConnections = cap;
  return cap;
}
