import { Migration } from '@crm/db';

/**
 * Extra form fields: the fields of a web form that map to nothing else, kept in the order sent as a
 * jsonb array of [key, value] pairs (an object would lose the order and duplicate keys), and whether
 * the sender had to drop or shorten some to fit the bounds. Existing requests get none.
 */
export class Migration0002ExtraFields extends Migration {
  override up(): void {
    this.addSql(`ALTER TABLE requests ADD COLUMN extra_fields jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(extra_fields) = 'array' AND jsonb_array_length(extra_fields) <= 50)`);
    this.addSql('ALTER TABLE requests ADD COLUMN extra_fields_truncated boolean NOT NULL DEFAULT false');
  }
}
