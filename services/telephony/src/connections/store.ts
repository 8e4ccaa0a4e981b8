import type { EntityManager } from '@crm/db';
import type { ConnectionRow } from '../calls/model';

/** Lookups every area needs (webhooks, decisions, calls). The ConnectionService itself is in connections.service.ts. */

interface Raw {
  id: string;
  tenant_id: string;
  provider: ConnectionRow['provider'];
  name: string;
  api_base_url: string;
  account: string;
  secret: string;
  signing_secret: string;
  previous_signing_secret: string;
  previous_valid_until: Date | null;
  fallback_target: string;
  is_default: boolean;
  disabled: boolean;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function connectionOf(r: Raw, now = new Date()): ConnectionRow {
  const signingSecrets = [r.signing_secret];
  // the driver may hand a timestamptz back as a string: compare instants
  if (r.previous_signing_secret && r.previous_valid_until && new Date(r.previous_valid_until).getTime() > now.getTime()) signingSecrets.push(r.previous_signing_secret);
  return {
    id: r.id,
    tenantId: r.tenant_id,
    provider: r.provider,
    name: r.name,
    apiBaseUrl: r.api_base_url,
    account: r.account,
    secret: r.secret,
    signingSecrets: signingSecrets.filter(Boolean),
    fallbackTarget: r.fallback_target,
    isDefault: r.is_default,
    disabled: r.disabled,
  };
}

/** A connection by id with its secrets, whatever the tenant (a provider's URL names it); undefined when unknown. */
export async function loadConnection(em: EntityManager, id: string): Promise<ConnectionRow | undefined> {
  if (!UUID_RE.test(id)) return undefined;
  const [r] = await em.execute<Raw[]>('SELECT * FROM connections WHERE id = ?', [id]);
  return r ? connectionOf(r) : undefined;
}

/** The tenant's default connection (click-to-call), undefined when none. */
export async function defaultConnection(em: EntityManager, tenantId: string): Promise<ConnectionRow | undefined> {
  const [r] = await em.execute<Raw[]>('SELECT * FROM connections WHERE tenant_id = ? AND is_default AND NOT disabled', [tenantId]);
  return r ? connectionOf(r) : undefined;
}

/** user id → extension on a connection, for the given users (missing ones have none). */
export async function extensionsOfUsers(em: EntityManager, connectionId: string, userIds: readonly string[]): Promise<Map<string, string>> {
  if (!userIds.length) return new Map();
  const rows = await em.execute<{ user_id: string; extension: string }[]>('SELECT user_id, extension FROM extensions WHERE connection_id = ? AND user_id IN (?)', [connectionId, userIds as string[]]);
  return new Map(rows.map((r) => [r.user_id, r.extension]));
}

/** extension → user id on a connection, for the given extensions (unknown ones are left out). */
export async function usersOfExtensions(em: EntityManager, connectionId: string, extensions: readonly string[]): Promise<Map<string, string>> {
  if (!extensions.length) return new Map();
  const rows = await em.execute<{ user_id: string; extension: string }[]>('SELECT user_id, extension FROM extensions WHERE connection_id = ? AND extension IN (?)', [connectionId, extensions as string[]]);
  return new Map(rows.map((r) => [r.extension, r.user_id]));
}
