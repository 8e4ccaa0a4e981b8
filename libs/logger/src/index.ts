import { trace, isSpanContextValid } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export interface LoggerConfig {
  service: string;
  level?: string;
  /** Where to write; stdout by default. Tests pass a stream to capture lines. */
  destination?: DestinationStream;
}

/** Adds trace_id / span_id of the active OpenTelemetry span to every line. */
export function traceFields(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const ctx = span.spanContext();
  if (!isSpanContextValid(ctx)) return {};
  return { trace_id: ctx.traceId, span_id: ctx.spanId };
}

/**
 * pino JSON logger. Convention: the message is a constant string, data goes into fields:
 * `log.info({ requestId }, 'request created')`.
 */
export function createLogger(cfg: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level: cfg.level ?? process.env.LOG_LEVEL ?? 'info',
    base: { service: cfg.service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    formatters: { level: (label) => ({ level: label }) },
    mixin: traceFields,
    redact: { paths: ['password', '*.password', 'apiKey', '*.apiKey', 'secret', '*.secret', 'authorization', '*.authorization'], censor: '[redacted]' },
  };
  return cfg.destination ? pino(options, cfg.destination) : pino(options);
}
