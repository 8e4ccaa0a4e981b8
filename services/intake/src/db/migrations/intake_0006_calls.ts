import { Migration } from '@crm/db';

/**
 * Telephony's outcome of a phone request (issue 10): `missed` existed since 0004; a missed call whose
 * callback connected keeps `missed` and gets the time (WorkflowService.SetCallOutcome).
 */
export class Migration0006Calls extends Migration {
  override up(): void {
    this.addSql('ALTER TABLE requests ADD COLUMN IF NOT EXISTS missed_recovered_at timestamptz');
  }
}
