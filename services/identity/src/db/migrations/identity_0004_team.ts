import { Migration } from '@crm/db';

/**
 * Team settings (issue 8). Departments get a kind, a first-response SLA (business minutes) and a work
 * schedule; users get activation (deactivated or invited-not-accepted users cannot log in), away status
 * and memberships as arrays: `department_ids` (the first is the primary one; `department_id` is kept equal
 * to it for older readers) and `headed_department_ids`. The service checks every id against this tenant's
 * departments (there is no department deletion). Projects and shifts are new tables. Existing rows keep
 * working: users active and not away, departments `sales` with a 15-minute SLA, open around the clock.
 *
 * Shifts of one user must not overlap: the service checks it in the inserting transaction under a per-user
 * advisory lock (no btree_gist extension needed).
 */
export class Migration0004Team extends Migration {
  override up(): void {
    this.addSql(`ALTER TABLE departments
      ADD COLUMN kind text NOT NULL DEFAULT 'sales' CHECK (kind IN ('sales', 'support', 'service', 'other')),
      ADD COLUMN sla_first_response_minutes int NOT NULL DEFAULT 15 CHECK (sla_first_response_minutes BETWEEN 0 AND 10080),
      ADD COLUMN schedule jsonb NOT NULL DEFAULT '{"timeZone":"","hours":[],"holidays":[]}',
      ADD COLUMN updated_at timestamptz`);
    this.addSql('UPDATE departments SET updated_at = created_at');
    // DEFAULT now(): IdentityService.CreateDepartment (the older RPC) does not name the column.
    this.addSql('ALTER TABLE departments ALTER COLUMN updated_at SET NOT NULL, ALTER COLUMN updated_at SET DEFAULT now()');

    this.addSql(`ALTER TABLE users
      ADD COLUMN active boolean NOT NULL DEFAULT true,
      ADD COLUMN deactivated_at timestamptz,
      ADD COLUMN away boolean NOT NULL DEFAULT false,
      ADD COLUMN away_until timestamptz,
      ADD COLUMN invite_token_hash bytea CONSTRAINT users_invite_token_hash_key UNIQUE,
      ADD COLUMN invite_expires_at timestamptz,
      ADD COLUMN department_ids uuid[] NOT NULL DEFAULT '{}',
      ADD COLUMN headed_department_ids uuid[] NOT NULL DEFAULT '{}'`);
    this.addSql('UPDATE users SET department_ids = ARRAY[department_id] WHERE department_id IS NOT NULL');
    // department_id stays the primary (first) department for older readers.
    this.addSql('ALTER TABLE users ADD CONSTRAINT users_primary_department_check CHECK (department_id IS NOT DISTINCT FROM department_ids[1])');
    // ListTeamUsers: by display name with keyset pagination; members of a department.
    this.addSql('CREATE INDEX users_tenant_name_idx ON users (tenant_id, display_name, id)');
    this.addSql('CREATE INDEX users_department_ids_idx ON users USING gin (department_ids)');

    this.addSql(`
      CREATE TABLE projects (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id),
        name text NOT NULL,
        code text NOT NULL CHECK (code ~ '^[a-z0-9-]{1,32}$'),
        archived boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT projects_tenant_code_key UNIQUE (tenant_id, code)
      )`);

    this.addSql(`
      CREATE TABLE shifts (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        user_id uuid NOT NULL,
        starts_at timestamptz NOT NULL,
        ends_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL,
        CONSTRAINT shifts_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id),
        CONSTRAINT shifts_interval_check CHECK (starts_at < ends_at AND ends_at - starts_at <= interval '24 hours')
      )`);
    this.addSql('CREATE INDEX shifts_tenant_user_starts_idx ON shifts (tenant_id, user_id, starts_at)');
    this.addSql('CREATE INDEX shifts_tenant_starts_idx ON shifts (tenant_id, starts_at)');

    // ListAuditEntries: newest first by (at, id), optionally of one target or one actor.
    this.addSql('CREATE INDEX audit_log_tenant_at_id_idx ON audit_log (tenant_id, at DESC, id DESC)');
    this.addSql('CREATE INDEX audit_log_tenant_target_idx ON audit_log (tenant_id, target, at DESC, id DESC)');
    this.addSql('CREATE INDEX audit_log_tenant_actor_idx ON audit_log (tenant_id, actor_id, at DESC, id DESC)');
  }
}
