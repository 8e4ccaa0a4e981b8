import { Migration } from '@crm/db';

/**
 * The request's contact (contacts service, issue 18). `contact_id` is NULL when the request has no
 * phone or e-mail, or until the backfill links it (contacts unreachable at arrival, or the request
 * existed before this migration). Both new columns are nullable without a default, so adding them does
 * not rewrite the table.
 *
 * - `contact_link_after`: the backfill's lease and back-off. A request waiting for its contact is
 *   taken by a backfill batch only when this is NULL or past; taking it sets it ahead, so two replicas
 *   never work on the same request and a request contacts failed on waits before it is tried again.
 * - `contact_unlinkable`: why contacts refused the request's points (INVALID_ARGUMENT and the like);
 *   such a request is never tried again.
 */
export class Migration0003Contact extends Migration {
  override up(): void {
    this.addSql('ALTER TABLE requests ADD COLUMN contact_id uuid');
    this.addSql('ALTER TABLE requests ADD COLUMN contact_link_after timestamptz');
    this.addSql('ALTER TABLE requests ADD COLUMN contact_unlinkable text');
    // A contact's requests, newest first (ListRequests contact_id, and "has this contact written before").
    this.addSql('CREATE INDEX requests_tenant_contact_created_idx ON requests (tenant_id, contact_id, created_at DESC, id DESC) WHERE contact_id IS NOT NULL');
    // The backfill's queue, oldest first: small once everything is linked.
    this.addSql(
      `CREATE INDEX requests_contact_pending_idx ON requests (created_at, id)
         WHERE contact_id IS NULL AND contact_unlinkable IS NULL AND (phone IS NOT NULL OR email IS NOT NULL)`,
    );
  }
}
