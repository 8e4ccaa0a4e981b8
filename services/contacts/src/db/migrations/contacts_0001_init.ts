import { Migration } from '@crm/db';

const POINT_TYPES = `'phone','email','social'`;
const PROVENANCE = `'request','import','user','call','conversation'`;
const CARD_STATES = `'not_client','potential','active','former'`;
const CARD_KINDS = `'direct','via_agent','agent_partner'`;

/**
 * The tables of contacts (the runtime's outbox and processed_events come before it). Every index starts
 * with tenant_id: every query is scoped by tenant. Names and e-mails are searched through trigram
 * indexes on values lower-cased in JavaScript (PostgreSQL's lower() under the C locale leaves Cyrillic as it is).
 */
export class Migration0001Init extends Migration {
  override up(): void {
    this.addSql('CREATE EXTENSION IF NOT EXISTS pg_trgm');

    // People. A merged contact stays (merged_into_id set) so that its id keeps resolving and a merge can be undone.
    this.addSql(`
      CREATE TABLE contacts (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        name text CHECK (name IS NULL OR length(name) BETWEEN 1 AND 200),
        search_name text,
        -- pg_trgm takes no trigrams from Cyrillic under the C locale: the index is on this ASCII key
        -- (src/domain/contact.ts searchKey, SEARCH_KEY_FROM/TO); search_name is checked exactly after it.
        search_key text GENERATED ALWAYS AS (translate(search_name, 'абвгдеёжзийклмнопрстуфхцчшщыэюяіїєґъь', 'abvgdeezzijklmnoprstufhccssyeuaiiegwq')) STORED,
        -- The values of the contact's e-mail and social points, newline-separated (they are stored lower-cased),
        -- kept by the triggers below: a query matches e-mails/handles here in the same statement as names.
        search_points text,
        company_id uuid,
        merged_into_id uuid,
        provenance_kind text NOT NULL CHECK (provenance_kind IN (${PROVENANCE})),
        provenance_ref text,
        idempotency_key text,
        fingerprint text,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    this.addSql('CREATE INDEX contacts_tenant_created_idx ON contacts (tenant_id, created_at DESC, id DESC) WHERE merged_into_id IS NULL');
    this.addSql('CREATE INDEX contacts_search_name_trgm ON contacts USING gin (search_key gin_trgm_ops)');
    this.addSql('CREATE INDEX contacts_search_points_trgm ON contacts USING gin (search_points gin_trgm_ops)');
    // Substring estimates from the default 100-entry statistics are far too low for common fragments
    // ("иван"), which made the planner take a bitmap scan of ~20k rows instead of walking created_at.
    this.addSql('ALTER TABLE contacts ALTER search_key SET STATISTICS 1000, ALTER search_name SET STATISTICS 1000, ALTER search_points SET STATISTICS 1000');
    this.addSql('CREATE INDEX contacts_tenant_company_idx ON contacts (tenant_id, company_id) WHERE company_id IS NOT NULL');
    this.addSql('CREATE UNIQUE INDEX contacts_tenant_idempotency_key_uq ON contacts (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL');

    // Contact points: one owner per normalised point and tenant, by the unique index (never read-then-write).
    // value: E.164 phone, lower-cased e-mail, `<network>:<id>` for social points. digits: a phone's digits (search).
    this.addSql(`
      CREATE TABLE contact_points (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        contact_id uuid NOT NULL REFERENCES contacts (id),
        type text NOT NULL CHECK (type IN (${POINT_TYPES})),
        value text NOT NULL CHECK (length(value) BETWEEN 1 AND 300),
        network text,
        digits text,
        verification text NOT NULL CHECK (verification IN ('unverified','verified')),
        verified_by text,
        provenance_kind text NOT NULL CHECK (provenance_kind IN (${PROVENANCE})),
        provenance_ref text,
        created_at timestamptz NOT NULL,
        CHECK (type <> 'phone' OR value ~ '^\\+[1-9][0-9]{1,14}$'),
        CHECK ((type = 'social') = (network IS NOT NULL))
      )`);
    this.addSql('CREATE UNIQUE INDEX contact_points_tenant_value_uq ON contact_points (tenant_id, type, value)');
    this.addSql('CREATE INDEX contact_points_contact_idx ON contact_points (contact_id)');
    this.addSql('CREATE INDEX contact_points_value_trgm ON contact_points USING gin (value gin_trgm_ops)');
    this.addSql('CREATE INDEX contact_points_digits_trgm ON contact_points USING gin (digits gin_trgm_ops) WHERE digits IS NOT NULL');
    // contacts.search_points follows every insert, delete and move of an e-mail / social point, whoever writes
    // it (the service, a merge and its undo, the import batch): statement triggers with transition tables, so
    // a batch costs one UPDATE of its contacts. ENABLE ALWAYS: also under session_replication_role = replica
    // (the benchmark seeder's bulk load).
    this.addSql(`
      CREATE FUNCTION contacts_refresh_search_points(ids uuid[]) RETURNS void LANGUAGE sql AS $$
        -- Joins, not a subquery per contact: a bulk load (indexes dropped) hash-joins once.
        UPDATE contacts c SET search_points = s.v
          FROM (SELECT i.id, string_agg(p.value, E'\\n' ORDER BY p.value) AS v
                  FROM unnest(ids) AS i (id) LEFT JOIN contact_points p ON p.contact_id = i.id AND p.type <> 'phone'
                 GROUP BY i.id) s
         WHERE c.id = s.id AND c.search_points IS DISTINCT FROM s.v
      $$`);
    this.addSql(`
      CREATE FUNCTION contact_points_search_ins() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM contacts_refresh_search_points(ARRAY(SELECT DISTINCT contact_id FROM new_points WHERE type <> 'phone'));
        RETURN NULL;
      END $$`);
    this.addSql(`
      CREATE FUNCTION contact_points_search_del() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM contacts_refresh_search_points(ARRAY(SELECT DISTINCT contact_id FROM old_points WHERE type <> 'phone'));
        RETURN NULL;
      END $$`);
    this.addSql(`
      CREATE FUNCTION contact_points_search_upd() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM contacts_refresh_search_points(ARRAY(
          SELECT DISTINCT x.contact_id FROM old_points o JOIN new_points n ON n.id = o.id,
                 LATERAL (VALUES (o.contact_id), (n.contact_id)) AS x (contact_id)
           WHERE (o.type <> 'phone' OR n.type <> 'phone')
             AND (o.contact_id IS DISTINCT FROM n.contact_id OR o.value IS DISTINCT FROM n.value OR o.type IS DISTINCT FROM n.type)));
        RETURN NULL;
      END $$`);
    this.addSql('CREATE TRIGGER contact_points_search_ins AFTER INSERT ON contact_points REFERENCING NEW TABLE AS new_points FOR EACH STATEMENT EXECUTE FUNCTION contact_points_search_ins()');
    this.addSql('CREATE TRIGGER contact_points_search_del AFTER DELETE ON contact_points REFERENCING OLD TABLE AS old_points FOR EACH STATEMENT EXECUTE FUNCTION contact_points_search_del()');
    this.addSql('CREATE TRIGGER contact_points_search_upd AFTER UPDATE ON contact_points REFERENCING OLD TABLE AS old_points NEW TABLE AS new_points FOR EACH STATEMENT EXECUTE FUNCTION contact_points_search_upd()');
    for (const t of ['ins', 'del', 'upd']) this.addSql(`ALTER TABLE contact_points ENABLE ALWAYS TRIGGER contact_points_search_${t}`);

    // Probable duplicates for a person to resolve; first_id < second_id so a pair is recorded once.
    this.addSql(`
      CREATE TABLE duplicates (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        first_id uuid NOT NULL REFERENCES contacts (id),
        second_id uuid NOT NULL REFERENCES contacts (id),
        reason text NOT NULL,
        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open','dismissed','merged')),
        created_at timestamptz NOT NULL,
        resolved_at timestamptz,
        resolved_by text,
        CHECK (first_id < second_id)
      )`);
    this.addSql('CREATE UNIQUE INDEX duplicates_pair_uq ON duplicates (tenant_id, first_id, second_id)');
    this.addSql('CREATE INDEX duplicates_tenant_status_idx ON duplicates (tenant_id, status, created_at DESC, id DESC)');

    // A merge and everything it moved (snapshot), so that undo restores both contacts exactly.
    this.addSql(`
      CREATE TABLE merges (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        survivor_id uuid NOT NULL REFERENCES contacts (id),
        loser_id uuid NOT NULL REFERENCES contacts (id),
        merged_by text NOT NULL,
        snapshot jsonb NOT NULL,
        points_moved integer NOT NULL,
        cards_moved integer NOT NULL,
        requests_moved integer NOT NULL,
        timeline_entries_moved integer NOT NULL,
        created_at timestamptz NOT NULL,
        undone_at timestamptz,
        undone_by text,
        CHECK (survivor_id <> loser_id)
      )`);
    this.addSql('CREATE INDEX merges_tenant_survivor_idx ON merges (tenant_id, survivor_id, created_at DESC)');
    this.addSql('CREATE INDEX merges_tenant_loser_idx ON merges (tenant_id, loser_id, created_at DESC)');

    // Companies; a tax id (digits, checksum checked) belongs to one company per tenant.
    this.addSql(`
      CREATE TABLE companies (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
        search_name text NOT NULL,
        tax_id text CHECK (tax_id IS NULL OR tax_id ~ '^[0-9]{10}([0-9]{2})?$'),
        addresses jsonb NOT NULL DEFAULT '[]',
        idempotency_key text,
        fingerprint text,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    this.addSql('CREATE UNIQUE INDEX companies_tenant_tax_id_uq ON companies (tenant_id, tax_id) WHERE tax_id IS NOT NULL');
    this.addSql('CREATE UNIQUE INDEX companies_tenant_idempotency_key_uq ON companies (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL');
    this.addSql('CREATE INDEX companies_tenant_name_idx ON companies (tenant_id, search_name, id)');
    this.addSql('CREATE INDEX companies_search_name_trgm ON companies USING gin (search_name gin_trgm_ops)');
    this.addSql('ALTER TABLE contacts ADD CONSTRAINT contacts_company_fk FOREIGN KEY (company_id) REFERENCES companies (id)');

    // Contacts of a company with their roles.
    this.addSql(`
      CREATE TABLE company_contacts (
        tenant_id text NOT NULL,
        company_id uuid NOT NULL REFERENCES companies (id),
        contact_id uuid NOT NULL REFERENCES contacts (id),
        role text NOT NULL DEFAULT '' CHECK (length(role) <= 100),
        created_at timestamptz NOT NULL,
        PRIMARY KEY (company_id, contact_id)
      )`);
    this.addSql('CREATE INDEX company_contacts_contact_idx ON company_contacts (tenant_id, contact_id)');

    // Client cards: the tenant's relationship with a person or a company.
    this.addSql(`
      CREATE TABLE client_cards (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        contact_id uuid REFERENCES contacts (id),
        company_id uuid REFERENCES companies (id),
        state text NOT NULL CHECK (state IN (${CARD_STATES})),
        kind text NOT NULL CHECK (kind IN (${CARD_KINDS})),
        owner_id text,
        agent_card_id uuid REFERENCES client_cards (id),
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        CHECK ((contact_id IS NULL) <> (company_id IS NULL)),
        CHECK ((kind = 'via_agent') = (agent_card_id IS NOT NULL))
      )`);
    this.addSql('CREATE INDEX client_cards_tenant_contact_idx ON client_cards (tenant_id, contact_id) WHERE contact_id IS NOT NULL');
    this.addSql('CREATE INDEX client_cards_tenant_company_idx ON client_cards (tenant_id, company_id) WHERE company_id IS NOT NULL');
    this.addSql('CREATE INDEX client_cards_tenant_state_idx ON client_cards (tenant_id, state, updated_at DESC, id DESC)');
    // ListClientCards without a state filter, and the free base, in the same order (H2).
    this.addSql('CREATE INDEX client_cards_tenant_updated_idx ON client_cards (tenant_id, updated_at DESC, id DESC)');
    this.addSql('CREATE INDEX client_cards_agent_idx ON client_cards (tenant_id, agent_card_id) WHERE agent_card_id IS NOT NULL');

    // Every change of a card (its history): who or what changed which field from what to what, and why.
    this.addSql(`
      CREATE TABLE client_card_history (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        card_id uuid NOT NULL REFERENCES client_cards (id),
        field text NOT NULL,
        from_value text,
        to_value text,
        reason text,
        actor_kind text NOT NULL CHECK (actor_kind IN ('user','event','rule')),
        actor_ref text,
        at timestamptz NOT NULL
      )`);
    this.addSql('CREATE INDEX client_card_history_card_idx ON client_card_history (tenant_id, card_id, at, id)');

    // Read models fed by other services' events: which requests and deals a contact / card has.
    this.addSql(`
      CREATE TABLE request_links (
        request_id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        contact_id uuid NOT NULL REFERENCES contacts (id),
        channel text,
        qualification text,
        created_at timestamptz NOT NULL
      )`);
    this.addSql('CREATE INDEX request_links_tenant_contact_idx ON request_links (tenant_id, contact_id, created_at DESC)');
    this.addSql(`
      CREATE TABLE deal_links (
        deal_id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        client_card_id uuid REFERENCES client_cards (id),
        contact_ids uuid[] NOT NULL DEFAULT '{}',
        status text NOT NULL CHECK (status IN ('open','won','lost')),
        title text,
        amount_minor bigint,
        currency text,
        updated_at timestamptz NOT NULL
      )`);
    this.addSql('CREATE INDEX deal_links_tenant_card_idx ON deal_links (tenant_id, client_card_id, status)');
    // fastupdate off: the cold base probes this index once per contact it looks at, and a GIN pending list
    // (fastupdate's buffer of recent inserts) is scanned on every probe until vacuum flushes it (H2 measured
    // 4 ms per probe after a bulk load, 0.005 ms without). Deal events are few; their inserts can afford it.
    this.addSql('CREATE INDEX deal_links_contacts_gin ON deal_links USING gin (contact_ids) WITH (fastupdate = off)');

    // The communication timeline (журнал общения), a read model from the services' events. source_event_id
    // (the event's ce_id, plus a suffix when one event makes several entries) makes a redelivery a no-op.
    this.addSql(`
      CREATE TABLE timeline_entries (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        contact_id uuid REFERENCES contacts (id),
        client_card_id uuid REFERENCES client_cards (id),
        occurred_at timestamptz NOT NULL,
        kind text NOT NULL,
        ref_type text NOT NULL,
        ref_id text NOT NULL,
        summary text NOT NULL DEFAULT '',
        event_type text NOT NULL,
        source_event_id text NOT NULL,
        CHECK (contact_id IS NOT NULL OR client_card_id IS NOT NULL)
      )`);
    this.addSql('CREATE UNIQUE INDEX timeline_entries_source_uq ON timeline_entries (tenant_id, source_event_id)');
    this.addSql('CREATE INDEX timeline_entries_contact_idx ON timeline_entries (tenant_id, contact_id, occurred_at DESC, id DESC) WHERE contact_id IS NOT NULL');
    this.addSql('CREATE INDEX timeline_entries_card_idx ON timeline_entries (tenant_id, client_card_id, occurred_at DESC, id DESC) WHERE client_card_id IS NOT NULL');

    // CSV imports: the uploaded file in chunks, the job's state and progress (checkpointed so a restarted
    // service resumes without duplicates), and the invalid rows' report.
    this.addSql(`
      CREATE TABLE imports (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('uploading','analysed','running','done','failed','cancelled')),
        file_name text NOT NULL,
        size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
        received_bytes bigint NOT NULL DEFAULT 0,
        default_country text NOT NULL,
        encoding text,
        delimiter text,
        has_header boolean NOT NULL DEFAULT true,
        header jsonb,
        mapping jsonb,
        dry_run boolean NOT NULL DEFAULT false,
        total_rows integer NOT NULL DEFAULT 0,
        processed_rows integer NOT NULL DEFAULT 0,
        created_count integer NOT NULL DEFAULT 0,
        duplicate_count integer NOT NULL DEFAULT 0,
        invalid_count integer NOT NULL DEFAULT 0,
        bytes_processed bigint NOT NULL DEFAULT 0,
        checkpoint jsonb,
        lease_owner text,
        lease_until timestamptz,
        error text,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        started_at timestamptz,
        finished_at timestamptz
      )`);
    this.addSql('CREATE INDEX imports_tenant_created_idx ON imports (tenant_id, created_at DESC, id DESC)');
    this.addSql(`CREATE INDEX imports_running_idx ON imports (lease_until) WHERE status = 'running'`);
    this.addSql(`
      CREATE TABLE import_chunks (
        import_id uuid NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
        seq integer NOT NULL CHECK (seq >= 0),
        data bytea NOT NULL,
        PRIMARY KEY (import_id, seq)
      )`);
    this.addSql(`
      CREATE TABLE import_errors (
        import_id uuid NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
        row_number integer NOT NULL,
        reason text NOT NULL,
        PRIMARY KEY (import_id, row_number)
      )`);
  }
}
