import { Migration } from '@crm/db';

/**
 * Dynamic number insertion (dni/): one lease row per pool number (what lending locks), the visits a
 * pool lent a number to (or showed the fallback to), and the calls to pool numbers as attributed.
 *
 * - `dni_leases`: a pool number's current holder. A number is free when `lease_until` is null (never
 *   lent) or past; the free number lent next is the one whose lease ended longest ago. Lending locks
 *   these rows (`FOR UPDATE SKIP LOCKED`), so two concurrent lends never take the same number.
 * - `dni_visits`: a session's stay on a number, [lent_at, lease_until] where lease_until is
 *   last_seen_at + the pool's quiet period; released_at is set when the number goes to another visit.
 *   `number_id` is null for a visit that was shown the fallback (counted as a fallback show).
 * - `dni_calls`: one row per call to a pool number (idempotent on the call id): which visit explains it,
 *   or how many could (collision) or none (unexplained). GetPoolStats counts these.
 */
export class Migration0002Dni extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE dni_visits (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        pool_id uuid NOT NULL REFERENCES pools (id),
        session_id text NOT NULL,
        number_id uuid REFERENCES numbers (id),
        fallback boolean NOT NULL DEFAULT false,
        utm_source text NOT NULL DEFAULT '',
        utm_medium text NOT NULL DEFAULT '',
        utm_campaign text NOT NULL DEFAULT '',
        utm_content text NOT NULL DEFAULT '',
        utm_term text NOT NULL DEFAULT '',
        landing_page text NOT NULL DEFAULT '',
        referrer text NOT NULL DEFAULT '',
        lent_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,
        lease_until timestamptz NOT NULL,
        released_at timestamptz,
        CHECK (fallback = (number_id IS NULL))
      )`);
    this.addSql('CREATE INDEX dni_visits_session_idx ON dni_visits (pool_id, session_id, lent_at DESC)');
    this.addSql('CREATE INDEX dni_visits_number_idx ON dni_visits (number_id, lent_at) WHERE number_id IS NOT NULL');
    this.addSql('CREATE INDEX dni_visits_pool_time_idx ON dni_visits (pool_id, lent_at)');

    this.addSql(`
      CREATE TABLE dni_leases (
        number_id uuid PRIMARY KEY REFERENCES numbers (id),
        tenant_id text NOT NULL,
        pool_id uuid NOT NULL REFERENCES pools (id),
        visit_id uuid REFERENCES dni_visits (id),
        lease_until timestamptz
      )`);
    this.addSql('CREATE INDEX dni_leases_pool_idx ON dni_leases (pool_id, lease_until NULLS FIRST, number_id)');

    this.addSql(`
      CREATE TABLE dni_calls (
        tenant_id text NOT NULL,
        call_id text NOT NULL,
        pool_id uuid NOT NULL REFERENCES pools (id),
        number_id uuid NOT NULL REFERENCES numbers (id),
        called_at timestamptz NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('attributed', 'collision', 'unexplained')),
        visit_id uuid REFERENCES dni_visits (id),
        candidates integer NOT NULL,
        PRIMARY KEY (tenant_id, call_id)
      )`);
    this.addSql('CREATE INDEX dni_calls_pool_time_idx ON dni_calls (pool_id, called_at)');
  }
}
