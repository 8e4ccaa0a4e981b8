import { Migration } from '@crm/db';

/** Calls, their applied events and recordings (calls/): owned by the calls area. */
export class Migration0003Calls extends Migration {
  override up(): void {
    // Filled in by the calls area.
  }
}
