/**
 * NumberService's use cases over PostgreSQL (raw SQL in transactions). Every statement is scoped by the
 * caller's tenant: another tenant's number or pool is NOT_FOUND like a missing one. One active number
 * per phone across tenants (the unique index `numbers_active_phone_idx` backs the check); a number is in
 * at most one pool, and only advertising numbers are lent. Pool membership is mirrored in `dni_leases`
 * (one lease row per pool number, what lending locks).
 */
import type {
  CreateNumberRequest,
  CreatePoolRequest,
  GetPoolStatsRequest,
  GetPoolStatsResponse,
  ListNumbersRequest,
  ListNumbersResponse,
  ListPoolsRequest,
  ListPoolsResponse,
  PhoneNumber,
  Pool,
  UpdateNumberRequest,
  UpdatePoolRequest,
} from '@crm/contracts/crm/telephony/v1/telephony';
import { uuidv7, type EntityManager, type MikroORM } from '@crm/db';
import { DomainError, NotFoundError, ValidationError } from '@crm/errors';
import type { TenantContext } from '@crm/grpc';
import { randomBytes } from 'node:crypto';
import {
  countryArg,
  idArg,
  idListArg,
  instantArg,
  KIND_ENUM,
  kindArg,
  LABEL_MAX,
  optionalIdArg,
  originsArg,
  pageSizeArg,
  phoneArg,
  POOL_NAME_MAX,
  POOL_NUMBERS_MAX,
  quietArg,
  searchArg,
  textArg,
  UTM_MAX,
  Violations,
  type KindWord,
} from './args';
import { decodeKeyset, page, tsKeySql } from './keyset';

interface NumberDb {
  id: string;
  tenant_id: string;
  phone: string;
  kind: KindWord;
  label: string;
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
  project_id: string;
  department_id: string;
  pool_id: string | null;
  connection_id: string | null;
  archived: boolean;
  created_at: Date;
  updated_at: Date;
  key: string;
}

interface PoolDb {
  id: string;
  tenant_id: string;
  name: string;
  public_id: string;
  fallback_phone: string;
  quiet_seconds: number;
  allowed_origins: string[];
  archived: boolean;
  created_at: Date;
  updated_at: Date;
  key: string;
  number_ids: string[] | null;
}

const NUMBER_COLS = `n.*, ${tsKeySql('n.created_at')} AS key`;
const POOL_COLS = `p.*, ${tsKeySql('p.created_at')} AS key, ARRAY(SELECT x.id::text FROM numbers x WHERE x.pool_id = p.id ORDER BY x.created_at, x.id) AS number_ids`;

const iso = (d: Date | string): string => new Date(d).toISOString();

export function numberOut(r: NumberDb): PhoneNumber {
  return {
    id: r.id,
    phone: r.phone,
    kind: KIND_ENUM[r.kind],
    label: r.label,
    utmSource: r.utm_source,
    utmMedium: r.utm_medium,
    utmCampaign: r.utm_campaign,
    projectId: r.project_id,
    departmentId: r.department_id,
    poolId: r.pool_id ?? '',
    connectionId: r.connection_id ?? '',
    archived: r.archived,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

export function poolOut(r: PoolDb): Pool {
  return {
    id: r.id,
    name: r.name,
    publicId: r.public_id,
    numberIds: r.number_ids ?? [],
    fallbackPhone: r.fallback_phone,
    quietSeconds: r.quiet_seconds,
    allowedOrigins: r.allowed_origins ?? [],
    archived: r.archived,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

const NUMBER_MASK = ['kind', 'label', 'utm_source', 'utm_medium', 'utm_campaign', 'project_id', 'department_id', 'connection_id'] as const;
const POOL_MASK = ['name', 'number_ids', 'fallback_phone', 'quiet_seconds', 'allowed_origins'] as const;

function maskArg<T extends string>(raw: string[] | undefined, allowed: readonly T[], fixed: string[] = []): Set<T> {
  const v = new Violations();
  (raw ?? []).forEach((f, i) => {
    if (fixed.includes(f)) v.add(`update_mask[${i}]`, `${f} cannot be changed`);
    else if (!(allowed as readonly string[]).includes(f)) v.add(`update_mask[${i}]`, `must be one of ${allowed.join(', ')}`);
  });
  v.throwIfAny('the update mask is invalid');
  return new Set(raw as T[]);
}

const isUniqueViolation = (err: unknown, constraint: string): boolean => {
  const e = err as { code?: string; constraint?: string } | null;
  return e?.code === '23505' && (!e.constraint || e.constraint === constraint);
};

const numberTaken = (phone: string): DomainError =>
  new DomainError('ALREADY_EXISTS', `${phone} is already an active number`, { details: { reason: 'number_taken' }, violations: [{ field: 'phone', message: 'is already an active number' }] });

/** Whether the tenant has these (identity's projects and departments); a number may only point at its own tenant's. */
export type TeamRefs = (tenantId: string, refs: { projectId?: string; departmentId?: string }) => Promise<{ project: boolean; department: boolean }>;

export class NumbersService {
  constructor(
    private readonly orm: MikroORM,
    private readonly teamRefs: TeamRefs = async () => ({ project: true, department: true }),
  ) {}

  /** Another tenant's (or no) project or department is refused on its field, as if unknown. */
  private async checkTeamRefs(v: Violations, tenantId: string, projectId: string | undefined, departmentId: string | undefined): Promise<void> {
    if (!projectId && !departmentId) return;
    const known = await this.teamRefs(tenantId, { projectId: projectId || undefined, departmentId: departmentId || undefined });
    if (projectId && !known.project) v.add('project_id', 'no such project');
    if (departmentId && !known.department) v.add('department_id', 'no such department');
  }

  private tx<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.orm.em.fork().transactional(fn);
  }

  private async loadNumber(em: EntityManager, tenantId: string, id: string, forUpdate = false): Promise<NumberDb> {
    const [r] = await em.execute<NumberDb[]>(`SELECT ${NUMBER_COLS} FROM numbers n WHERE n.tenant_id = ? AND n.id = ?${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId, id]);
    if (!r) throw new NotFoundError('number', id);
    return r;
  }

  private async loadPool(em: EntityManager, tenantId: string, id: string, forUpdate = false): Promise<PoolDb> {
    if (forUpdate) await em.execute('SELECT 1 FROM pools WHERE tenant_id = ? AND id = ? FOR UPDATE', [tenantId, id]);
    const [r] = await em.execute<PoolDb[]>(`SELECT ${POOL_COLS} FROM pools p WHERE p.tenant_id = ? AND p.id = ?`, [tenantId, id]);
    if (!r) throw new NotFoundError('pool', id);
    return r;
  }

  private async checkConnection(em: EntityManager, v: Violations, tenantId: string, id: string): Promise<void> {
    if (!id) return;
    const [r] = await em.execute<{ id: string }[]>('SELECT id FROM connections WHERE tenant_id = ? AND id = ?', [tenantId, id]);
    if (!r) v.add('connection_id', 'is not a connection of this tenant');
  }

  // ---- numbers ----------------------------------------------------------------------------------------

  async createNumber(ctx: TenantContext, req: CreateNumberRequest): Promise<PhoneNumber> {
    const f = req.number;
    const v = new Violations();
    const country = countryArg(v, req.defaultCountry);
    const phone = phoneArg(v, 'phone', f?.phone, country);
    const kind = kindArg(v, f?.kind);
    const label = textArg(v, 'label', f?.label, LABEL_MAX);
    const utm = { s: textArg(v, 'utm_source', f?.utmSource, UTM_MAX), m: textArg(v, 'utm_medium', f?.utmMedium, UTM_MAX), c: textArg(v, 'utm_campaign', f?.utmCampaign, UTM_MAX) };
    const projectId = optionalIdArg(v, 'project_id', f?.projectId);
    const departmentId = optionalIdArg(v, 'department_id', f?.departmentId);
    const connectionId = optionalIdArg(v, 'connection_id', f?.connectionId);
    v.throwIfAny('the number is invalid');
    await this.checkTeamRefs(v, ctx.tenantId, projectId, departmentId);
    v.throwIfAny('the number is invalid');
    try {
      return await this.tx(async (em) => {
        await this.checkConnection(em, v, ctx.tenantId, connectionId);
        v.throwIfAny('the number is invalid');
        const [taken] = await em.execute<{ id: string }[]>('SELECT id FROM numbers WHERE phone = ? AND NOT archived', [phone]);
        if (taken) throw numberTaken(phone);
        const id = uuidv7();
        const now = new Date();
        await em.execute(
          `INSERT INTO numbers (id, tenant_id, phone, kind, label, utm_source, utm_medium, utm_campaign, project_id, department_id, connection_id, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [id, ctx.tenantId, phone, kind, label, utm.s, utm.m, utm.c, projectId, departmentId, connectionId || null, now, now],
        );
        return numberOut(await this.loadNumber(em, ctx.tenantId, id));
      });
    } catch (err) {
      if (isUniqueViolation(err, 'numbers_active_phone_idx')) throw numberTaken(phone);
      throw err;
    }
  }

  async updateNumber(ctx: TenantContext, req: UpdateNumberRequest): Promise<PhoneNumber> {
    const id = idArg('id', req.id);
    const mask = maskArg(req.updateMask, NUMBER_MASK, ['phone']);
    const f = req.number;
    const v = new Violations();
    const sets: string[] = [];
    const params: unknown[] = [];
    const put = (col: string, val: unknown) => {
      sets.push(`${col} = ?`);
      params.push(val);
    };
    const kind = mask.has('kind') ? kindArg(v, f?.kind) : undefined;
    if (kind) put('kind', kind);
    if (mask.has('label')) put('label', textArg(v, 'label', f?.label, LABEL_MAX));
    if (mask.has('utm_source')) put('utm_source', textArg(v, 'utm_source', f?.utmSource, UTM_MAX));
    if (mask.has('utm_medium')) put('utm_medium', textArg(v, 'utm_medium', f?.utmMedium, UTM_MAX));
    if (mask.has('utm_campaign')) put('utm_campaign', textArg(v, 'utm_campaign', f?.utmCampaign, UTM_MAX));
    const projectId = mask.has('project_id') ? optionalIdArg(v, 'project_id', f?.projectId) : undefined;
    if (projectId !== undefined) put('project_id', projectId);
    const departmentId = mask.has('department_id') ? optionalIdArg(v, 'department_id', f?.departmentId) : undefined;
    if (departmentId !== undefined) put('department_id', departmentId);
    const connectionId = mask.has('connection_id') ? optionalIdArg(v, 'connection_id', f?.connectionId) : undefined;
    if (connectionId !== undefined) put('connection_id', connectionId || null);
    v.throwIfAny('the number is invalid');
    await this.checkTeamRefs(v, ctx.tenantId, projectId, departmentId);
    v.throwIfAny('the number is invalid');
    return this.tx(async (em) => {
      const row = await this.loadNumber(em, ctx.tenantId, id, true);
      if (row.archived) throw new DomainError('FAILED_PRECONDITION', 'an archived number cannot be changed', { details: { reason: 'number_archived' } });
      if (connectionId) await this.checkConnection(em, v, ctx.tenantId, connectionId);
      v.throwIfAny('the number is invalid');
      if (kind && kind !== 'advertising' && row.pool_id) {
        throw new DomainError('FAILED_PRECONDITION', `the number is in a pool: only advertising numbers are lent; take it out of the pool first`, {
          details: { reason: 'number_in_pool', public: { pool_id: row.pool_id } },
        });
      }
      if (sets.length) await em.execute(`UPDATE numbers SET ${sets.join(', ')}, updated_at = ? WHERE id = ?`, [...params, new Date(), id]);
      return numberOut(await this.loadNumber(em, ctx.tenantId, id));
    });
  }

  async getNumber(ctx: TenantContext, rawId: string): Promise<PhoneNumber> {
    const id = idArg('id', rawId);
    return numberOut(await this.loadNumber(this.orm.em.fork(), ctx.tenantId, id));
  }

  async listNumbers(ctx: TenantContext, req: ListNumbersRequest): Promise<ListNumbersResponse> {
    const size = pageSizeArg(req.pageSize);
    const after = decodeKeyset('numbers', req.pageToken);
    const where = ['n.tenant_id = ?'];
    const params: unknown[] = [ctx.tenantId];
    if (req.kind) {
      const v = new Violations();
      where.push('n.kind = ?');
      params.push(kindArg(v, req.kind));
      v.throwIfAny('the filter is invalid');
    }
    if (req.poolId) {
      where.push('n.pool_id = ?');
      params.push(idArg('pool_id', req.poolId));
    }
    if (!req.includeArchived) where.push('NOT n.archived');
    const search = searchArg(req.search);
    if (search) {
      where.push("strpos(n.phone, ?) > 0");
      params.push(search);
    }
    if (after) {
      where.push('(n.created_at, n.id) < (?::timestamptz, ?::uuid)');
      params.push(after.key, after.id);
    }
    const rows = await this.orm.em
      .fork()
      .execute<NumberDb[]>(`SELECT ${NUMBER_COLS} FROM numbers n WHERE ${where.join(' AND ')} ORDER BY n.created_at DESC, n.id DESC LIMIT ?`, [...params, size + 1]);
    const p = page(rows, size, 'numbers');
    return { numbers: p.items.map(numberOut), nextPageToken: p.next };
  }

  async archiveNumber(ctx: TenantContext, rawId: string): Promise<PhoneNumber> {
    const id = idArg('id', rawId);
    return this.tx(async (em) => {
      const row = await this.loadNumber(em, ctx.tenantId, id, true);
      if (!row.archived) {
        if (row.pool_id) await em.execute('SELECT 1 FROM pools WHERE id = ? FOR UPDATE', [row.pool_id]);
        await em.execute('DELETE FROM dni_leases WHERE number_id = ?', [id]);
        await em.execute('UPDATE numbers SET archived = true, pool_id = NULL, updated_at = ? WHERE id = ?', [new Date(), id]);
      }
      return numberOut(await this.loadNumber(em, ctx.tenantId, id));
    });
  }

  // ---- pools ------------------------------------------------------------------------------------------

  /**
   * Puts exactly `numberIds` in the pool (locked by the caller): each must be the tenant's active
   * advertising number and in no other pool.
   */
  private async setPoolNumbers(em: EntityManager, tenantId: string, poolId: string, numberIds: string[]): Promise<void> {
    if (numberIds.length) {
      const rows = await em.execute<{ id: string; kind: string; archived: boolean; pool_id: string | null; pool_name: string | null }[]>(
        `SELECT n.id, n.kind, n.archived, n.pool_id, p.name AS pool_name FROM numbers n LEFT JOIN pools p ON p.id = n.pool_id
         WHERE n.tenant_id = ? AND n.id = ANY(?::uuid[]) ORDER BY n.id FOR UPDATE OF n`,
        [tenantId, `{${numberIds.join(',')}}`],
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      const v = new Violations();
      numberIds.forEach((id, i) => {
        const r = byId.get(id);
        if (!r) v.add(`number_ids[${i}]`, 'is not a number of this tenant');
        else if (r.archived) v.add(`number_ids[${i}]`, 'is archived');
        else if (r.kind !== 'advertising') v.add(`number_ids[${i}]`, 'must be an advertising number (only those are lent to visitors)');
      });
      v.throwIfAny('the pool is invalid');
      const other = rows.find((r) => r.pool_id && r.pool_id !== poolId);
      if (other) {
        throw new DomainError('FAILED_PRECONDITION', `number ${other.id} is already in the pool "${other.pool_name}" (${other.pool_id}); a number belongs to at most one pool`, {
          details: { reason: 'number_in_pool', public: { number_id: other.id, pool_id: other.pool_id!, pool_name: other.pool_name ?? '' } },
        });
      }
    }
    const arr = `{${numberIds.join(',')}}`;
    const now = new Date();
    await em.execute('DELETE FROM dni_leases WHERE pool_id = ? AND NOT (number_id = ANY(?::uuid[]))', [poolId, arr]);
    await em.execute('UPDATE numbers SET pool_id = NULL, updated_at = ? WHERE pool_id = ? AND NOT (id = ANY(?::uuid[]))', [now, poolId, arr]);
    if (numberIds.length) {
      await em.execute('UPDATE numbers SET pool_id = ?, updated_at = ? WHERE id = ANY(?::uuid[]) AND pool_id IS DISTINCT FROM ?', [poolId, now, arr, poolId]);
      await em.execute('INSERT INTO dni_leases (number_id, tenant_id, pool_id) SELECT unnest(?::uuid[]), ?, ? ON CONFLICT (number_id) DO NOTHING', [arr, tenantId, poolId]);
    }
  }

  async createPool(ctx: TenantContext, req: CreatePoolRequest): Promise<Pool> {
    const f = req.pool;
    const v = new Violations();
    const name = textArg(v, 'name', f?.name, POOL_NAME_MAX);
    if (!name && !v.list.length) v.add('name', 'is required');
    const numberIds = idListArg(v, 'number_ids', f?.numberIds, POOL_NUMBERS_MAX);
    const fallback = f?.fallbackPhone ? phoneArg(v, 'fallback_phone', f.fallbackPhone, 'RU') : '';
    const quiet = quietArg(v, f?.quietSeconds);
    const origins = originsArg(v, f?.allowedOrigins);
    v.throwIfAny('the pool is invalid');
    return this.tx(async (em) => {
      const id = uuidv7();
      const now = new Date();
      await em.execute(
        'INSERT INTO pools (id, tenant_id, name, public_id, fallback_phone, quiet_seconds, allowed_origins, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?::text[], ?, ?)',
        [id, ctx.tenantId, name, randomBytes(16).toString('base64url'), fallback, quiet, `{${origins.map((o) => `"${o}"`).join(',')}}`, now, now],
      );
      await this.setPoolNumbers(em, ctx.tenantId, id, numberIds);
      return poolOut(await this.loadPool(em, ctx.tenantId, id));
    });
  }

  async updatePool(ctx: TenantContext, req: UpdatePoolRequest): Promise<Pool> {
    const id = idArg('id', req.id);
    const mask = maskArg(req.updateMask, POOL_MASK);
    const f = req.pool;
    const v = new Violations();
    const sets: string[] = [];
    const params: unknown[] = [];
    const put = (col: string, val: unknown, cast = '') => {
      sets.push(`${col} = ?${cast}`);
      params.push(val);
    };
    if (mask.has('name')) {
      const name = textArg(v, 'name', f?.name, POOL_NAME_MAX);
      if (!name && !v.list.length) v.add('name', 'is required');
      put('name', name);
    }
    if (mask.has('fallback_phone')) put('fallback_phone', f?.fallbackPhone ? phoneArg(v, 'fallback_phone', f.fallbackPhone, 'RU') : '');
    if (mask.has('quiet_seconds')) put('quiet_seconds', quietArg(v, f?.quietSeconds));
    if (mask.has('allowed_origins')) put('allowed_origins', `{${originsArg(v, f?.allowedOrigins).map((o) => `"${o}"`).join(',')}}`, '::text[]');
    const numberIds = mask.has('number_ids') ? idListArg(v, 'number_ids', f?.numberIds, POOL_NUMBERS_MAX) : undefined;
    v.throwIfAny('the pool is invalid');
    return this.tx(async (em) => {
      const row = await this.loadPool(em, ctx.tenantId, id, true);
      const archiving = req.archived === true && !row.archived;
      if (row.archived && req.archived !== false && (sets.length || numberIds)) {
        throw new DomainError('FAILED_PRECONDITION', 'an archived pool cannot be changed; restore it first (archived = false)', { details: { reason: 'pool_archived' } });
      }
      if (req.archived !== undefined) put('archived', req.archived);
      if (archiving) await this.setPoolNumbers(em, ctx.tenantId, id, []);
      else if (numberIds) await this.setPoolNumbers(em, ctx.tenantId, id, numberIds);
      if (sets.length) await em.execute(`UPDATE pools SET ${sets.join(', ')}, updated_at = ? WHERE id = ?`, [...params, new Date(), id]);
      return poolOut(await this.loadPool(em, ctx.tenantId, id));
    });
  }

  async getPool(ctx: TenantContext, rawId: string): Promise<Pool> {
    return poolOut(await this.loadPool(this.orm.em.fork(), ctx.tenantId, idArg('id', rawId)));
  }

  async listPools(ctx: TenantContext, req: ListPoolsRequest): Promise<ListPoolsResponse> {
    const size = pageSizeArg(req.pageSize);
    const after = decodeKeyset('pools', req.pageToken);
    const where = ['p.tenant_id = ?'];
    const params: unknown[] = [ctx.tenantId];
    if (!req.includeArchived) where.push('NOT p.archived');
    if (after) {
      where.push('(p.created_at, p.id) < (?::timestamptz, ?::uuid)');
      params.push(after.key, after.id);
    }
    const rows = await this.orm.em.fork().execute<PoolDb[]>(`SELECT ${POOL_COLS} FROM pools p WHERE ${where.join(' AND ')} ORDER BY p.created_at DESC, p.id DESC LIMIT ?`, [...params, size + 1]);
    const p = page(rows, size, 'pools');
    return { pools: p.items.map(poolOut), nextPageToken: p.next };
  }

  async poolStats(ctx: TenantContext, req: GetPoolStatsRequest): Promise<GetPoolStatsResponse> {
    const id = idArg('pool_id', req.poolId);
    const until = instantArg('until', req.until) ?? new Date();
    const since = instantArg('since', req.since) ?? new Date(until.getTime() - 7 * 86_400_000);
    if (since.getTime() > until.getTime()) throw new ValidationError('since must not be after until', [{ field: 'since', message: 'must not be after until' }]);
    const em = this.orm.em.fork();
    await this.loadPool(em, ctx.tenantId, id);
    const [visits] = await em.execute<{ lends: string; fallbacks: string }[]>(
      `SELECT count(*) FILTER (WHERE NOT fallback) AS lends, count(*) FILTER (WHERE fallback) AS fallbacks
       FROM dni_visits WHERE pool_id = ? AND lent_at >= ? AND lent_at < ?`,
      [id, since, until],
    );
    const [calls] = await em.execute<{ calls: string; attributed: string; collisions: string; unexplained: string }[]>(
      `SELECT count(*) AS calls, count(*) FILTER (WHERE outcome = 'attributed') AS attributed, count(*) FILTER (WHERE outcome = 'collision') AS collisions,
              count(*) FILTER (WHERE outcome = 'unexplained') AS unexplained
       FROM dni_calls WHERE pool_id = ? AND called_at >= ? AND called_at < ?`,
      [id, since, until],
    );
    const n = (s: string | undefined) => Number(s ?? 0);
    const total = n(calls?.calls);
    return {
      lends: n(visits?.lends),
      fallbackShows: n(visits?.fallbacks),
      calls: total,
      attributed: n(calls?.attributed),
      collisions: n(calls?.collisions),
      unexplained: n(calls?.unexplained),
      collisionRate: total ? n(calls?.collisions) / total : 0,
    };
  }
}
