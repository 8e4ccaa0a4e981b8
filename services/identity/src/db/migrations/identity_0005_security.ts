import { Migration } from '@crm/db';

/**
 * Security at the edge (issue 16).
 * - `login_throttle`: failed logins per account (`account:<tenant slug>:<e-mail as typed>`, known or not,
 *   so a lock says nothing about whether the account exists) and per client address (`address:<ip>`),
 *   with the growing delay (`next_attempt_at`) and the lock (`locked_until`). Every identity replica and
 *   so every gateway replica sees the same counts.
 * - sessions: where they were opened from, when last seen (idle timeout), why they ended, whether a
 *   second factor was used.
 * - users: a TOTP secret (AES-256-GCM sealed, see security/totp.ts), the last time step used (a code is
 *   accepted once), a pending secret while enrolling; `recovery_codes` (SHA-256 only, single use);
 *   `login_challenges` between the password and the second factor (SHA-256 of the token only).
 * - tenants: the policy "admins and heads of sales sign in with a second factor".
 * - `rate_quotas`: shared fixed-window counters behind the gateway's rate limits (UNLOGGED: a crash loses
 *   at most the current windows, which is what a limiter may lose).
 */
export class Migration0005Security extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE login_throttle (
        id uuid PRIMARY KEY,
        key text NOT NULL CONSTRAINT login_throttle_key_key UNIQUE,
        kind text NOT NULL CHECK (kind IN ('account', 'address')),
        tenant_id uuid,
        email text,
        user_id uuid,
        failures int NOT NULL DEFAULT 0,
        window_started_at timestamptz NOT NULL,
        last_failure_at timestamptz,
        last_address text,
        next_attempt_at timestamptz,
        locked_until timestamptz,
        updated_at timestamptz NOT NULL
      )`);
    // ListLoginLocks: a tenant's accounts, locked first then by the last failure.
    this.addSql("CREATE INDEX login_throttle_tenant_idx ON login_throttle (tenant_id, last_failure_at DESC, id) WHERE kind = 'account'");
    this.addSql('CREATE INDEX login_throttle_updated_idx ON login_throttle (updated_at)');

    this.addSql(`ALTER TABLE sessions
      ADD COLUMN last_seen_at timestamptz,
      ADD COLUMN address text NOT NULL DEFAULT '',
      ADD COLUMN user_agent text NOT NULL DEFAULT '',
      ADD COLUMN second_factor boolean NOT NULL DEFAULT false,
      ADD COLUMN ended_reason text`);
    this.addSql('UPDATE sessions SET last_seen_at = created_at');
    this.addSql('ALTER TABLE sessions ALTER COLUMN last_seen_at SET NOT NULL, ALTER COLUMN last_seen_at SET DEFAULT now()');
    this.addSql('CREATE INDEX sessions_user_idx ON sessions (tenant_id, user_id, created_at DESC) WHERE revoked_at IS NULL');

    this.addSql(`ALTER TABLE users
      ADD COLUMN totp_secret bytea,
      ADD COLUMN totp_enabled_at timestamptz,
      ADD COLUMN totp_last_step bigint,
      ADD COLUMN totp_pending_secret bytea,
      ADD COLUMN totp_pending_at timestamptz`);

    this.addSql(`
      CREATE TABLE recovery_codes (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        user_id uuid NOT NULL,
        code_hash bytea NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL,
        CONSTRAINT recovery_codes_user_code_key UNIQUE (user_id, code_hash)
      )`);

    this.addSql(`
      CREATE TABLE login_challenges (
        id uuid PRIMARY KEY,
        token_hash bytea NOT NULL CONSTRAINT login_challenges_token_hash_key UNIQUE,
        tenant_id uuid NOT NULL,
        user_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('code', 'enroll')),
        address text NOT NULL DEFAULT '',
        user_agent text NOT NULL DEFAULT '',
        attempts int NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    this.addSql('CREATE INDEX login_challenges_expires_idx ON login_challenges (expires_at)');

    this.addSql('ALTER TABLE tenants ADD COLUMN require_second_factor boolean NOT NULL DEFAULT false');

    this.addSql(`
      CREATE UNLOGGED TABLE rate_quotas (
        key text NOT NULL,
        window_start timestamptz NOT NULL,
        used bigint NOT NULL,
        PRIMARY KEY (key, window_start)
      )`);
    this.addSql('CREATE INDEX rate_quotas_window_idx ON rate_quotas (window_start)');
  }
}
