import { Migration } from '@crm/db';

/**
 * The funnel's tables (the runtime's outbox and processed_events come before it). Every index starts
 * with tenant_id. A pipeline's definitions are immutable versions; a deal points at the version it is on.
 */
export class Migration0001Init extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE pipelines (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        name text NOT NULL,
        current_version int NOT NULL CHECK (current_version >= 1),
        archived boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        updated_by text NOT NULL
      )`);
    // Names are unique among the tenant's pipelines that are not archived.
    this.addSql('CREATE UNIQUE INDEX pipelines_tenant_name_uq ON pipelines (tenant_id, lower(name)) WHERE NOT archived');
    this.addSql(`
      CREATE TABLE pipeline_versions (
        pipeline_id uuid NOT NULL REFERENCES pipelines (id),
        version int NOT NULL,
        tenant_id text NOT NULL,
        definition jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        created_by text NOT NULL,
        PRIMARY KEY (pipeline_id, version)
      )`);
    this.addSql(`
      CREATE TABLE deals (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        pipeline_id uuid NOT NULL REFERENCES pipelines (id),
        pipeline_version int NOT NULL,
        stage text NOT NULL,
        state text NOT NULL CHECK (state IN ('open','won','lost')),
        lost_reason text,
        title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
        amount_minor bigint NOT NULL DEFAULT 0 CHECK (amount_minor >= 0),
        currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
        client_card_id uuid,
        company_id uuid,
        contact_ids uuid[] NOT NULL DEFAULT '{}',
        owner_id uuid,
        department_id uuid,
        project_id uuid,
        sales_channel text CHECK (sales_channel IN ('agents','ad_agencies','inbound_leadgen','cold_sales','tech_partners')),
        partner_card_id uuid,
        attribution jsonb NOT NULL DEFAULT '{}',
        origin_request_id uuid,
        custom_fields jsonb NOT NULL DEFAULT '{}',
        expected_close_date date,
        version int NOT NULL DEFAULT 1,
        stage_entered_at timestamptz NOT NULL,
        closed_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        created_by text NOT NULL,
        FOREIGN KEY (pipeline_id, pipeline_version) REFERENCES pipeline_versions (pipeline_id, version)
      )`);
    // One deal per originating request (the conversion's exactly-once).
    this.addSql('CREATE UNIQUE INDEX deals_tenant_origin_request_uq ON deals (tenant_id, origin_request_id) WHERE origin_request_id IS NOT NULL');
    // The board: a column is (pipeline, stage), newest stage change first.
    this.addSql('CREATE INDEX deals_board_idx ON deals (tenant_id, pipeline_id, stage, stage_entered_at DESC, id DESC)');
    this.addSql('CREATE INDEX deals_tenant_created_idx ON deals (tenant_id, created_at DESC, id DESC)');
    this.addSql('CREATE INDEX deals_tenant_owner_idx ON deals (tenant_id, owner_id) WHERE owner_id IS NOT NULL');
    this.addSql('CREATE INDEX deals_tenant_card_idx ON deals (tenant_id, client_card_id) WHERE client_card_id IS NOT NULL');
    this.addSql("CREATE INDEX deals_tenant_version_idx ON deals (tenant_id, pipeline_id, pipeline_version) WHERE state = 'open'");
    this.addSql(`
      CREATE TABLE deal_stage_history (
        deal_id uuid NOT NULL REFERENCES deals (id),
        seq int NOT NULL,
        tenant_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('created','moved','won','lost','reopened','migrated')),
        from_stage text,
        to_stage text NOT NULL,
        from_stage_name text,
        to_stage_name text NOT NULL,
        pipeline_version int NOT NULL,
        seconds_in_stage bigint NOT NULL DEFAULT 0,
        lost_reason text,
        comment text,
        changed_by text NOT NULL,
        changed_at timestamptz NOT NULL,
        PRIMARY KEY (deal_id, seq)
      )`);
    this.addSql(`
      CREATE TABLE deal_checklist_items (
        deal_id uuid NOT NULL REFERENCES deals (id),
        stage text NOT NULL,
        item_key text NOT NULL,
        tenant_id text NOT NULL,
        checked_by text NOT NULL,
        checked_at timestamptz NOT NULL,
        PRIMARY KEY (deal_id, stage, item_key)
      )`);
    this.addSql(`
      CREATE TABLE deal_requests (
        request_id uuid NOT NULL,
        tenant_id text NOT NULL,
        deal_id uuid NOT NULL REFERENCES deals (id),
        kind text NOT NULL CHECK (kind IN ('converted','attached')),
        linked_at timestamptz NOT NULL,
        linked_by text NOT NULL,
        PRIMARY KEY (tenant_id, request_id)
      )`);
    this.addSql('CREATE INDEX deal_requests_deal_idx ON deal_requests (tenant_id, deal_id, linked_at DESC)');
    // Idempotency keys of CreateDeal: the key, a hash of the request body, the deal it made.
    this.addSql(`
      CREATE TABLE deal_idempotency_keys (
        tenant_id text NOT NULL,
        key text NOT NULL,
        body_hash text NOT NULL,
        deal_id uuid NOT NULL REFERENCES deals (id),
        created_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, key)
      )`);
  }
}
