import { Migration } from '@crm/db';

/**
 * A public form's field mapping (its own incoming field names per target, tried before the gateway's
 * defaults) and the thank-you URL a browser is sent to after a plain HTML form post (NULL: the
 * built-in page). Existing forms get an empty mapping and no URL.
 */
export class Migration0003PublicFormMapping extends Migration {
  override up(): void {
    this.addSql(`ALTER TABLE public_forms ADD COLUMN field_mapping jsonb NOT NULL DEFAULT '{"name":[],"phone":[],"email":[],"message":[]}'`);
    this.addSql(`ALTER TABLE public_forms ADD COLUMN thank_you_url text CHECK (thank_you_url IS NULL OR (length(thank_you_url) <= 2000 AND thank_you_url ~ '^https?://'))`);
  }
}
