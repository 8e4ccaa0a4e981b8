/**
 * ConnectionService: the tenant's PBX connections and its employees' extensions on them. Secrets are
 * written, never read back: the generic/kamailio signing secret (`whsec_` + 32 random bytes, base64) is
 * returned by create and rotate only; a rotated secret keeps verifying for 24 h. One default connection
 * per tenant (the first one created becomes it; making another the default moves it). Everything is
 * scoped to the caller's tenant: another tenant's connection or extension is NOT_FOUND.
 */
import { randomBytes } from 'node:crypto';
import type { Connection, ConnectionFields, CreateConnectionResponse, Extension, ListConnectionsRequest, ListExtensionsRequest, SetExtensionRequest, UpdateConnectionRequest } from '@crm/contracts/crm/telephony/v1/telephony';
import { Provider } from '@crm/contracts/crm/telephony/v1/telephony';
import { isUuid, uuidv7, type EntityManager } from '@crm/db';
import { DomainError, NotFoundError, ValidationError, type FieldViolation } from '@crm/errors';
import type { TenantContext } from '@crm/grpc';
import type { TelephonyContext } from '../context';
import type { ConnectionRow } from '../calls/model';

type ProviderName = ConnectionRow['provider'];

const PROVIDER_NAMES: Readonly<Record<number, ProviderName>> = {
  [Provider.PROVIDER_GENERIC]: 'generic',
  [Provider.PROVIDER_MANGO]: 'mango',
  [Provider.PROVIDER_ZADARMA]: 'zadarma',
  [Provider.PROVIDER_TWILIO]: 'twilio',
  [Provider.PROVIDER_KAMAILIO]: 'kamailio',
};
const PROVIDER_ENUM: Readonly<Record<ProviderName, Provider>> = {
  generic: Provider.PROVIDER_GENERIC,
  mango: Provider.PROVIDER_MANGO,
  zadarma: Provider.PROVIDER_ZADARMA,
  twilio: Provider.PROVIDER_TWILIO,
  kamailio: Provider.PROVIDER_KAMAILIO,
};

export const providerName = (p: Provider): ProviderName | undefined => PROVIDER_NAMES[p];
export const providerEnum = (p: ProviderName): Provider => PROVIDER_ENUM[p];

/** Providers whose webhooks we sign (we generate the secret); the others verify with the admin's credentials. */
const SIGNED_BY_US = new Set<ProviderName>(['generic', 'kamailio']);
const PREVIOUS_SECRET_VALID_MS = 24 * 3600 * 1000;
export const EXTENSION_RE = /^[0-9A-Za-z_.+-]{1,32}$/;
const MASKABLE = new Set(['name', 'api_base_url', 'account', 'secret', 'fallback_target', 'is_default', 'disabled', 'provider']);

/** A new signing secret: `whsec_` + base64 of 32 random bytes. */
export const newSigningSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

interface ConnRaw {
  id: string;
  tenant_id: string;
  provider: ProviderName;
  name: string;
  api_base_url: string;
  account: string;
  fallback_target: string;
  is_default: boolean;
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
  ck: string;
}

interface ExtRaw {
  id: string;
  connection_id: string;
  user_id: string;
  extension: string;
  created_at: Date;
  ck: string;
}

const CONN_COLS = `id, tenant_id, provider, name, api_base_url, account, fallback_target, is_default, disabled, created_at, updated_at,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ck`;
const EXT_COLS = `id, connection_id, user_id, extension, created_at, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ck`;

// --- keyset pages ------------------------------------------------------------------------------------

const TS_KEY_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const malformedToken = () => new ValidationError('page_token is malformed: pass the next_page_token of the previous page unchanged', [{ field: 'page_token', message: 'is malformed' }]);

function encodeToken(list: string, key: string, id: string): string {
  return Buffer.from(JSON.stringify({ v: 1, l: list, k: key, i: id }), 'utf8').toString('base64url');
}

export function decodeToken(list: string, value: string): { key: string; id: string } | null {
  if (!value) return null;
  if (value.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(value)) throw malformedToken();
  let c: { v?: unknown; l?: unknown; k?: unknown; i?: unknown } | null;
  try {
    c = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw malformedToken();
  }
  if (!c || typeof c !== 'object' || c.v !== 1 || c.l !== list || typeof c.k !== 'string' || typeof c.i !== 'string' || !TS_KEY_RE.test(c.k) || !isUuid(c.i)) throw malformedToken();
  return { key: c.k, id: c.i };
}

export function pageSizeOf(raw: number): number {
  if (!raw) return 50;
  if (!Number.isInteger(raw) || raw < 1 || raw > 100) throw new ValidationError('page_size must be 1..100 (0 means 50)', [{ field: 'page_size', message: 'must be 0..100' }]);
  return raw;
}

// --- validation --------------------------------------------------------------------------------------

function checkUrl(v: string): string | undefined {
  if (v === '') return undefined;
  if (v.length > 500) return 'must be at most 500 characters';
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must be an http(s) URL';
    if (u.username || u.password) return 'must not carry credentials';
  } catch {
    return 'must be an http(s) URL';
  }
  return undefined;
}

const hasControl = (s: string) => [...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

/** Violations of the fields present (`only`: the masked ones of an update; undefined: all, for a create). */
export function connectionViolations(f: ConnectionFields, only?: Set<string>, provider?: ProviderName): FieldViolation[] {
  const v: FieldViolation[] = [];
  const on = (name: string) => !only || only.has(name);
  const p = provider ?? providerName(f.provider);
  if (!only && !p) v.push({ field: 'connection.provider', message: 'must be one of generic, mango, zadarma, twilio, kamailio' });
  if (on('name')) {
    const name = f.name.trim();
    if (name.length < 1 || name.length > 200) v.push({ field: 'connection.name', message: 'must be 1..200 characters' });
    else if (hasControl(name)) v.push({ field: 'connection.name', message: 'must not contain control characters' });
  }
  if (on('api_base_url')) {
    const problem = checkUrl(f.apiBaseUrl);
    if (problem) v.push({ field: 'connection.api_base_url', message: problem });
  }
  if (on('account') && (f.account.length > 200 || hasControl(f.account))) v.push({ field: 'connection.account', message: 'must be at most 200 characters, no control characters' });
  if (on('secret')) {
    if (f.secret.length > 500 || hasControl(f.secret)) v.push({ field: 'connection.secret', message: 'must be at most 500 characters, no control characters' });
    else if (!only && p && !SIGNED_BY_US.has(p) && !f.secret) v.push({ field: 'connection.secret', message: `is required for ${p} (the provider's signing credential)` });
  }
  if (on('fallback_target') && (f.fallbackTarget.length > 200 || hasControl(f.fallbackTarget))) v.push({ field: 'connection.fallback_target', message: 'must be at most 200 characters, no control characters' });
  return v;
}

// --- the service -------------------------------------------------------------------------------------

export class ConnectionsService {
  constructor(private readonly ctx: TelephonyContext) {}

  private em(): EntityManager {
    return this.ctx.orm.em.fork() as EntityManager;
  }

  webhookUrl(id: string): string {
    return `${this.ctx.env.TELEPHONY_PUBLIC_URL.replace(/\/+$/, '')}/webhooks/telephony/${id}`;
  }

  private message(r: ConnRaw): Connection {
    return {
      id: r.id,
      provider: providerEnum(r.provider),
      name: r.name,
      apiBaseUrl: r.api_base_url,
      account: r.account,
      webhookUrl: this.webhookUrl(r.id),
      fallbackTarget: r.fallback_target,
      isDefault: r.is_default,
      disabled: r.disabled,
      createdAt: new Date(r.created_at).toISOString(),
      updatedAt: new Date(r.updated_at).toISOString(),
    };
  }

  private async row(em: EntityManager, tenantId: string, id: string, lock = false): Promise<ConnRaw> {
    const [r] = isUuid(id) ? await em.execute<ConnRaw[]>(`SELECT ${CONN_COLS} FROM connections WHERE tenant_id = ? AND id = ?${lock ? ' FOR UPDATE' : ''}`, [tenantId, id]) : [];
    if (!r) throw new NotFoundError('connection', id.slice(0, 64));
    return r;
  }

  async create(t: TenantContext, fields: ConnectionFields | undefined): Promise<CreateConnectionResponse> {
    if (!fields) throw new ValidationError('connection is required', [{ field: 'connection', message: 'is required' }]);
    const violations = connectionViolations(fields);
    if (violations.length) throw new ValidationError('the connection is invalid', violations);
    const provider = providerName(fields.provider)!;
    const signingSecret = SIGNED_BY_US.has(provider) ? newSigningSecret() : '';
    const id = uuidv7();
    const now = new Date();
    return this.em().transactional(async (em) => {
      // One writer of the tenant's default at a time.
      await em.execute('SELECT pg_advisory_xact_lock(hashtext(?))', [`telephony:default:${t.tenantId}`]);
      const [{ n }] = await em.execute<{ n: number }[]>('SELECT count(*)::int AS n FROM connections WHERE tenant_id = ? AND is_default', [t.tenantId]);
      const isDefault = fields.isDefault || n === 0;
      if (isDefault) await em.execute('UPDATE connections SET is_default = false, updated_at = ? WHERE tenant_id = ? AND is_default', [now, t.tenantId]);
      await em.execute(
        `INSERT INTO connections (id, tenant_id, provider, name, api_base_url, account, secret, signing_secret, fallback_target, is_default, disabled, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [id, t.tenantId, provider, fields.name.trim(), fields.apiBaseUrl, fields.account, SIGNED_BY_US.has(provider) ? '' : fields.secret, signingSecret, fields.fallbackTarget, isDefault, fields.disabled, now, now],
      );
      return { connection: this.message(await this.row(em, t.tenantId, id)), signingSecret };
    });
  }

  async update(t: TenantContext, req: UpdateConnectionRequest): Promise<Connection> {
    const f = req.connection;
    if (!f) throw new ValidationError('connection is required', [{ field: 'connection', message: 'is required' }]);
    const mask = new Set(req.updateMask.map((m) => m.trim()).filter(Boolean));
    if (!mask.size) throw new ValidationError('update_mask must name at least one field', [{ field: 'update_mask', message: 'is empty' }]);
    const unknown = [...mask].filter((m) => !MASKABLE.has(m));
    if (unknown.length) throw new ValidationError('update_mask names unknown fields', unknown.map((m) => ({ field: 'update_mask', message: `unknown field ${m.slice(0, 40)}` })));
    return this.em().transactional(async (em) => {
      await em.execute('SELECT pg_advisory_xact_lock(hashtext(?))', [`telephony:default:${t.tenantId}`]);
      const cur = await this.row(em, t.tenantId, req.id, true);
      const violations = connectionViolations(f, mask, cur.provider);
      if (mask.has('provider') && f.provider !== providerEnum(cur.provider)) violations.push({ field: 'connection.provider', message: 'cannot be changed (create another connection)' });
      if (mask.has('secret') && SIGNED_BY_US.has(cur.provider)) violations.push({ field: 'connection.secret', message: `is generated for ${cur.provider}: use rotate-secret` });
      if (mask.has('secret') && !SIGNED_BY_US.has(cur.provider) && !f.secret) violations.push({ field: 'connection.secret', message: `is required for ${cur.provider}` });
      if (mask.has('is_default') && !f.isDefault && cur.is_default) violations.push({ field: 'connection.is_default', message: 'make another connection the default instead' });
      if (violations.length) throw new ValidationError('the connection is invalid', violations);
      const now = new Date();
      const sets: string[] = ['updated_at = ?'];
      const params: unknown[] = [now];
      const set = (col: string, value: unknown) => {
        sets.push(`${col} = ?`);
        params.push(value);
      };
      if (mask.has('name')) set('name', f.name.trim());
      if (mask.has('api_base_url')) set('api_base_url', f.apiBaseUrl);
      if (mask.has('account')) set('account', f.account);
      if (mask.has('secret')) set('secret', f.secret);
      if (mask.has('fallback_target')) set('fallback_target', f.fallbackTarget);
      if (mask.has('disabled')) set('disabled', f.disabled);
      if (mask.has('is_default') && f.isDefault && !cur.is_default) {
        await em.execute('UPDATE connections SET is_default = false, updated_at = ? WHERE tenant_id = ? AND is_default', [now, t.tenantId]);
        set('is_default', true);
      }
      await em.execute(`UPDATE connections SET ${sets.join(', ')} WHERE id = ?`, [...params, cur.id]);
      return this.message(await this.row(em, t.tenantId, cur.id));
    });
  }

  async get(t: TenantContext, id: string): Promise<Connection> {
    return this.message(await this.row(this.em(), t.tenantId, id));
  }

  async list(t: TenantContext, req: ListConnectionsRequest): Promise<{ connections: Connection[]; nextPageToken: string }> {
    const size = pageSizeOf(req.pageSize);
    const after = decodeToken('connections', req.pageToken);
    const rows = await this.em().execute<ConnRaw[]>(
      `SELECT ${CONN_COLS} FROM connections WHERE tenant_id = ?${after ? ' AND (created_at, id) > (?::timestamptz, ?::uuid)' : ''} ORDER BY created_at, id LIMIT ?`,
      after ? [t.tenantId, after.key, after.id, size + 1] : [t.tenantId, size + 1],
    );
    const items = rows.slice(0, size);
    const last = items[items.length - 1];
    return { connections: items.map((r) => this.message(r)), nextPageToken: rows.length > size && last ? encodeToken('connections', last.ck, last.id) : '' };
  }

  async rotate(t: TenantContext, id: string): Promise<CreateConnectionResponse> {
    return this.em().transactional(async (em) => {
      const cur = await this.row(em, t.tenantId, id, true);
      if (!SIGNED_BY_US.has(cur.provider)) {
        throw new DomainError('FAILED_PRECONDITION', `${cur.provider} connections are verified with the provider's credentials: update the secret instead`, { details: { reason: 'not_supported' } });
      }
      const signingSecret = newSigningSecret();
      const now = new Date();
      await em.execute(
        `UPDATE connections SET previous_signing_secret = signing_secret, previous_valid_until = ?, signing_secret = ?, updated_at = ? WHERE id = ?`,
        [new Date(now.getTime() + PREVIOUS_SECRET_VALID_MS), signingSecret, now, cur.id],
      );
      return { connection: this.message(await this.row(em, t.tenantId, cur.id)), signingSecret };
    });
  }

  // --- extensions ---

  private extMessage = (r: ExtRaw): Extension => ({ id: r.id, connectionId: r.connection_id, userId: r.user_id, extension: r.extension, createdAt: new Date(r.created_at).toISOString() });

  /** identity says whether the user is the tenant's (NOT_FOUND → a violation; identity down → UNAVAILABLE). */
  private async checkUser(tenantId: string, userId: string): Promise<void> {
    try {
      await this.ctx.clients.identity.getUser({ id: userId }, { tenantId, callerId: 'telephony', callerKind: 'service' }, { deadlineMs: 3000 });
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 5 /* NOT_FOUND */) throw new ValidationError('the user is not a user of this tenant', [{ field: 'user_id', message: 'is not a user of this tenant' }]);
      throw new DomainError('UNAVAILABLE', 'identity did not answer: try again', { cause: err, details: { reason: 'identity_unavailable' } });
    }
  }

  async setExtension(t: TenantContext, req: SetExtensionRequest): Promise<Extension> {
    const v: FieldViolation[] = [];
    if (!isUuid(req.connectionId)) v.push({ field: 'connection_id', message: 'must be a UUID' });
    if (!isUuid(req.userId)) v.push({ field: 'user_id', message: 'must be a UUID' });
    const extension = req.extension.trim();
    if (!EXTENSION_RE.test(extension)) v.push({ field: 'extension', message: 'must be 1..32 of 0-9 A-Z a-z _ . + -' });
    if (v.length) throw new ValidationError('the extension is invalid', v);
    const userId = req.userId.toLowerCase();
    await this.row(this.em(), t.tenantId, req.connectionId);
    await this.checkUser(t.tenantId, userId);
    try {
      return await this.em().transactional(async (em) => {
        const conn = await this.row(em, t.tenantId, req.connectionId, true);
        const [taken] = await em.execute<{ user_id: string }[]>('SELECT user_id FROM extensions WHERE connection_id = ? AND extension = ? AND user_id <> ?', [conn.id, extension, userId]);
        if (taken) throw extensionTaken(extension);
        await em.execute(
          `INSERT INTO extensions (id, tenant_id, connection_id, user_id, extension, created_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (connection_id, user_id) DO UPDATE SET extension = EXCLUDED.extension`,
          [uuidv7(), t.tenantId, conn.id, userId, extension, new Date()],
        );
        const [r] = await em.execute<ExtRaw[]>(`SELECT ${EXT_COLS} FROM extensions WHERE connection_id = ? AND user_id = ?`, [conn.id, userId]);
        return this.extMessage(r!);
      });
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw extensionTaken(extension);
      throw err;
    }
  }

  async deleteExtension(t: TenantContext, id: string): Promise<void> {
    const rows = isUuid(id) ? await this.em().execute<{ id: string }[]>('DELETE FROM extensions WHERE tenant_id = ? AND id = ? RETURNING id', [t.tenantId, id]) : [];
    if (!rows.length) throw new NotFoundError('extension', id.slice(0, 64));
  }

  async listExtensions(t: TenantContext, req: ListExtensionsRequest): Promise<{ extensions: Extension[]; nextPageToken: string }> {
    const v: FieldViolation[] = [];
    if (req.connectionId && !isUuid(req.connectionId)) v.push({ field: 'connection_id', message: 'must be a UUID' });
    if (req.userId && !isUuid(req.userId)) v.push({ field: 'user_id', message: 'must be a UUID' });
    if (v.length) throw new ValidationError('the filter is invalid', v);
    const size = pageSizeOf(req.pageSize);
    const after = decodeToken('extensions', req.pageToken);
    const where = ['tenant_id = ?'];
    const params: unknown[] = [t.tenantId];
    if (req.connectionId) {
      where.push('connection_id = ?');
      params.push(req.connectionId);
    }
    if (req.userId) {
      where.push('user_id = ?');
      params.push(req.userId.toLowerCase());
    }
    if (after) {
      where.push('(created_at, id) > (?::timestamptz, ?::uuid)');
      params.push(after.key, after.id);
    }
    const rows = await this.em().execute<ExtRaw[]>(`SELECT ${EXT_COLS} FROM extensions WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT ?`, [...params, size + 1]);
    const items = rows.slice(0, size);
    const last = items[items.length - 1];
    return { extensions: items.map(this.extMessage), nextPageToken: rows.length > size && last ? encodeToken('extensions', last.ck, last.id) : '' };
  }
}

const extensionTaken = (extension: string) =>
  new DomainError('ALREADY_EXISTS', `extension ${extension} belongs to another user on this connection`, {
    details: { reason: 'extension_taken' },
    violations: [{ field: 'extension', message: 'belongs to another user on this connection' }],
  });
