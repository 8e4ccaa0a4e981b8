import { Migration } from '@crm/db';

/** DNI visits and their leases (dni/): owned by the DNI area. */
export class Migration0002Dni extends Migration {
  override up(): void {
    // Filled in by the DNI area.
  }
}
