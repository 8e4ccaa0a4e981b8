import type { CrmRequest } from './api';

/** Newest first, as the API pages them: created_at descending, then id descending. */
export function newestFirst(a: CrmRequest, b: CrmRequest): number {
  const d = Date.parse(b.created_at) - Date.parse(a.created_at);
  if (d !== 0) return d;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * Adds `incoming` to the loaded window of the journal without duplicates, in page order. When more
 * pages remain (`complete` false), requests older than the last loaded one are left to "Load more",
 * so the window stays contiguous.
 */
export function mergeRequests(loaded: CrmRequest[], incoming: CrmRequest[], complete: boolean): { items: CrmRequest[]; added: string[] } {
  const known = new Set(loaded.map((r) => r.id));
  const last = loaded[loaded.length - 1];
  const added = incoming.filter((r) => !known.has(r.id) && (complete || !last || newestFirst(r, last) <= 0));
  if (!added.length) return { items: loaded, added: [] };
  return { items: [...added, ...loaded].sort(newestFirst), added: added.map((r) => r.id) };
}
