import type { Role } from '@crm/contracts/crm/identity/v1/identity';
import { isUuid, uuidv7, type EntityManager, type MikroORM } from '@crm/db';
import { DomainError, NotFoundError, ValidationError } from '@crm/errors';
import type { TenantContext } from '@crm/grpc';
import { audit, type Actor } from './audit';
import { isUniqueViolation, PESSIMISTIC_WRITE } from './db';
import { ApiKeySchema, type ApiKey } from './db/entities/api-key.entity';
import { DepartmentSchema, type Department } from './db/entities/department.entity';
import { PublicFormSchema, type PublicForm } from './db/entities/public-form.entity';
import { TenantSchema, type Tenant } from './db/entities/tenant.entity';
import { UserSchema, type User } from './db/entities/user.entity';
import { mayManage } from './domain/access';
import { hashPassword } from './domain/password';
import { checkFieldMapping, checkThankYouUrl, type StoredFieldMapping } from './domain/public-form';
import { generateApiKeySecret, generatePublicFormId, isWellFormedPublicFormId, sha256 } from './domain/secrets';
import { checkEmail, checkName, checkPassword, checkRoles, checkScopes, checkTimeZone, Violations } from './domain/validation';

export const PAGE_SIZE_DEFAULT = 50;
export const PAGE_SIZE_MAX = 200;

/** Random ids and prefixes are unique with overwhelming odds; on a collision, retry with new ones. */
const COLLISION_ATTEMPTS = 3;

function alreadyExists(field: string, message: string): DomainError {
  return new DomainError('ALREADY_EXISTS', message, { violations: [{ field, message: 'is taken' }] });
}

/** The opaque cursor of ListUsers: the last id of the page, base64url-encoded. */
export function encodeCursor(id: string): string {
  return Buffer.from(`u:${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const raw = cursor.length <= 64 ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const id = raw.startsWith('u:') ? raw.slice(2) : '';
  if (!isUuid(id)) throw new ValidationError('invalid page.cursor', [{ field: 'page.cursor', message: 'is not a cursor from this list' }]);
  return id;
}

/**
 * Tenant-scoped management operations. `authorize` runs first on every call; every query below is
 * filtered by the call's tenant, so another tenant's id behaves exactly like a missing one.
 */
export class AdminService {
  constructor(private readonly orm: MikroORM) {}

  private em(): EntityManager {
    return this.orm.em.fork();
  }

  /**
   * Allows a service, an admin user or an API key with identity:admin of this tenant; anyone else
   * gets PERMISSION_DENIED. A service calling for a tenant that does not exist gets NOT_FOUND.
   */
  async authorize(ctx: TenantContext): Promise<Actor> {
    const actor: Actor = { kind: ctx.callerKind, id: ctx.callerId };
    const denied = () => new DomainError('PERMISSION_DENIED', 'the caller may not manage identity');
    const conn = this.orm.em.getConnection();
    if (!isUuid(ctx.tenantId)) {
      if (ctx.callerKind === 'service') throw new NotFoundError('tenant', ctx.tenantId);
      throw denied();
    }
    switch (ctx.callerKind) {
      case 'service': {
        const rows = await conn.execute<{ id: string }[]>('SELECT id FROM tenants WHERE id = ?', [ctx.tenantId]);
        if (!rows.length) throw new NotFoundError('tenant', ctx.tenantId);
        return actor;
      }
      case 'user': {
        if (!isUuid(ctx.callerId)) throw denied();
        const rows = await conn.execute<{ roles: string[] }[]>('SELECT roles FROM users WHERE tenant_id = ? AND id = ? AND active', [ctx.tenantId, ctx.callerId]);
        if (!rows[0] || !mayManage({ kind: 'user', roles: rows[0].roles })) throw denied();
        return actor;
      }
      case 'api_key': {
        if (!isUuid(ctx.callerId)) throw denied();
        const rows = await conn.execute<{ scopes: string[] }[]>('SELECT scopes FROM api_keys WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL', [
          ctx.tenantId,
          ctx.callerId,
        ]);
        if (!rows[0] || !mayManage({ kind: 'api_key', scopes: rows[0].scopes })) throw denied();
        return actor;
      }
    }
  }

  async createUser(
    tenantId: string,
    actor: Actor,
    input: { email: string; displayName: string; password: string; roles: Role[]; departmentId?: string },
  ): Promise<User> {
    const v = new Violations();
    const email = checkEmail(v, 'email', input.email);
    const displayName = checkName(v, 'display_name', input.displayName);
    checkPassword(v, 'password', input.password);
    const roles = checkRoles(v, 'roles', input.roles);
    v.throwIfAny();
    const departmentId = input.departmentId || null;
    if (departmentId && !(await this.findDepartment(this.em(), tenantId, departmentId))) throw new NotFoundError('department', departmentId);
    // scrypt is slow on purpose: hash outside the transaction so no connection waits on it.
    const passwordHash = await hashPassword(input.password);
    try {
      return await this.em().transactional(async (em) => {
        const now = new Date();
        const departmentIds = departmentId ? [departmentId] : [];
        const user = em.create(UserSchema, { id: uuidv7(), tenantId, email, displayName, passwordHash, roles, departmentId, departmentIds, createdAt: now, updatedAt: now });
        audit(em, tenantId, actor, 'user.created', `user:${user.id}`, { email, displayName, roles, departmentId });
        return user;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'users_tenant_email_key')) throw alreadyExists('email', `a user with e-mail ${email} exists`);
      throw err;
    }
  }

  async getUser(tenantId: string, id: string): Promise<User> {
    const user = isUuid(id) ? await this.em().findOne(UserSchema, { tenantId, id }) : null;
    if (!user) throw new NotFoundError('user', id.slice(0, 64));
    return user;
  }

  async listUsers(tenantId: string, page: { pageSize: number; cursor: string }): Promise<{ users: User[]; nextCursor: string }> {
    if (page.pageSize < 0) throw new ValidationError('invalid page.page_size', [{ field: 'page.page_size', message: 'must not be negative' }]);
    const size = Math.min(page.pageSize || PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX);
    const after = page.cursor ? decodeCursor(page.cursor) : undefined;
    // UUIDv7 ids sort by creation time: the page is "oldest first" on the (tenant_id, id) index.
    const rows = await this.em().find(UserSchema, after ? { tenantId, id: { $gt: after } } : { tenantId }, { orderBy: { id: 'asc' }, limit: size + 1 });
    const users = rows.slice(0, size);
    return { users, nextCursor: rows.length > size ? encodeCursor(users[users.length - 1].id) : '' };
  }

  async updateUserRoles(tenantId: string, actor: Actor, id: string, roles: Role[]): Promise<User> {
    const v = new Violations();
    const names = checkRoles(v, 'roles', roles);
    v.throwIfAny();
    return this.em().transactional(async (em) => {
      const user = isUuid(id) ? await em.findOne(UserSchema, { tenantId, id }, { lockMode: PESSIMISTIC_WRITE }) : null;
      if (!user) throw new NotFoundError('user', id.slice(0, 64));
      const before = [...user.roles];
      if (before.length !== names.length || before.some((r) => !names.includes(r as never))) {
        user.roles = names;
        user.updatedAt = new Date();
        audit(em, tenantId, actor, 'user.roles_changed', `user:${user.id}`, { from: before, to: names });
      }
      return user;
    });
  }

  async createDepartment(tenantId: string, actor: Actor, input: { name: string }): Promise<Department> {
    const v = new Violations();
    const name = checkName(v, 'name', input.name);
    v.throwIfAny();
    try {
      return await this.em().transactional(async (em) => {
        const dept = em.create(DepartmentSchema, { id: uuidv7(), tenantId, name, createdAt: new Date() });
        audit(em, tenantId, actor, 'department.created', `department:${dept.id}`, { name });
        return dept;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'departments_tenant_name_key')) throw alreadyExists('name', `a department named "${name}" exists`);
      throw err;
    }
  }

  listDepartments(tenantId: string): Promise<Department[]> {
    return this.em().find(DepartmentSchema, { tenantId }, { orderBy: { name: 'asc', id: 'asc' } });
  }

  async createApiKey(tenantId: string, actor: Actor, input: { name: string; scopes: string[] }): Promise<{ key: ApiKey; secret: string }> {
    const v = new Violations();
    const name = checkName(v, 'name', input.name);
    const scopes = checkScopes(v, 'scopes', input.scopes);
    v.throwIfAny();
    for (let attempt = 1; ; attempt++) {
      const { prefix, secret } = generateApiKeySecret();
      try {
        const key = await this.em().transactional(async (em) => {
          const k = em.create(ApiKeySchema, { id: uuidv7(), tenantId, name, prefix, secretHash: sha256(secret), scopes, createdAt: new Date() });
          audit(em, tenantId, actor, 'api_key.created', `api_key:${k.id}`, { name, prefix, scopes });
          return k;
        });
        return { key, secret };
      } catch (err) {
        if (!isUniqueViolation(err, 'api_keys_prefix_key') || attempt >= COLLISION_ATTEMPTS) throw err;
      }
    }
  }

  listApiKeys(tenantId: string): Promise<ApiKey[]> {
    return this.em().find(ApiKeySchema, { tenantId }, { orderBy: { createdAt: 'desc', id: 'desc' } });
  }

  /** Idempotent: revoking a revoked key returns it unchanged (and writes no second audit row). */
  revokeApiKey(tenantId: string, actor: Actor, id: string): Promise<ApiKey> {
    return this.em().transactional(async (em) => {
      const key = isUuid(id) ? await em.findOne(ApiKeySchema, { tenantId, id }, { lockMode: PESSIMISTIC_WRITE }) : null;
      if (!key) throw new NotFoundError('api key', id.slice(0, 64));
      if (!key.revokedAt) {
        key.revokedAt = new Date();
        audit(em, tenantId, actor, 'api_key.revoked', `api_key:${key.id}`, { name: key.name, prefix: key.prefix });
      }
      return key;
    });
  }

  async createPublicForm(
    tenantId: string,
    actor: Actor,
    input: { name: string; fieldMapping?: Partial<StoredFieldMapping>; thankYouUrl?: string },
  ): Promise<PublicForm> {
    const v = new Violations();
    const name = checkName(v, 'name', input.name);
    const fieldMapping = checkFieldMapping(v, 'field_mapping', input.fieldMapping);
    const thankYouUrl = checkThankYouUrl(v, 'thank_you_url', input.thankYouUrl);
    v.throwIfAny();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.em().transactional(async (em) => {
          const form = em.create(PublicFormSchema, { id: generatePublicFormId(), tenantId, name, enabled: true, createdAt: new Date(), fieldMapping, thankYouUrl });
          audit(em, tenantId, actor, 'public_form.created', `public_form:${form.id}`, { name, fieldMapping, thankYouUrl });
          return form;
        });
      } catch (err) {
        if (!isUniqueViolation(err, 'public_forms_pkey') || attempt >= COLLISION_ATTEMPTS) throw err;
      }
    }
  }

  listPublicForms(tenantId: string): Promise<PublicForm[]> {
    return this.em().find(PublicFormSchema, { tenantId }, { orderBy: { createdAt: 'desc', id: 'desc' } });
  }

  setPublicFormEnabled(tenantId: string, actor: Actor, id: string, enabled: boolean): Promise<PublicForm> {
    return this.em().transactional(async (em) => {
      const form = isWellFormedPublicFormId(id) ? await em.findOne(PublicFormSchema, { tenantId, id }, { lockMode: PESSIMISTIC_WRITE }) : null;
      if (!form) throw new NotFoundError('public form', id.slice(0, 64));
      if (form.enabled !== enabled) {
        form.enabled = enabled;
        audit(em, tenantId, actor, enabled ? 'public_form.enabled' : 'public_form.disabled', `public_form:${form.id}`, {});
      }
      return form;
    });
  }

  async getTenant(tenantId: string): Promise<Tenant> {
    const tenant = await this.em().findOne(TenantSchema, { id: tenantId });
    if (!tenant) throw new NotFoundError('tenant', tenantId.slice(0, 64));
    return tenant;
  }

  /** Changes the fields that are set; a change writes one audit row with the old and new values. */
  async updateTenant(tenantId: string, actor: Actor, input: { timeZone?: string }): Promise<Tenant> {
    const v = new Violations();
    const timeZone = input.timeZone === undefined ? undefined : checkTimeZone(v, 'time_zone', input.timeZone, { emptyIsUtc: false });
    v.throwIfAny();
    return this.em().transactional(async (em) => {
      const tenant = await em.findOne(TenantSchema, { id: tenantId }, { lockMode: PESSIMISTIC_WRITE });
      if (!tenant) throw new NotFoundError('tenant', tenantId.slice(0, 64));
      if (timeZone !== undefined && tenant.timeZone !== timeZone) {
        audit(em, tenantId, actor, 'tenant.time_zone_changed', `tenant:${tenant.id}`, { from: tenant.timeZone, to: timeZone });
        tenant.timeZone = timeZone;
      }
      return tenant;
    });
  }

  /** Changes the fields that are given (all validated first: an invalid value changes nothing); audited when something changed. */
  async updatePublicForm(
    tenantId: string,
    actor: Actor,
    id: string,
    input: { name?: string; fieldMapping?: Partial<StoredFieldMapping>; thankYouUrl?: string },
  ): Promise<PublicForm> {
    const v = new Violations();
    const name = input.name === undefined ? undefined : checkName(v, 'name', input.name);
    const fieldMapping = input.fieldMapping === undefined ? undefined : checkFieldMapping(v, 'field_mapping', input.fieldMapping);
    const thankYouUrl = input.thankYouUrl === undefined ? undefined : checkThankYouUrl(v, 'thank_you_url', input.thankYouUrl);
    v.throwIfAny();
    return this.em().transactional(async (em) => {
      const form = isWellFormedPublicFormId(id) ? await em.findOne(PublicFormSchema, { tenantId, id }, { lockMode: PESSIMISTIC_WRITE }) : null;
      if (!form) throw new NotFoundError('public form', id.slice(0, 64));
      const changes: Record<string, unknown> = {};
      if (name !== undefined && name !== form.name) changes.name = form.name = name;
      if (fieldMapping !== undefined && JSON.stringify(fieldMapping) !== JSON.stringify(form.fieldMapping)) changes.fieldMapping = form.fieldMapping = fieldMapping;
      if (thankYouUrl !== undefined && thankYouUrl !== form.thankYouUrl) changes.thankYouUrl = form.thankYouUrl = thankYouUrl;
      if (Object.keys(changes).length) audit(em, tenantId, actor, 'public_form.updated', `public_form:${form.id}`, changes);
      return form;
    });
  }

  private findDepartment(em: EntityManager, tenantId: string, id: string): Promise<Department | null> {
    return isUuid(id) ? em.findOne(DepartmentSchema, { tenantId, id }) : Promise.resolve(null);
  }
}
