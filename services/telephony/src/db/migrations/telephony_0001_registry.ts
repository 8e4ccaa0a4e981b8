import { Migration } from '@crm/db';

/**
 * The registries every area reads: numbers and pools (numbers/, dni/), provider connections and
 * extensions (connections/), the raw webhook inbox (webhooks/) and the decisions remembered per call
 * (decide/). Calls come in telephony_0003, DNI visits in telephony_0002. Every tenant index starts with
 * tenant_id; a dialed number and a connection id are looked up without a tenant (that is how a
 * provider's request says whose it is).
 */
export class Migration0001Registry extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE connections (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        provider text NOT NULL CHECK (provider IN ('generic', 'mango', 'zadarma', 'twilio', 'kamailio')),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        api_base_url text NOT NULL DEFAULT '',
        account text NOT NULL DEFAULT '',
        secret text NOT NULL DEFAULT '',
        signing_secret text NOT NULL DEFAULT '',
        previous_signing_secret text NOT NULL DEFAULT '',
        previous_valid_until timestamptz,
        fallback_target text NOT NULL DEFAULT '',
        is_default boolean NOT NULL DEFAULT false,
        disabled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    this.addSql('CREATE INDEX connections_tenant_idx ON connections (tenant_id, created_at, id)');
    this.addSql('CREATE UNIQUE INDEX connections_default_idx ON connections (tenant_id) WHERE is_default');

    this.addSql(`
      CREATE TABLE extensions (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        connection_id uuid NOT NULL REFERENCES connections (id),
        user_id text NOT NULL,
        extension text NOT NULL CHECK (extension ~ '^[0-9A-Za-z_.+-]{1,32}$'),
        created_at timestamptz NOT NULL,
        UNIQUE (connection_id, extension),
        UNIQUE (connection_id, user_id)
      )`);
    this.addSql('CREATE INDEX extensions_tenant_user_idx ON extensions (tenant_id, user_id)');

    this.addSql(`
      CREATE TABLE pools (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        public_id text NOT NULL UNIQUE,
        fallback_phone text NOT NULL DEFAULT '',
        quiet_seconds integer NOT NULL DEFAULT 300 CHECK (quiet_seconds BETWEEN 30 AND 3600),
        allowed_origins text[] NOT NULL DEFAULT '{}',
        archived boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    this.addSql('CREATE INDEX pools_tenant_idx ON pools (tenant_id, created_at, id)');

    this.addSql(`
      CREATE TABLE numbers (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        phone text NOT NULL CHECK (phone ~ '^\\+[1-9][0-9]{6,14}$'),
        kind text NOT NULL CHECK (kind IN ('advertising', 'support', 'sales')),
        label text NOT NULL DEFAULT '',
        utm_source text NOT NULL DEFAULT '',
        utm_medium text NOT NULL DEFAULT '',
        utm_campaign text NOT NULL DEFAULT '',
        project_id text NOT NULL DEFAULT '',
        department_id text NOT NULL DEFAULT '',
        pool_id uuid REFERENCES pools (id),
        connection_id uuid REFERENCES connections (id),
        archived boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    // A dialed number says whose call it is: one active number per phone across tenants.
    this.addSql('CREATE UNIQUE INDEX numbers_active_phone_idx ON numbers (phone) WHERE NOT archived');
    this.addSql('CREATE INDEX numbers_tenant_idx ON numbers (tenant_id, created_at, id)');
    this.addSql('CREATE INDEX numbers_pool_idx ON numbers (pool_id) WHERE pool_id IS NOT NULL');

    // The raw inbox: every accepted provider request, kept for replay; one row per delivery.
    this.addSql(`
      CREATE TABLE webhook_events (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        connection_id uuid NOT NULL REFERENCES connections (id),
        provider text NOT NULL,
        delivery_id text NOT NULL,
        path text NOT NULL,
        method text NOT NULL,
        headers jsonb NOT NULL,
        body bytea NOT NULL,
        query text NOT NULL DEFAULT '',
        url text NOT NULL DEFAULT '',
        remote_ip text NOT NULL DEFAULT '',
        received_at timestamptz NOT NULL,
        events jsonb NOT NULL,
        processed_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        last_error text NOT NULL DEFAULT '',
        UNIQUE (connection_id, delivery_id)
      )`);
    this.addSql('CREATE INDEX webhook_events_tenant_idx ON webhook_events (tenant_id, received_at, id)');

    // What "whom do I connect this caller to" answered for a call, so its ringing pops to the same people.
    this.addSql(`
      CREATE TABLE call_decisions (
        connection_id uuid NOT NULL REFERENCES connections (id),
        provider_call_id text NOT NULL,
        tenant_id text NOT NULL,
        decision jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (connection_id, provider_call_id)
      )`);
  }
}
