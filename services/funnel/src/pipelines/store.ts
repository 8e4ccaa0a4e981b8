/**
 * Reading pipelines and their versions. A version's definition never changes once written, so it is
 * cached per (pipeline, version) in memory: a deal move reads its definition without a query.
 * Shared by PipelineService (../pipelines) and DealService (../deals).
 */
import { PipelineDefinition } from '@crm/contracts/crm/funnel/v1/pipelines';
import type { EntityManager } from '@crm/db';

export interface PipelineRow {
  id: string;
  tenant_id: string;
  name: string;
  current_version: number;
  archived: boolean;
  created_at: Date;
  updated_at: Date;
  updated_by: string;
}

const CACHE_MAX = 2000;
const definitions = new Map<string, PipelineDefinition>();

/** The definition as stored in pipeline_versions.definition (proto JSON). */
export function definitionToJson(def: PipelineDefinition): unknown {
  return PipelineDefinition.toJSON(def);
}

/**
 * The tenant's pipeline (archived or not), or null: another tenant's is null like a missing one. `forUpdate`
 * takes FOR NO KEY UPDATE: updates and migrations of one pipeline queue, deal inserts (whose foreign key
 * takes KEY SHARE) do not wait for them.
 */
export async function findPipeline(em: EntityManager, tenantId: string, id: string, opts: { forUpdate?: boolean } = {}): Promise<PipelineRow | null> {
  const rows = await em.execute<PipelineRow[]>(`SELECT * FROM pipelines WHERE tenant_id = ? AND id = ?${opts.forUpdate ? ' FOR NO KEY UPDATE' : ''}`, [tenantId, id]);
  return rows[0] ?? null;
}

/** One version's definition of a tenant's pipeline (null when there is no such version). */
export async function findDefinition(em: EntityManager, tenantId: string, pipelineId: string, version: number): Promise<PipelineDefinition | null> {
  const key = `${tenantId}\u0000${pipelineId}\u0000${version}`;
  const hit = definitions.get(key);
  if (hit) return hit;
  const rows = await em.execute<{ definition: unknown }[]>('SELECT definition FROM pipeline_versions WHERE tenant_id = ? AND pipeline_id = ? AND version = ?', [tenantId, pipelineId, version]);
  if (!rows[0]) return null;
  const def = PipelineDefinition.fromJSON(rows[0].definition);
  if (definitions.size >= CACHE_MAX) definitions.delete(definitions.keys().next().value!);
  definitions.set(key, def);
  return def;
}

/** Stores a new version (the caller's transaction; the caller validated it and bumps current_version). */
export async function insertVersion(em: EntityManager, tenantId: string, pipelineId: string, version: number, def: PipelineDefinition, by: string, at: Date): Promise<void> {
  await em.execute('INSERT INTO pipeline_versions (pipeline_id, version, tenant_id, definition, created_at, created_by) VALUES (?, ?, ?, ?::jsonb, ?, ?)', [
    pipelineId,
    version,
    tenantId,
    JSON.stringify(definitionToJson(def)),
    at,
    by,
  ]);
}
