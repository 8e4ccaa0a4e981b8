import { Migration, type NamedMigration } from '@crm/db';
import { Migration0002ExtraFields } from './intake_0002_extra_fields';
import { Migration0003Contact } from './intake_0003_contact';
import { Migration0004Workflow } from './intake_0004_workflow';
import { Migration0005Journal } from './intake_0005_journal';
import { Migration0006Calls } from './intake_0006_calls';

const STATES = `'new','assigned','in_progress','converted','attached','deferred','trash','closed'`;
const CHANNELS = `'phone','chat','email','signup','web_form'`;

/** Requests and their comments. Every index starts with tenant_id: every query is scoped by tenant. */
class Migration0001Requests extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE requests (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        state text NOT NULL CHECK (state IN (${STATES})),
        number_axis text NOT NULL CHECK (number_axis IN ('primary','repeat')),
        meaning_axis text NOT NULL CHECK (meaning_axis IN ('unknown','targeted','non_targeted')),
        contact_axis text NOT NULL CHECK (contact_axis IN ('none','unverified','verified')),
        qualification_axis text NOT NULL CHECK (qualification_axis IN ('pending','lead','not_lead')),
        channel text NOT NULL CHECK (channel IN (${CHANNELS})),
        name text,
        search_name text,
        phone text CHECK (phone ~ '^\\+[1-9][0-9]{1,14}$'),
        email text,
        message text,
        utm_source text,
        utm_medium text,
        utm_campaign text,
        utm_content text,
        utm_term text,
        landing_page text,
        referrer text,
        public_form_id text,
        idempotency_key text,
        fingerprint text NOT NULL,
        created_at timestamptz NOT NULL,
        comment_count integer NOT NULL DEFAULT 0 CHECK (comment_count >= 0)
      )`);
    // The journal: newest first, keyset pagination on (created_at, id); and the same per state.
    this.addSql('CREATE INDEX requests_tenant_created_idx ON requests (tenant_id, created_at DESC, id DESC)');
    this.addSql('CREATE INDEX requests_tenant_state_created_idx ON requests (tenant_id, state, created_at DESC, id DESC)');
    // Primary/repeat: "has this tenant seen this phone / e-mail before".
    this.addSql('CREATE INDEX requests_tenant_phone_idx ON requests (tenant_id, phone) WHERE phone IS NOT NULL');
    this.addSql('CREATE INDEX requests_tenant_email_idx ON requests (tenant_id, email) WHERE email IS NOT NULL');
    // One request per idempotency key and tenant (the create transaction also serialises on the key).
    this.addSql('CREATE UNIQUE INDEX requests_tenant_idempotency_key_uq ON requests (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL');

    this.addSql(`
      CREATE TABLE request_comments (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        request_id uuid NOT NULL REFERENCES requests (id),
        author_id text NOT NULL,
        text text NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    this.addSql('CREATE INDEX request_comments_tenant_request_idx ON request_comments (tenant_id, request_id, created_at, id)');
  }
}

export const intakeMigrations: NamedMigration[] = [
  { name: 'intake_0001_requests', class: Migration0001Requests },
  { name: 'intake_0002_extra_fields', class: Migration0002ExtraFields },
  { name: 'intake_0003_contact', class: Migration0003Contact },
  { name: 'intake_0004_workflow', class: Migration0004Workflow },
  { name: 'intake_0005_journal', class: Migration0005Journal },
  { name: 'intake_0006_calls', class: Migration0006Calls },
];
