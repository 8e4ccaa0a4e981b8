import { Migration } from '@crm/db';

/**
 * The journal's search at scale (issue 8, bench:journal): trigram indexes for the `query` filter, which
 * matches a substring of the name, the e-mail or the phone. pg_trgm takes no trigrams from Cyrillic
 * under the C locale, so the name is indexed through a transliteration to ASCII (the same letters as
 * contacts' search key) and the query checks the exact `search_name LIKE` after it (domain: see
 * requests.service.ts listWhere). Expression indexes, so adding them does not rewrite the table.
 */
export const SEARCH_FROM = 'абвгдеёжзийклмнопрстуфхцчшщыэюяіїєґъь';
export const SEARCH_TO = 'abvgdeezzijklmnoprstufhccssyeuaiiegwq';

export class Migration0005Journal extends Migration {
  override up(): void {
    this.addSql('CREATE EXTENSION IF NOT EXISTS pg_trgm');
    this.addSql(`CREATE INDEX requests_search_name_trgm ON requests USING gin ((translate(search_name, '${SEARCH_FROM}', '${SEARCH_TO}')) gin_trgm_ops) WHERE search_name IS NOT NULL`);
    this.addSql('CREATE INDEX requests_email_trgm ON requests USING gin (email gin_trgm_ops) WHERE email IS NOT NULL');
    this.addSql('CREATE INDEX requests_phone_trgm ON requests USING gin (phone gin_trgm_ops) WHERE phone IS NOT NULL');
    // Substring estimates from the default statistics are far off for common fragments; more samples
    // let the planner choose between walking created_at (a common fragment) and the trigram bitmap (a rare one).
    this.addSql('ALTER TABLE requests ALTER search_name SET STATISTICS 1000, ALTER email SET STATISTICS 1000, ALTER phone SET STATISTICS 1000');
  }
}
