import { Migration } from '@crm/db';

/**
 * A tenant's IANA time zone (reports count days in it, the UI shows times in it). Existing tenants
 * get `UTC`, which is what their reports have used so far. The service validates the name against
 * the runtime's time zone database; the check here only keeps obviously broken values out.
 */
export class Migration0002TenantTimeZone extends Migration {
  override up(): void {
    this.addSql(`ALTER TABLE tenants ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC' CHECK (time_zone ~ '^[A-Za-z][A-Za-z0-9_+/-]{0,63}$')`);
  }
}
