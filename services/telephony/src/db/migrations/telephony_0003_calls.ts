import { Migration } from '@crm/db';

/**
 * Calls, their applied events and recordings (calls/). A call is keyed by (connection, provider call
 * id): every webhook of one call finds the same row whatever its order. `call_events` keeps each applied
 * normalised event once (unique per call and provider event id); the call's columns are a fold of them
 * (calls/fold.ts). `effects` and `published` say which side effects (intake, contacts) and outbox events
 * are done, so a retried job does each once.
 */
export class Migration0003Calls extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE calls (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        connection_id uuid NOT NULL REFERENCES connections (id),
        provider text NOT NULL,
        provider_call_id text NOT NULL,
        direction text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
        status text NOT NULL CHECK (status IN ('ringing', 'answered', 'ended', 'missed')),
        caller text NOT NULL DEFAULT '',
        callee text NOT NULL DEFAULT '',
        dialed text NOT NULL DEFAULT '',
        number_id text NOT NULL DEFAULT '',
        number_kind text NOT NULL DEFAULT '',
        number_issue text NOT NULL DEFAULT '' CHECK (number_issue IN ('', 'unknown_number', 'foreign_number')),
        project_id text NOT NULL DEFAULT '',
        department_id text NOT NULL DEFAULT '',
        request_id text NOT NULL DEFAULT '',
        contact_id text NOT NULL DEFAULT '',
        user_id text NOT NULL DEFAULT '',
        answered_extension text NOT NULL DEFAULT '',
        ringing_user_ids text[] NOT NULL DEFAULT '{}',
        started_at timestamptz NOT NULL,
        answered_at timestamptz,
        ended_at timestamptz,
        duration_seconds integer NOT NULL DEFAULT 0,
        talk_seconds integer NOT NULL DEFAULT 0,
        disposition text NOT NULL DEFAULT '',
        missed boolean NOT NULL DEFAULT false,
        recovered_at timestamptz,
        recovered_by_call_id text NOT NULL DEFAULT '',
        recovered_call_ids text[] NOT NULL DEFAULT '{}',
        transfers jsonb NOT NULL DEFAULT '[]',
        recording_url text NOT NULL DEFAULT '',
        has_recording boolean NOT NULL DEFAULT false,
        utm_source text NOT NULL DEFAULT '',
        utm_medium text NOT NULL DEFAULT '',
        utm_campaign text NOT NULL DEFAULT '',
        landing_page text NOT NULL DEFAULT '',
        dni_visit_id text NOT NULL DEFAULT '',
        dni_collision boolean NOT NULL DEFAULT false,
        -- The routing decision remembered for the call (call_decisions) when it was first seen.
        decision jsonb,
        effects text[] NOT NULL DEFAULT '{}',
        published text[] NOT NULL DEFAULT '{}',
        idempotency_key text,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        UNIQUE (connection_id, provider_call_id)
      )`);
    this.addSql('CREATE INDEX calls_tenant_started_idx ON calls (tenant_id, started_at DESC, id DESC)');
    this.addSql("CREATE INDEX calls_tenant_contact_idx ON calls (tenant_id, contact_id, started_at DESC) WHERE contact_id <> ''");
    this.addSql("CREATE INDEX calls_tenant_request_idx ON calls (tenant_id, request_id) WHERE request_id <> ''");
    // Callbacks look for the open misses of a phone.
    this.addSql("CREATE INDEX calls_open_misses_idx ON calls (tenant_id, caller, started_at) WHERE missed AND recovered_at IS NULL AND direction = 'inbound'");
    this.addSql('CREATE UNIQUE INDEX calls_idempotency_idx ON calls (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL');
    this.addSql(`
      CREATE TABLE call_events (
        call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        provider_event_id text NOT NULL,
        tenant_id text NOT NULL,
        kind text NOT NULL,
        seq integer,
        at timestamptz NOT NULL,
        webhook_event_id uuid,
        event jsonb NOT NULL,
        applied_at timestamptz NOT NULL,
        PRIMARY KEY (call_id, provider_event_id)
      )`);
    this.addSql(`
      CREATE TABLE call_recordings (
        call_id uuid PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
        tenant_id text NOT NULL,
        content_type text NOT NULL,
        size_bytes integer NOT NULL CHECK (size_bytes BETWEEN 0 AND 52428800),
        data bytea NOT NULL,
        created_at timestamptz NOT NULL
      )`);
  }
}
