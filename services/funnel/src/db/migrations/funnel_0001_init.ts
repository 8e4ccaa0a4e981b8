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
    // The board: a column is (pipeline, stage), newest stage change first. INCLUDE: a column's count and
    // totals per currency (the closed-days window, who-sees-what) read from the index alone.
    this.addSql(
      'CREATE INDEX deals_board_idx ON deals (tenant_id, pipeline_id, stage, stage_entered_at DESC, id DESC) INCLUDE (currency, amount_minor, closed_at, owner_id, department_id)',
    );
    // The board's counts and totals of open deals, kept by a trigger in the writing transaction (every
    // writer of deals — moves, migrations, anything — keeps it right): one row per (pipeline, stage,
    // currency, owner, department), so a column of 50,000 open deals sums a few hundred rows, with
    // who-sees-what and the owner/department filters applied to the same columns as on deals.
    this.addSql(`
      CREATE TABLE deal_open_totals (
        tenant_id text NOT NULL,
        pipeline_id uuid NOT NULL,
        stage text NOT NULL,
        currency text NOT NULL,
        owner_id uuid,
        department_id uuid,
        n bigint NOT NULL,
        amount numeric NOT NULL
      )`);
    this.addSql('CREATE UNIQUE INDEX deal_open_totals_uq ON deal_open_totals (tenant_id, pipeline_id, stage, currency, owner_id, department_id) NULLS NOT DISTINCT');
    this.addSql(`
      CREATE FUNCTION deal_open_totals_add(t text, p uuid, s text, c text, o uuid, dep uuid, dn bigint, da numeric) RETURNS void LANGUAGE sql AS $$
        INSERT INTO deal_open_totals AS x (tenant_id, pipeline_id, stage, currency, owner_id, department_id, n, amount) VALUES (t, p, s, c, o, dep, dn, da)
        ON CONFLICT (tenant_id, pipeline_id, stage, currency, owner_id, department_id) DO UPDATE SET n = x.n + EXCLUDED.n, amount = x.amount + EXCLUDED.amount
      $$`);
    // Two rows change when a deal moves: always the smaller key first, so two opposite moves never deadlock.
    this.addSql(`
      CREATE FUNCTION deal_open_totals_trg() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        was boolean := TG_OP <> 'INSERT' AND OLD.state = 'open';
        now_open boolean := TG_OP <> 'DELETE' AND NEW.state = 'open';
        old_key text;
        new_key text;
      BEGIN
        IF was THEN old_key := concat_ws('|', OLD.pipeline_id, OLD.stage, OLD.currency, coalesce(OLD.owner_id::text, '-'), coalesce(OLD.department_id::text, '-')); END IF;
        IF now_open THEN new_key := concat_ws('|', NEW.pipeline_id, NEW.stage, NEW.currency, coalesce(NEW.owner_id::text, '-'), coalesce(NEW.department_id::text, '-')); END IF;
        IF was AND now_open AND old_key = new_key AND OLD.amount_minor = NEW.amount_minor THEN RETURN NULL; END IF;
        IF was AND now_open AND new_key < old_key THEN
          PERFORM deal_open_totals_add(NEW.tenant_id, NEW.pipeline_id, NEW.stage, NEW.currency, NEW.owner_id, NEW.department_id, 1, NEW.amount_minor);
          PERFORM deal_open_totals_add(OLD.tenant_id, OLD.pipeline_id, OLD.stage, OLD.currency, OLD.owner_id, OLD.department_id, -1, -OLD.amount_minor);
          RETURN NULL;
        END IF;
        IF was THEN PERFORM deal_open_totals_add(OLD.tenant_id, OLD.pipeline_id, OLD.stage, OLD.currency, OLD.owner_id, OLD.department_id, -1, -OLD.amount_minor); END IF;
        IF now_open THEN PERFORM deal_open_totals_add(NEW.tenant_id, NEW.pipeline_id, NEW.stage, NEW.currency, NEW.owner_id, NEW.department_id, 1, NEW.amount_minor); END IF;
        RETURN NULL;
      END $$`);
    this.addSql(`
      CREATE TRIGGER deal_open_totals_trg AFTER INSERT OR DELETE OR UPDATE OF pipeline_id, stage, state, currency, amount_minor, owner_id, department_id ON deals
      FOR EACH ROW EXECUTE FUNCTION deal_open_totals_trg()`);
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
