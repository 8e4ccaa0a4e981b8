import { EntitySchema, Migration, uuidv7, type EntityManager, type NamedMigration } from '@crm/db';
import { injectContext } from '@crm/telemetry';
import { CONTENT_TYPE_PROTOBUF, validateType, type Codec } from './envelope';

/**
 * The transactional outbox. A service writes its change and the event row in one PostgreSQL
 * transaction (`enqueueEvent` + the service's own flush); the relay publishes the row later.
 */
export interface OutboxEvent {
  id: string; // bigint, as a string
  eventId: string;
  topic: string;
  eventType: string;
  subject: string;
  tenantId: string;
  source: string;
  payload: Buffer;
  traceparent?: string | null;
  tracestate?: string | null;
  createdAt: Date;
  sentAt?: Date | null;
}

export const OutboxEventSchema = new EntitySchema<OutboxEvent>({
  name: 'OutboxEvent',
  tableName: 'outbox',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    eventId: { type: 'uuid', fieldName: 'event_id', unique: true },
    topic: { type: 'text' },
    eventType: { type: 'text', fieldName: 'event_type' },
    subject: { type: 'text' },
    tenantId: { type: 'text', fieldName: 'tenant_id' },
    source: { type: 'text' },
    payload: { type: 'blob', columnType: 'bytea' },
    traceparent: { type: 'text', nullable: true },
    tracestate: { type: 'text', nullable: true },
    createdAt: { type: 'datetime', fieldName: 'created_at', columnType: 'timestamptz', defaultRaw: 'now()' },
    sentAt: { type: 'datetime', fieldName: 'sent_at', columnType: 'timestamptz', nullable: true },
  },
});

/** Creates the outbox table; add it to a service's migrations list. */
export class Migration0001Outbox extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE IF NOT EXISTS outbox (
        id bigserial PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        topic text NOT NULL,
        event_type text NOT NULL,
        subject text NOT NULL,
        tenant_id text NOT NULL,
        source text NOT NULL,
        payload bytea NOT NULL,
        traceparent text,
        tracestate text,
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz
      )`);
    this.addSql('CREATE INDEX IF NOT EXISTS outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL');
    this.addSql('CREATE INDEX IF NOT EXISTS outbox_sent_at_idx ON outbox (sent_at) WHERE sent_at IS NOT NULL');
    // Wake the relay as soon as a transaction with events commits (NOTIFY is delivered on commit).
    this.addSql(`
      CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_notify('outbox', ''); RETURN NULL; END $$`);
    this.addSql('DROP TRIGGER IF EXISTS outbox_notify_trg ON outbox');
    this.addSql('CREATE TRIGGER outbox_notify_trg AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()');
  }
}

export const outboxMigration: NamedMigration = { name: 'lib_0001_outbox', class: Migration0001Outbox };

export interface EnqueueInput<T> {
  topic: string;
  /** ce_type, e.g. crm.intake.request.created.v1 */
  type: string;
  codec: Codec<T>;
  payload: T;
  /** Aggregate id (ce_subject); the Kafka key is `<tenantId>:<subject>`. */
  subject: string;
  tenantId: string;
  /** ce_source, e.g. crm/intake */
  source: string;
}

/**
 * Adds an event to the outbox in the EntityManager's unit of work: it is written by the same flush,
 * in the same transaction, as the change it describes. Captures the active trace context.
 */
export function enqueueEvent<T>(em: EntityManager, input: EnqueueInput<T>): OutboxEvent {
  validateType(input.type);
  if (!input.tenantId) throw new Error('enqueueEvent: tenantId is required');
  if (!input.subject) throw new Error('enqueueEvent: subject is required');
  const carrier = injectContext();
  const row = em.create(OutboxEventSchema, {
    eventId: uuidv7(),
    topic: input.topic,
    eventType: input.type,
    subject: input.subject,
    tenantId: input.tenantId,
    source: input.source,
    payload: Buffer.from(input.codec.encode(input.payload).finish()),
    traceparent: carrier.traceparent ?? null,
    tracestate: carrier.tracestate ?? null,
    createdAt: new Date(),
  });
  em.persist(row);
  return row;
}

export { CONTENT_TYPE_PROTOBUF };
