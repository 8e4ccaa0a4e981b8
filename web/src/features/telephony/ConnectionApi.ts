/**
 * The connections part of the gateway's REST API (`/v1/telephony/connections`, `/v1/telephony/extensions`),
 * typed by `gen/api.ts`. Secrets are write-only; a signing secret is in the answer of a create or a rotation only.
 */
import { client, unwrap, type Complete } from '../../api';
import type { components } from '../../gen/api';

type S = components['schemas'];

export type Connection = Complete<S['TelephonyConnection']>;
export type ConnectionCreated = Complete<S['TelephonyConnectionCreated']>;
export type Extension = Complete<S['TelephonyExtension']>;
export type Decision = Complete<S['TelephonyDecision']>;
export type ProviderName = Connection['provider'];
export type ConnectionInput = S['CreateTelephonyConnection'];

const PROVIDER_SET: Record<ProviderName, true> = { generic: true, kamailio: true, mango: true, zadarma: true, twilio: true };
export const PROVIDERS = Object.keys(PROVIDER_SET) as readonly ProviderName[];
/** Providers whose webhooks we sign (we generate the secret); the others take the admin's credentials. */
export const signedByUs = (p: ProviderName): boolean => p === 'generic' || p === 'kamailio';

const path = (id: string) => ({ path: { id } });

export const connectionApi = {
  list: async (signal?: AbortSignal): Promise<Connection[]> => (await unwrap(client.GET('/v1/telephony/connections', { params: { query: { limit: 100 } }, signal }), signal)).items,
  create: (body: ConnectionInput): Promise<ConnectionCreated> => unwrap(client.POST('/v1/telephony/connections', { body })),
  update: (id: string, body: S['UpdateTelephonyConnection']): Promise<Connection> => unwrap(client.PATCH('/v1/telephony/connections/{id}', { params: path(id), body })),
  rotate: (id: string): Promise<ConnectionCreated> => unwrap(client.POST('/v1/telephony/connections/{id}/rotate-secret', { params: path(id) })),
  decide: (id: string, caller: string, dialed: string): Promise<Decision> => unwrap(client.POST('/v1/telephony/connections/{id}/decide', { params: path(id), body: dialed ? { caller, dialed } : { caller } })),
  extensions: async (connectionId: string, signal?: AbortSignal): Promise<Extension[]> =>
    (await unwrap(client.GET('/v1/telephony/extensions', { params: { query: { connection_id: connectionId, limit: 100 } }, signal }), signal)).items,
  setExtension: (connectionId: string, userId: string, extension: string): Promise<Extension> =>
    unwrap(client.PUT('/v1/telephony/extensions', { body: { connection_id: connectionId, user_id: userId, extension } })),
  deleteExtension: async (id: string): Promise<void> => {
    await unwrap(client.DELETE('/v1/telephony/extensions/{id}', { params: path(id) }));
  },
};
