import { DomainError } from '@crm/errors';
import type { Logger } from '@crm/logger';
import { extractContext, meter, SpanKind, SpanStatusCode, tracer } from '@crm/telemetry';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import { readTenantContext, type TenantContext } from './context';
import { toServiceError } from './errors';

/** What a handler gets besides the request. */
export interface CallContext extends TenantContext {
  method: string;
  metadata: grpc.Metadata;
  /** The call's deadline (the client's, capped by the server's maximum). */
  deadline: Date;
  /** Aborted when the deadline passes or the client cancels: pass it to I/O that accepts one. */
  signal: AbortSignal;
  logger: Logger;
}

/** Request and response types of a ts-proto generated method definition. */
type ReqOf<M> = M extends { requestDeserialize: (b: Buffer) => infer R } ? R : never;
type ResOf<M> = M extends { responseDeserialize: (b: Buffer) => infer R } ? R : never;

export type UnaryMethodDefinition = grpc.MethodDefinition<unknown, unknown> & { requestStream: false; responseStream: false };

/** A service implementation in promise form: one async function per unary method. */
export type ServiceHandlers<D> = { [K in keyof D]: (request: ReqOf<D[K]>, ctx: CallContext) => Promise<ResOf<D[K]>> };

export interface ServiceRegistration<D extends grpc.ServiceDefinition = grpc.ServiceDefinition> {
  /** Full service name for health, e.g. crm.testkit.v1.ProbeService */
  name: string;
  definition: D;
  handlers: ServiceHandlers<D>;
}

export interface GrpcServerOptions {
  services: ServiceRegistration[];
  logger: Logger;
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Deadline applied when the client sends none, and the cap on any client deadline (default 30 s). */
  maxDeadlineMs?: number;
}

export interface RunningGrpcServer {
  server: grpc.Server;
  port: number;
  health: HealthImplementation;
  /** Readiness: SERVING / NOT_SERVING for the whole server and every service. */
  setServing(serving: boolean): void;
  /** Stops accepting calls, lets calls in flight finish for up to graceMs, then forces. */
  shutdown(graceMs?: number): Promise<void>;
}

export function registration<D extends grpc.ServiceDefinition>(name: string, definition: D, handlers: ServiceHandlers<D>): ServiceRegistration {
  return { name, definition, handlers } as unknown as ServiceRegistration;
}

function wrapUnary(
  method: string,
  handler: (req: unknown, ctx: CallContext) => Promise<unknown>,
  opts: GrpcServerOptions,
  metrics: { duration: ReturnType<ReturnType<typeof meter>['createHistogram']> },
): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const started = performance.now();
    const carrier: Record<string, string> = {};
    const tp = call.metadata.get('traceparent')[0];
    if (tp) carrier.traceparent = tp.toString();
    const ts = call.metadata.get('tracestate')[0];
    if (ts) carrier.tracestate = ts.toString();
    const parent = extractContext(carrier);

    tracer('crm.grpc').startActiveSpan(method, { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.method': method } }, parent, async (span) => {
      const maxDeadline = Date.now() + (opts.maxDeadlineMs ?? 30_000);
      const clientDeadline = call.getDeadline();
      const deadlineMs = Math.min(maxDeadline, clientDeadline instanceof Date ? clientDeadline.getTime() : Number.isFinite(clientDeadline) ? Number(clientDeadline) : maxDeadline);
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new DomainError('UNAVAILABLE', 'deadline exceeded')), Math.max(0, deadlineMs - Date.now()));
      const onCancel = () => controller.abort(new DomainError('UNAVAILABLE', 'cancelled by the client'));
      call.on('cancelled', onCancel);
      let code = grpc.status.OK;
      try {
        if (deadlineMs <= Date.now()) throw deadlineExceeded();
        const tenant = readTenantContext(call.metadata);
        span.setAttribute('crm.tenant_id', tenant.tenantId);
        let callLogger: Logger | undefined;
        const ctx: CallContext = {
          ...tenant,
          method,
          metadata: call.metadata,
          deadline: new Date(deadlineMs),
          signal: controller.signal,
          // Created on first use: a child logger per call is measurable on the hot path.
          get logger() {
            return (callLogger ??= opts.logger.child({ method, tenantId: tenant.tenantId }));
          },
        };
        const result = await Promise.race([
          handler(call.request, ctx),
          new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(deadlineExceeded()), { once: true })),
        ]);
        callback(null, result);
      } catch (err) {
        const e = isDeadline(err) ? { code: grpc.status.DEADLINE_EXCEEDED, details: 'deadline exceeded', metadata: new grpc.Metadata() } : toServiceError(err);
        code = e.code;
        if (code === grpc.status.INTERNAL || code === grpc.status.UNKNOWN) {
          span.recordException(err as Error);
          span.setStatus({ code: SpanStatusCode.ERROR });
          opts.logger.error({ err, method }, 'grpc call failed');
        }
        callback(e as grpc.ServiceError);
      } finally {
        clearTimeout(timer);
        call.removeListener('cancelled', onCancel);
        const ms = performance.now() - started;
        span.setAttribute('rpc.grpc.status_code', code);
        span.end();
        metrics.duration.record(ms, { 'rpc.method': method, 'rpc.grpc.status_code': code });
        opts.logger.debug({ method, code, ms: Math.round(ms * 10) / 10 }, 'grpc call');
      }
    });
  };
}

const DEADLINE = Symbol('deadline');
function deadlineExceeded(): Error {
  return Object.assign(new Error('deadline exceeded'), { [DEADLINE]: true });
}
function isDeadline(err: unknown): boolean {
  return typeof err === 'object' && err !== null && DEADLINE in err;
}

/** Starts a gRPC server with grpc.health.v1, the tenant/deadline/error/trace/metrics wrapper on every method. */
export async function startGrpcServer(opts: GrpcServerOptions): Promise<RunningGrpcServer> {
  // channelz bookkeeping costs ~10% of a unary call's CPU here; nobody reads it.
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024, 'grpc.enable_channelz': 0 });
  const health = new HealthImplementation({ '': 'NOT_SERVING' });
  health.addToServer(server);
  const duration = meter('crm.grpc').createHistogram('rpc.server.duration', { unit: 'ms', description: 'gRPC server call duration' });

  for (const svc of opts.services) {
    const impl: grpc.UntypedServiceImplementation = {};
    for (const [key, def] of Object.entries(svc.definition)) {
      const handler = (svc.handlers as Record<string, (req: unknown, ctx: CallContext) => Promise<unknown>>)[key];
      if (def.requestStream || def.responseStream) throw new Error(`${def.path}: streaming methods are not supported by this wrapper`);
      if (!handler) throw new Error(`${def.path}: no handler`);
      impl[key] = wrapUnary(def.path, handler, opts, { duration });
    }
    server.addService(svc.definition, impl);
    health.setStatus(svc.name, 'NOT_SERVING');
  }

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${opts.host ?? '0.0.0.0'}:${opts.port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const setServing = (serving: boolean) => {
    const s: ServingStatus = serving ? 'SERVING' : 'NOT_SERVING';
    health.setStatus('', s);
    for (const svc of opts.services) health.setStatus(svc.name, s);
  };
  setServing(true);
  opts.logger.info({ port }, 'grpc server listening');

  return {
    server,
    port,
    health,
    setServing,
    shutdown: async (graceMs = 10_000) => {
      setServing(false);
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
