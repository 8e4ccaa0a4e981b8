/**
 * The bases (DOMAIN.md "Client card lifecycle and the bases") — queries over what happened, never flags:
 * - cold: contacts (not merged) with no request of their own (request_links) and no deal (deal_links
 *   naming them, or a deal on one of their cards); newest first (contacts_tenant_created_idx);
 * - free: client cards with at least one finished deal (won or lost) and no open deal;
 * - disconnected: client cards in state `former` (client_cards_tenant_state_idx).
 * Each NOT EXISTS / EXISTS probes an index that starts with the tenant (request_links_tenant_contact_idx,
 * deal_links_tenant_card_idx) or the GIN index on deal_links.contact_ids. Cards are in the order of
 * their last change (updated_at desc, id desc). Keyset-paginated; the query filters names (and, for the
 * cold base, contact points: e-mail / handle substrings and phone digits).
 */
import { Base, type ListBaseRequest, type ListBaseResponse } from '@crm/contracts/crm/contacts/v1/cards';
import type { MikroORM } from '@crm/db';
import { ValidationError } from '@crm/errors';
import type { CountryCode } from 'libphonenumber-js';
import { cardColumns, cardExtras } from './cards/card-store';
import { decodeKeyset, page, pageSize, TS_KEY_RE, tsKeySql } from './cards/keyset';
import { cardMessage, type CardRow } from './cards/personal-card';
import { containsPattern, queryArg } from './cards/text';
import { CONTACT_COLUMNS, contactMessage, type ContactRow } from './contacts.sql';
import { parseSearch } from './domain/search';

const BASE_NAMES: Partial<Record<Base, 'cold' | 'free' | 'disconnected'>> = {
  [Base.BASE_COLD]: 'cold',
  [Base.BASE_FREE]: 'free',
  [Base.BASE_DISCONNECTED]: 'disconnected',
};

/** SQL: a contact (alias c) has no request and no deal of its own. */
export const COLD_SQL = `c.merged_into_id IS NULL
  AND NOT EXISTS (SELECT 1 FROM request_links r WHERE r.tenant_id = c.tenant_id AND r.contact_id = c.id)
  AND NOT EXISTS (SELECT 1 FROM deal_links d WHERE d.contact_ids @> ARRAY[c.id] AND d.tenant_id = c.tenant_id)
  AND NOT EXISTS (SELECT 1 FROM client_cards k JOIN deal_links d ON d.client_card_id = k.id
                   WHERE k.tenant_id = c.tenant_id AND k.contact_id = c.id AND d.tenant_id = c.tenant_id)`;

/** SQL: a card (alias cc) has a finished deal and no open one. */
export const FREE_SQL = `EXISTS (SELECT 1 FROM deal_links d WHERE d.tenant_id = cc.tenant_id AND d.client_card_id = cc.id AND d.status IN ('won', 'lost'))
  AND NOT EXISTS (SELECT 1 FROM deal_links d WHERE d.tenant_id = cc.tenant_id AND d.client_card_id = cc.id AND d.status = 'open')`;

export async function listBase(orm: MikroORM, tenantId: string, req: ListBaseRequest, defaultCountry: CountryCode = 'RU'): Promise<ListBaseResponse> {
  const base = BASE_NAMES[req.base];
  if (!base) throw new ValidationError('base must be cold, free or disconnected', [{ field: 'base', message: 'must be cold, free or disconnected' }]);
  const size = pageSize(req.pageSize);
  const list = `base:${base}`;
  const after = req.cursor ? decodeKeyset(list, req.cursor, TS_KEY_RE) : undefined;
  const em = orm.em.fork();

  if (base === 'cold') {
    const keysetSql = after ? 'AND (c.created_at, c.id) < (?::timestamptz, ?::uuid)' : '';
    const keysetParams = after ? [after.key, after.id] : [];
    const order = 'ORDER BY c.created_at DESC, c.id DESC LIMIT ?';
    const q = parseSearch(req.query ?? '', defaultCountry);
    let sql: string;
    const params: unknown[] = [];
    if (!q) {
      sql = `SELECT ${CONTACT_COLUMNS} FROM contacts c WHERE c.tenant_id = ? AND ${COLD_SQL} ${keysetSql} ${order}`;
      params.push(tenantId, ...keysetParams, size + 1);
    } else {
      // One branch per way of matching, each ordered and limited on its own (the planner picks the trigram
      // index or the created_at order per branch); the union is ordered and limited again.
      const branches: string[] = [];
      if (q.name) {
        branches.push(`(SELECT c.id FROM contacts c WHERE c.tenant_id = ? AND c.search_key LIKE ? AND c.search_name LIKE ? AND ${COLD_SQL} ${keysetSql} ${order})`);
        params.push(tenantId, containsPattern(q.key), containsPattern(q.name), ...keysetParams, size + 1);
      }
      const pointBranch = (column: 'value' | 'digits', pattern: string) => {
        branches.push(`(SELECT c.id FROM contact_points p JOIN contacts c ON c.id = p.contact_id
                          WHERE p.tenant_id = ? AND p.${column} LIKE ? AND c.tenant_id = ? AND ${COLD_SQL} ${keysetSql} ${order})`);
        params.push(tenantId, containsPattern(pattern), tenantId, ...keysetParams, size + 1);
      };
      if (q.value) pointBranch('value', q.value);
      for (const d of q.digits) pointBranch('digits', d);
      if (!branches.length) return { contacts: [], cards: [], nextCursor: '' };
      sql = `SELECT ${CONTACT_COLUMNS} FROM contacts c WHERE c.tenant_id = ? AND c.id IN (${branches.join(' UNION ')}) ${order}`;
      params.unshift(tenantId);
      params.push(size + 1);
    }
    const rows = await em.execute<ContactRow[]>(sql, params);
    const { items, nextCursor } = page(rows, size, list, (r) => ({ key: r.created_key!, id: r.id }));
    return { contacts: items.map(contactMessage), cards: [], nextCursor };
  }

  const where = ['cc.tenant_id = ?', base === 'free' ? FREE_SQL : `cc.state = 'former'`];
  const params: unknown[] = [tenantId];
  const query = queryArg(req.query);
  let joins = '';
  if (query) {
    joins = `LEFT JOIN contacts ct ON ct.id = cc.contact_id AND ct.tenant_id = cc.tenant_id
             LEFT JOIN companies co ON co.id = cc.company_id AND co.tenant_id = cc.tenant_id`;
    where.push('(ct.search_name LIKE ? OR co.search_name LIKE ?)');
    params.push(containsPattern(query), containsPattern(query));
  }
  if (after) {
    where.push('(cc.updated_at, cc.id) < (?::timestamptz, ?::uuid)');
    params.push(after.key, after.id);
  }
  params.push(size + 1);
  const rows = await em.execute<(CardRow & { k: string })[]>(
    `SELECT ${cardColumns('cc')}, ${tsKeySql('cc.updated_at')} AS k FROM client_cards cc ${joins}
      WHERE ${where.join(' AND ')} ORDER BY cc.updated_at DESC, cc.id DESC LIMIT ?`,
    params,
  );
  const { items, nextCursor } = page(rows, size, list, (r) => ({ key: r.k, id: r.id }));
  const extras = await cardExtras(em, tenantId, items);
  return { contacts: [], cards: items.map((r) => cardMessage(r, extras.get(r.id))), nextCursor };
}
