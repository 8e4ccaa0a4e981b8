import { Migration } from '@crm/db';

/**
 * The identity schema. Tenants are platform-level; every other table carries tenant_id, and the
 * indexes used by tenant-scoped queries start with it. The only lookups that do not start with
 * tenant_id are the pre-authentication ones, which by nature do not know the tenant yet: API keys by
 * prefix, sessions by token hash, public forms by public id (all unique). Composite foreign keys on
 * (tenant_id, id) make a cross-tenant reference impossible at the database level.
 */
export class Migration0001Init extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        slug text NOT NULL CONSTRAINT tenants_slug_key UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
        locale text NOT NULL CHECK (locale IN ('ru', 'en')),
        created_at timestamptz NOT NULL
      )`);

    this.addSql(`
      CREATE TABLE departments (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id),
        name text NOT NULL,
        created_at timestamptz NOT NULL,
        CONSTRAINT departments_tenant_id_id_key UNIQUE (tenant_id, id)
      )`);
    this.addSql('CREATE UNIQUE INDEX departments_tenant_name_key ON departments (tenant_id, lower(name))');

    this.addSql(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id),
        email text NOT NULL, -- lower-cased by the service (JS and PostgreSQL case rules differ for some letters)
        display_name text NOT NULL,
        password_hash text NOT NULL,
        roles text[] NOT NULL,
        department_id uuid,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT users_tenant_email_key UNIQUE (tenant_id, email),
        CONSTRAINT users_tenant_id_id_key UNIQUE (tenant_id, id),
        CONSTRAINT users_department_fk FOREIGN KEY (tenant_id, department_id) REFERENCES departments (tenant_id, id)
      )`);
    // Cursor pagination: WHERE tenant_id = ? AND id > ? ORDER BY id (UUIDv7 ids sort by creation).
    this.addSql('CREATE INDEX users_tenant_id_idx ON users (tenant_id, id)');

    this.addSql(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id),
        name text NOT NULL,
        prefix text NOT NULL CONSTRAINT api_keys_prefix_key UNIQUE,
        secret_hash bytea NOT NULL,
        scopes text[] NOT NULL,
        created_at timestamptz NOT NULL,
        revoked_at timestamptz,
        last_used_at timestamptz
      )`);
    this.addSql('CREATE INDEX api_keys_tenant_created_idx ON api_keys (tenant_id, created_at DESC)');

    this.addSql(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        user_id uuid NOT NULL,
        token_hash bytea NOT NULL CONSTRAINT sessions_token_hash_key UNIQUE,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        CONSTRAINT sessions_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
      )`);
    this.addSql('CREATE INDEX sessions_tenant_user_idx ON sessions (tenant_id, user_id)');

    this.addSql(`
      CREATE TABLE public_forms (
        id text PRIMARY KEY CHECK (id ~ '^pf_[A-Za-z0-9]{16}$'),
        tenant_id uuid NOT NULL REFERENCES tenants (id),
        name text NOT NULL,
        enabled boolean NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    this.addSql('CREATE INDEX public_forms_tenant_created_idx ON public_forms (tenant_id, created_at DESC)');

    this.addSql(`
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        tenant_id uuid NOT NULL,
        actor_kind text NOT NULL,
        actor_id text NOT NULL,
        action text NOT NULL,
        target text NOT NULL,
        at timestamptz NOT NULL,
        details jsonb NOT NULL DEFAULT '{}'
      )`);
    this.addSql('CREATE INDEX audit_log_tenant_at_idx ON audit_log (tenant_id, at DESC)');
  }
}
