import { Migration } from '@crm/db';

/**
 * Working the request (issue 8): lifecycle and assignment columns on `requests`, the request history,
 * routing versions and the round-robin pointers, saved views, follow-up tasks. Every new column of
 * `requests` is nullable without a default or has a constant default, so adding it does not rewrite the
 * table (PostgreSQL 11+). The SLA, revisit and reminder timers live in graphile-worker's own schema
 * (`graphile_worker`, migrated by the service at start and by the migrations job), added in the same
 * transaction as the change that makes them due.
 */
export class Migration0004Workflow extends Migration {
  override up(): void {
    for (const col of [
      'version integer NOT NULL DEFAULT 1',
      'department_id uuid',
      'assignee_id uuid',
      'project_id uuid',
      'routing_version integer',
      'routing_rule_id text',
      'sla_due_at timestamptz',
      'sla_breached_at timestamptz',
      'first_response_at timestamptz',
      'first_response_by uuid',
      'revisit_at timestamptz',
      'trash_reason text',
      'trash_note text',
      'deal_id uuid',
      'client_card_id uuid',
      'missed boolean NOT NULL DEFAULT false',
      'dialed_number_kind text',
      'state_changed_at timestamptz',
      'state_reason text',
      // Who moved it to `deferred` (their revisit task) and whom it was assigned to before.
      'deferred_by uuid',
    ])
      this.addSql(`ALTER TABLE requests ADD COLUMN ${col}`);
    this.addSql(`ALTER TABLE requests ADD CONSTRAINT requests_trash_reason_chk CHECK (trash_reason IS NULL OR trash_reason IN ('spam','wrong_number','not_targeted','duplicate','other'))`);
    this.addSql(`ALTER TABLE requests ADD CONSTRAINT requests_dialed_number_kind_chk CHECK (dialed_number_kind IS NULL OR dialed_number_kind IN ('advertising','support','sales'))`);
    // The journal's visibility-scoped lists: a department's queue, a seller's own, newest first.
    this.addSql('CREATE INDEX requests_tenant_department_created_idx ON requests (tenant_id, department_id, created_at DESC, id DESC)');
    this.addSql('CREATE INDEX requests_tenant_assignee_created_idx ON requests (tenant_id, assignee_id, created_at DESC, id DESC) WHERE assignee_id IS NOT NULL');
    // Least-loaded: open requests per assignee.
    this.addSql(`CREATE INDEX requests_open_by_assignee_idx ON requests (tenant_id, assignee_id) WHERE state IN ('assigned','in_progress')`);
    // The undefined base and "revisits today".
    this.addSql(`CREATE INDEX requests_tenant_revisit_idx ON requests (tenant_id, revisit_at) WHERE state = 'deferred'`);
    this.addSql(`CREATE INDEX requests_tenant_breached_idx ON requests (tenant_id, sla_breached_at DESC) WHERE sla_breached_at IS NOT NULL`);

    this.addSql(`
      CREATE TABLE request_history (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        request_id uuid NOT NULL REFERENCES requests (id),
        at timestamptz NOT NULL,
        actor_kind text NOT NULL CHECK (actor_kind IN ('user','api_key','service','system')),
        actor_id text NOT NULL,
        field text NOT NULL,
        from_value text,
        to_value text,
        reason text,
        details jsonb NOT NULL DEFAULT '{}'
      )`);
    this.addSql('CREATE INDEX request_history_tenant_request_idx ON request_history (tenant_id, request_id, at, id)');

    // Routing rule sets: one row per saved version; exactly one `published` per tenant.
    this.addSql(`
      CREATE TABLE routing_versions (
        tenant_id text NOT NULL,
        version integer NOT NULL,
        status text NOT NULL CHECK (status IN ('draft','published','archived')),
        rules jsonb NOT NULL,
        fallback_department_id uuid,
        fallback_strategy text NOT NULL DEFAULT 'queue',
        comment text,
        created_at timestamptz NOT NULL,
        created_by text NOT NULL,
        published_at timestamptz,
        published_by text,
        PRIMARY KEY (tenant_id, version)
      )`);
    this.addSql(`CREATE UNIQUE INDEX routing_versions_one_published_uq ON routing_versions (tenant_id) WHERE status = 'published'`);

    // Round-robin pointers: the last assigned user per (tenant, department); the row is locked while a
    // decision is taken, so concurrent requests to one department take turns.
    this.addSql(`
      CREATE TABLE routing_pointers (
        tenant_id text NOT NULL,
        department_id uuid NOT NULL,
        last_user_id uuid,
        turns bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, department_id)
      )`);

    this.addSql(`
      CREATE TABLE saved_views (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        user_id text NOT NULL,
        name text NOT NULL,
        query text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    this.addSql('CREATE UNIQUE INDEX saved_views_user_name_uq ON saved_views (tenant_id, user_id, lower(name))');

    this.addSql(`
      CREATE TABLE tasks (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        title text NOT NULL,
        note text,
        due_at timestamptz NOT NULL,
        remind_before_minutes integer NOT NULL DEFAULT 0,
        assignee_id text NOT NULL,
        request_id uuid REFERENCES requests (id),
        contact_id uuid,
        deal_id uuid,
        status text NOT NULL CHECK (status IN ('open','done')),
        kind text NOT NULL DEFAULT 'manual' CHECK (kind IN ('manual','revisit')),
        done_at timestamptz,
        reminded_at timestamptz,
        deleted_at timestamptz,
        idempotency_key text,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL,
        created_by text NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    this.addSql(`CREATE INDEX tasks_assignee_open_idx ON tasks (tenant_id, assignee_id, due_at, id) WHERE status = 'open' AND deleted_at IS NULL`);
    this.addSql('CREATE INDEX tasks_request_idx ON tasks (tenant_id, request_id) WHERE request_id IS NOT NULL');
    this.addSql('CREATE UNIQUE INDEX tasks_idempotency_uq ON tasks (tenant_id, created_by, idempotency_key) WHERE idempotency_key IS NOT NULL');
  }
}
