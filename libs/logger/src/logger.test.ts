import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { Writable } from 'node:stream';
import { createLogger } from './index';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { lines, destination };
}

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

describe('logger', () => {
  it('writes JSON with service, level and a constant message', () => {
    const { lines, destination } = capture();
    createLogger({ service: 'svc', destination }).info({ id: 'x', password: 'p' }, 'thing done');
    expect(lines[0]).toMatchObject({ service: 'svc', level: 'info', msg: 'thing done', id: 'x', password: '[redacted]' });
  });

  it('adds trace and span ids of the active span', () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 'svc', destination });
    const span = trace.wrapSpanContext({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
    });
    context.with(trace.setSpan(context.active(), span), () => log.info('inside'));
    log.info('outside');
    expect(lines[0]).toMatchObject({ trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331' });
    expect(lines[1].trace_id).toBeUndefined();
  });
});
