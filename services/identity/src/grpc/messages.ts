import type * as pb from '@crm/contracts/crm/identity/v1/identity';
import type { ApiKey } from '../db/entities/api-key.entity';
import type { Department } from '../db/entities/department.entity';
import type { PublicForm } from '../db/entities/public-form.entity';
import type { Tenant } from '../db/entities/tenant.entity';
import type { User } from '../db/entities/user.entity';
import { rolesToWire } from '../domain/access';
import { completeMapping, type StoredFieldMapping } from '../domain/public-form';

/** Rows → wire messages. Secrets and hashes never leave through here. */

const iso = (d: Date) => d.toISOString();

export function tenantMessage(t: Tenant): pb.Tenant {
  return { id: t.id, name: t.name, slug: t.slug, locale: t.locale, createdAt: iso(t.createdAt), timeZone: t.timeZone };
}

export function userMessage(u: User): pb.User {
  return {
    id: u.id,
    tenantId: u.tenantId,
    email: u.email,
    displayName: u.displayName,
    roles: rolesToWire(u.roles),
    departmentId: u.departmentId ?? undefined,
    createdAt: iso(u.createdAt),
    updatedAt: iso(u.updatedAt),
  };
}

export function departmentMessage(d: Department): pb.Department {
  return { id: d.id, tenantId: d.tenantId, name: d.name, createdAt: iso(d.createdAt) };
}

export function apiKeyMessage(k: ApiKey): pb.ApiKey {
  return {
    id: k.id,
    tenantId: k.tenantId,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    createdAt: iso(k.createdAt),
    revokedAt: k.revokedAt ? iso(k.revokedAt) : undefined,
    lastUsedAt: k.lastUsedAt ? iso(k.lastUsedAt) : undefined,
  };
}

export function publicFormMessage(f: PublicForm): pb.PublicForm {
  return {
    id: f.id,
    tenantId: f.tenantId,
    name: f.name,
    enabled: f.enabled,
    createdAt: iso(f.createdAt),
    fieldMapping: fieldMappingMessage(f.fieldMapping),
    thankYouUrl: f.thankYouUrl ?? '',
  };
}

/** The stored mapping (jsonb) as the wire message. */
export function fieldMappingMessage(m: Partial<StoredFieldMapping> | null | undefined): pb.FieldMapping {
  return completeMapping(m);
}
