/** Numbers and DNI pools of the gateway's REST API as the numbers page uses them. Typed by `gen/api.ts`. */
import { client, unwrap, type Complete } from '../../api';
import type { components } from '../../gen/api';

type S = components['schemas'];

export type PhoneNumber = Complete<S['PhoneNumber']>;
export type NumberPool = Complete<S['NumberPool']>;
export type PoolStats = Complete<S['NumberPoolStats']>;
export type NumberKindWord = PhoneNumber['kind'];
export type NumberInput = S['CreateNumber'];
export type NumberPatch = S['UpdateNumber'];
export type PoolInput = S['CreateNumberPool'];
export type PoolPatch = S['UpdateNumberPool'];

export const NUMBER_KINDS: readonly NumberKindWord[] = ['advertising', 'sales', 'support'];

const path = (id: string) => ({ path: { id } });

export const numbersApi = {
  list: (q: { include_archived?: boolean; cursor?: string | null }, signal?: AbortSignal) =>
    unwrap(client.GET('/v1/numbers', { params: { query: { include_archived: q.include_archived, cursor: q.cursor || undefined, limit: 100 } }, signal }), signal),
  create: (body: NumberInput) => unwrap(client.POST('/v1/numbers', { body })),
  update: (id: string, body: NumberPatch) => unwrap(client.PATCH('/v1/numbers/{id}', { params: path(id), body })),
  archive: (id: string) => unwrap(client.POST('/v1/numbers/{id}/archive', { params: path(id) })),
  pools: (include_archived: boolean, signal?: AbortSignal) => unwrap(client.GET('/v1/number-pools', { params: { query: { include_archived, limit: 100 } }, signal }), signal),
  createPool: (body: PoolInput) => unwrap(client.POST('/v1/number-pools', { body })),
  updatePool: (id: string, body: PoolPatch) => unwrap(client.PATCH('/v1/number-pools/{id}', { params: path(id), body })),
  stats: (id: string, signal?: AbortSignal) => unwrap(client.GET('/v1/number-pools/{id}/stats', { params: path(id), signal }), signal),
};

/** The snippet a site embeds (the gateway's public origin is where the UI is served from). */
export const embedSnippet = (p: NumberPool, origin = window.location.origin): string => `<script src="${origin}${p.script_url}" async></script>`;

/** Field errors of a 400 problem by field name. */
export function fieldErrors(err: unknown): Record<string, string> {
  const list = (err as { problem?: { errors?: { field: string; message: string }[] } } | null)?.problem?.errors ?? [];
  return Object.fromEntries(list.map((e) => [e.field, e.message]));
}
