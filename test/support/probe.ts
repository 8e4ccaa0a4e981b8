/**
 * The probe service (proto crm.testkit.v1.ProbeService): a tiny real service used by the runtime's
 * integration tests and benchmarks. Items live in PostgreSQL; creating one writes an event through the
 * transactional outbox; a consumer applies item events into item_effects.
 */
import { ItemCreated } from '@crm/contracts/crm/testkit/events/v1/item_events';
import { ProbeServiceService } from '@crm/contracts/crm/testkit/v1/probe';
import { EntitySchema, Migration, uuidv7, type EntityManager, type MikroORM, type NamedMigration } from '@crm/db';
import { NotFoundError, ValidationError } from '@crm/errors';
import { registration, type ServiceRegistration } from '@crm/grpc';
import { decodeData, enqueueEvent, eventingEntities, eventingMigrations, type CloudEvent } from '@crm/kafka';

export const ITEM_TOPIC = 'crm.testkit.item.v1';
export const ITEM_CREATED = 'crm.testkit.item.created.v1';

export interface Item {
  id: string;
  tenantId: string;
  name: string;
  createdAt: Date;
}

export const ItemSchema = new EntitySchema<Item>({
  name: 'Item',
  tableName: 'items',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'text', fieldName: 'tenant_id' },
    name: { type: 'text' },
    createdAt: { type: 'datetime', fieldName: 'created_at', columnType: 'timestamptz' },
  },
});

class Migration0001Items extends Migration {
  override up(): void {
    this.addSql('CREATE TABLE items (id uuid PRIMARY KEY, tenant_id text NOT NULL, name text NOT NULL, created_at timestamptz NOT NULL)');
    this.addSql('CREATE INDEX items_tenant_idx ON items (tenant_id, id)');
    // Deliberately no unique constraint: a duplicate effect would show up here as a second row.
    this.addSql('CREATE TABLE item_effects (id bigserial PRIMARY KEY, event_id uuid NOT NULL, item_id text NOT NULL, tenant_id text NOT NULL, name text NOT NULL)');
  }
}

export const probeMigrations: NamedMigration[] = [...eventingMigrations, { name: 'probe_0001_items', class: Migration0001Items }];
export const probeEntities = [ItemSchema, ...eventingEntities];

function toMessage(item: Item) {
  return { id: item.id, tenantId: item.tenantId, name: item.name };
}

export async function createItem(orm: MikroORM, tenantId: string, name: string): Promise<Item> {
  if (!name || name.length > 200) throw new ValidationError('name must be 1..200 characters', [{ field: 'name', message: 'length 1..200' }]);
  return orm.em.fork().transactional(async (em) => {
    const item = em.create(ItemSchema, { id: uuidv7(), tenantId, name, createdAt: new Date() });
    enqueueEvent(em, {
      topic: ITEM_TOPIC,
      type: ITEM_CREATED,
      codec: ItemCreated,
      payload: { itemId: item.id, tenantId, name },
      subject: item.id,
      tenantId,
      source: 'crm/testkit',
    });
    return item;
  });
}

export function probeService(orm: MikroORM): ServiceRegistration {
  return registration('crm.testkit.v1.ProbeService', ProbeServiceService, {
    echo: async (req, ctx) => ({ message: req.message, tenantId: ctx.tenantId }),
    getItem: async (req, ctx) => {
      const item = await orm.em.fork().findOne(ItemSchema, { id: req.id, tenantId: ctx.tenantId });
      if (!item) throw new NotFoundError('item', req.id);
      return { item: toMessage(item) };
    },
    createItem: async (req, ctx) => ({ item: toMessage(await createItem(orm, ctx.tenantId, req.name)) }),
    sleep: async (req, ctx) => {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, req.delayMs);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        });
      });
      return { sleptMs: req.delayMs };
    },
  });
}

/** The consumer's effect: one item_effects row per applied event (in the consumer's transaction). */
export async function applyItemEvent(event: CloudEvent, em: EntityManager): Promise<void> {
  const payload = decodeData(event, ItemCreated);
  if (payload.name.startsWith('poison')) throw new Error(`cannot apply item named ${payload.name}`);
  await em.execute('INSERT INTO item_effects (event_id, item_id, tenant_id, name) VALUES (?, ?, ?, ?)', [event.id, payload.itemId, event.tenantId, payload.name]);
}
