import type { EntityManager } from '@crm/db';

/**
 * A statement with its parameters sent apart from the SQL (the extended protocol), in the EntityManager's
 * transaction when it has one. MikroORM's em.execute() inlines every parameter into the SQL text as an
 * escaped literal, which for an import batch's ~1 MB JSON parameter (or a 1 MiB chunk of the file) cost
 * more than running the statement; here the driver sends them as they are.
 */
export async function exec<T = Record<string, unknown>>(em: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  const query = em.getKnex().raw(sql, params as never[]);
  const trx = em.getTransactionContext();
  if (trx) query.transacting(trx);
  const res = (await query) as { rows: T[] };
  return res.rows;
}
