import { uuidv7, type EntityManager } from '@crm/db';
import { validateType, type EnqueueInput } from '@crm/kafka';
import { injectContext } from '@crm/telemetry';
import { exec } from './sql';

/**
 * enqueueEvent for thousands of events at once: the same outbox rows (table `outbox`, the columns of
 * @crm/kafka's OutboxEventSchema: a new UUIDv7 event id, the registry topic, the encoded payload, the
 * active trace context) written by one INSERT in the caller's transaction instead of one unit-of-work
 * entity each — an import batch publishes two events per new contact, and MikroORM's flush of 2,000
 * entities cost more than the batch's own statements. The relay publishes them like any other row.
 */
export async function enqueueEvents<T>(em: EntityManager, inputs: EnqueueInput<T>[]): Promise<void> {
  if (!inputs.length) return;
  const carrier = injectContext();
  const now = new Date();
  const rows = inputs.map((input) => {
    validateType(input.type);
    if (!input.tenantId || !input.subject) throw new Error('enqueueEvents: tenantId and subject are required');
    return {
      event_id: uuidv7(),
      topic: input.topic,
      event_type: input.type,
      subject: input.subject,
      tenant_id: input.tenantId,
      source: input.source,
      payload: Buffer.from(input.codec.encode(input.payload).finish()).toString('base64'),
    };
  });
  await exec(
    em,
    `INSERT INTO outbox (event_id, topic, event_type, subject, tenant_id, source, payload, traceparent, tracestate, created_at)
     SELECT x.event_id, x.topic, x.event_type, x.subject, x.tenant_id, x.source, decode(x.payload, 'base64'), ?, ?, ?
     FROM jsonb_to_recordset(?::jsonb) AS x(event_id uuid, topic text, event_type text, subject text, tenant_id text, source text, payload text)`,
    [carrier.traceparent ?? null, carrier.tracestate ?? null, now, JSON.stringify(rows)],
  );
}
