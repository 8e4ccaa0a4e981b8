import { injectContext, SpanKind, SpanStatusCode, tracer } from '@crm/telemetry';
import * as grpc from '@grpc/grpc-js';
import { writeTenantContext, type TenantContext } from './context';

type ReqOf<M> = M extends { requestSerialize: (v: infer R) => Buffer } ? R : never;
type ResOf<M> = M extends { responseDeserialize: (b: Buffer) => infer R } ? R : never;

export interface CallOptions {
  /** Overrides the client's default deadline for this call. */
  deadlineMs?: number;
  /** An absolute deadline (e.g. the incoming call's, to propagate it). */
  deadline?: Date;
}

/** A promise client: `await client.getItem(request, tenant)`. */
export type PromiseClient<D> = {
  [K in keyof D]: (request: ReqOf<D[K]>, tenant: TenantContext, opts?: CallOptions) => Promise<ResOf<D[K]>>;
} & { close(): void; waitForReady(timeoutMs: number): Promise<void> };

export interface ClientOptions<D> {
  address: string;
  /** Deadline of every call unless overridden (default 5 s). */
  defaultDeadlineMs?: number;
  /** Methods safe to retry (reads, or writes deduplicated by a request id). Others are never retried. */
  idempotent?: (keyof D)[];
  /** Attempts for idempotent methods on UNAVAILABLE (default 3). */
  maxAttempts?: number;
  retryBackoffMs?: number;
  /**
   * Calls in flight on this client beyond which a new call fails at once with UNAVAILABLE (default
   * 1024): the queue in front of a slow service is bounded, and the caller sheds instead of piling up.
   */
  maxInFlight?: number;
  /**
   * While the channel is not connected, a call waits at most this long for it (default 1000 ms), then
   * fails with UNAVAILABLE: a service that is down or unreachable is an answer within a second, not a
   * wait until the deadline.
   */
  connectTimeoutMs?: number;
  channelOptions?: grpc.ChannelOptions;
}

/**
 * A failure of this client itself (queue full, not connected), shaped like a call's ServiceError and
 * marked `local`: it is not retried (a channel that did not connect within a second will not in 50 ms).
 */
function clientError(code: grpc.status, details: string): grpc.ServiceError & { local: true } {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details, metadata: new grpc.Metadata(), local: true as const });
}

const RETRYABLE = new Set([grpc.status.UNAVAILABLE]);

/**
 * A typed promise client for a ts-proto service definition: tenant metadata and W3C trace context on
 * every call, a deadline on every call, retries (with backoff, within the deadline) only for the
 * methods declared idempotent.
 */
export function createClient<D extends grpc.ServiceDefinition>(definition: D, opts: ClientOptions<D>): PromiseClient<D> {
  const Ctor = grpc.makeGenericClientConstructor(definition, 'client');
  const raw = new Ctor(opts.address, grpc.credentials.createInsecure(), {
    'grpc.keepalive_time_ms': 30_000,
    'grpc.enable_retries': 0,
    'grpc.enable_channelz': 0,
    ...opts.channelOptions,
  }) as unknown as grpc.Client & Record<string, (req: unknown, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: unknown) => void) => void>;
  const idempotent = new Set(opts.idempotent ?? []);
  const maxAttempts = opts.maxAttempts ?? 3;
  const backoff = opts.retryBackoffMs ?? 50;
  const maxInFlight = opts.maxInFlight ?? 1024;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 1000;
  let inFlight = 0;
  const client: Record<string, unknown> = {
    close: () => raw.close(),
    waitForReady: (timeoutMs: number) =>
      new Promise<void>((resolve, reject) => raw.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve()))),
  };

  for (const [key, def] of Object.entries(definition)) {
    client[key] = (request: unknown, tenant: TenantContext, callOpts: CallOptions = {}) => {
      const deadline = callOpts.deadline ?? new Date(Date.now() + (callOpts.deadlineMs ?? opts.defaultDeadlineMs ?? 5000));
      const attempts = idempotent.has(key as keyof D) ? maxAttempts : 1;
      if (inFlight >= maxInFlight) return Promise.reject(clientError(grpc.status.UNAVAILABLE, `${opts.address}: ${maxInFlight} calls already in flight`));
      inFlight += 1;
      return tracer('crm.grpc').startActiveSpan(def.path, { kind: SpanKind.CLIENT, attributes: { 'rpc.system': 'grpc', 'rpc.method': def.path } }, async (span) => {
        try {
          for (let attempt = 1; ; attempt++) {
            try {
              return await once(key, request, tenant, deadline);
            } catch (err) {
              const e = err as grpc.ServiceError;
              const wait = backoff * 2 ** (attempt - 1);
              if (attempt >= attempts || !RETRYABLE.has(e.code) || 'local' in e || Date.now() + wait >= deadline.getTime()) throw err;
              span.addEvent('retry', { attempt, code: e.code });
              await new Promise((r) => setTimeout(r, wait));
            }
          }
        } catch (err) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          throw err;
        } finally {
          inFlight -= 1;
          span.end();
        }
      });
    };
  }

  /**
   * Waits while the channel is connecting, at most connectTimeoutMs (or to the deadline), then fails
   * with UNAVAILABLE: a peer that accepts TCP but never answers (a hung process, a black hole) is an
   * answer within a second. A channel that is ready, or has already failed (connection refused: the
   * call then fails at once with UNAVAILABLE, retried for idempotent methods), goes straight on.
   */
  function connected(deadline: Date): Promise<void> {
    const channel = raw.getChannel();
    const until = Math.min(deadline.getTime(), Date.now() + connectTimeoutMs);
    return new Promise((resolve, reject) => {
      const check = () => {
        const state = channel.getConnectivityState(true);
        if (state !== grpc.connectivityState.CONNECTING && state !== grpc.connectivityState.IDLE) return resolve();
        if (deadline.getTime() <= Date.now()) return resolve(); // the call itself answers DEADLINE_EXCEEDED
        if (Date.now() >= until) return reject(clientError(grpc.status.UNAVAILABLE, `${opts.address}: not connected within ${connectTimeoutMs} ms`));
        channel.watchConnectivityState(state, until, check);
      };
      check();
    });
  }

  async function once(key: string, request: unknown, tenant: TenantContext, deadline: Date): Promise<unknown> {
    await connected(deadline);
    const md = writeTenantContext(new grpc.Metadata(), tenant);
    for (const [k, v] of Object.entries(injectContext())) md.set(k, v);
    return new Promise((resolve, reject) => raw[key](request, md, { deadline }, (err, res) => (err ? reject(err) : resolve(res))));
  }

  return client as PromiseClient<D>;
}
