import {
  context,
  metrics,
  propagation,
  trace,
  SpanKind,
  SpanStatusCode,
  type Context,
  type Span,
  type SpanOptions,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export { context, metrics, propagation, trace, SpanKind, SpanStatusCode };
export type { Context, Span };

export interface TelemetryConfig {
  serviceName: string;
  /** OTLP/HTTP endpoint base, e.g. http://otel-collector:4318. Nothing is exported when absent. */
  otlpEndpoint?: string;
  /** Extra span exporters (tests use an in-memory exporter to read what was recorded). */
  spanExporters?: SpanExporter[];
  /** Extra metric readers (tests, Prometheus). */
  metricReaders?: MetricReader[];
  metricExportIntervalMs?: number;
}

export interface Telemetry {
  shutdown(): Promise<void>;
  forceFlush(): Promise<void>;
}

let active: { tracer: NodeTracerProvider; meter: MeterProvider } | undefined;

/**
 * Starts the OpenTelemetry SDK: traces and metrics, W3C trace-context propagation, AsyncLocalStorage
 * context. Call once, first thing in main(). Safe to call again (the previous SDK is shut down).
 */
export async function initTelemetry(cfg: TelemetryConfig): Promise<Telemetry> {
  if (active) await shutdownActive();
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: cfg.serviceName });
  const spanProcessors: SpanProcessor[] = [];
  if (cfg.otlpEndpoint) {
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: `${cfg.otlpEndpoint}/v1/traces` })));
  }
  for (const exporter of cfg.spanExporters ?? []) spanProcessors.push(new SimpleSpanProcessor(exporter));
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors });
  tracerProvider.register({ propagator: new W3CTraceContextPropagator() });

  const readers: MetricReader[] = [...(cfg.metricReaders ?? [])];
  if (cfg.otlpEndpoint) {
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${cfg.otlpEndpoint}/v1/metrics` }),
        exportIntervalMillis: cfg.metricExportIntervalMs ?? 15_000,
      }),
    );
  }
  const meterProvider = new MeterProvider({ resource, readers });
  metrics.setGlobalMeterProvider(meterProvider);
  active = { tracer: tracerProvider, meter: meterProvider };
  return {
    shutdown: shutdownActive,
    forceFlush: async () => {
      await tracerProvider.forceFlush();
      await meterProvider.forceFlush();
    },
  };
}

async function shutdownActive(): Promise<void> {
  const current = active;
  active = undefined;
  if (!current) return;
  await Promise.allSettled([current.tracer.shutdown(), current.meter.shutdown()]);
  trace.disable();
  metrics.disable();
  propagation.disable();
  context.disable();
}

export function tracer(name = 'crm') {
  return trace.getTracer(name);
}

export function meter(name = 'crm') {
  return metrics.getMeter(name);
}

/** Runs fn inside a new active span; records exceptions and ends the span. */
export async function withSpan<T>(
  name: string,
  options: SpanOptions & { parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer().startActiveSpan(name, options, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** A plain string map carrier: gRPC metadata values and Kafka headers are converted to/from it. */
export type Carrier = Record<string, string>;

const recordGetter: TextMapGetter<Carrier> = {
  keys: (c) => Object.keys(c),
  get: (c, k) => c[k],
};
const recordSetter: TextMapSetter<Carrier> = {
  set: (c, k, v) => {
    c[k] = v;
  },
};

/** Writes `traceparent` (and `tracestate`) of ctx into a fresh carrier. */
export function injectContext(ctx: Context = context.active()): Carrier {
  const carrier: Carrier = {};
  propagation.inject(ctx, carrier, recordSetter);
  return carrier;
}

/** Reads a context from a carrier holding `traceparent`; the active context when none is there. */
export function extractContext(carrier: Carrier, base: Context = context.active()): Context {
  return propagation.extract(base, carrier, recordGetter);
}

/** The traceparent of the active span, or undefined. */
export function currentTraceparent(): string | undefined {
  return injectContext().traceparent;
}
