/** The sessions part of the gateway's REST API (typed by gen/api.ts, `npm run openapi`). */
import { client, unwrap } from '../../api';
import type { components } from '../../gen/api';

export type SessionInfo = components['schemas']['SessionInfo'];

export const sessionsApi = {
  listMine: async (signal?: AbortSignal): Promise<SessionInfo[]> => (await unwrap(client.GET('/v1/me/sessions', { signal }), signal)).items,
  endMine: async (id: string): Promise<void> => {
    await unwrap(client.DELETE('/v1/me/sessions/{id}', { params: { path: { id } } }));
  },
  /** keepCurrent: sign out everywhere else; false: everywhere, this browser included. */
  endMineAll: async (keepCurrent: boolean): Promise<number> => (await unwrap(client.DELETE('/v1/me/sessions', { params: { query: { keep_current: keepCurrent } } }))).ended,
  /** An admin ends every session of a user. */
  endUser: async (userId: string): Promise<number> => (await unwrap(client.DELETE('/v1/team/users/{id}/sessions', { params: { path: { id: userId } } }))).ended,
};
