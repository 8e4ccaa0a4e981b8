import type { NamedMigration } from '@crm/db';
import { ApiKeySchema } from './entities/api-key.entity';
import { AuditEntrySchema } from './entities/audit-entry.entity';
import { DepartmentSchema } from './entities/department.entity';
import { LoginChallengeSchema } from './entities/login-challenge.entity';
import { PublicFormSchema } from './entities/public-form.entity';
import { SessionSchema } from './entities/session.entity';
import { TenantSchema } from './entities/tenant.entity';
import { UserSchema } from './entities/user.entity';
import { Migration0001Init } from './migrations/identity_0001_init';
import { Migration0002TenantTimeZone } from './migrations/identity_0002_tenant_time_zone';
import { Migration0003PublicFormMapping } from './migrations/identity_0003_public_form_mapping';
import { Migration0004Team } from './migrations/identity_0004_team';
import { Migration0005Security } from './migrations/identity_0005_security';

export const identityEntities = [TenantSchema, UserSchema, DepartmentSchema, ApiKeySchema, SessionSchema, PublicFormSchema, AuditEntrySchema, LoginChallengeSchema];

export const identityMigrations: NamedMigration[] = [
  { name: 'identity_0001_init', class: Migration0001Init },
  { name: 'identity_0002_tenant_time_zone', class: Migration0002TenantTimeZone },
  { name: 'identity_0003_public_form_mapping', class: Migration0003PublicFormMapping },
  { name: 'identity_0004_team', class: Migration0004Team },
  { name: 'identity_0005_security', class: Migration0005Security },
];

/** True when `err` is PostgreSQL's unique_violation (23505), optionally of the named constraint/index. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string } | null;
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

/** True when `err` is PostgreSQL's foreign_key_violation (23503). */
export function isForeignKeyViolation(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === '23503';
}

/**
 * MikroORM's LockMode.PESSIMISTIC_WRITE (`SELECT … FOR UPDATE`). @crm/db does not re-export LockMode,
 * and a service imports MikroORM only through @crm/db, so the value is named here.
 */
export const PESSIMISTIC_WRITE = 3;
