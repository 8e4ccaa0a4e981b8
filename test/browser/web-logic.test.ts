/**
 * Unit tests of the web UI's pure logic (no browser): the journal's filters, how live requests merge
 * into the loaded journal, and the router's path matching. They live here because Jest's roots do not
 * include web/ yet; they belong beside the code (web/src/*.test.ts) once they do.
 */
import type { CrmRequest } from '../../web/src/api';
import { listQuery } from '../../web/src/api';
import { filtersFromSearch, filtersToSearch, hasFilters, matchesLocally, needsServerCheck, NO_FILTERS, toApiFilters } from '../../web/src/filters';
import { mergeRequests, newestFirst } from '../../web/src/requests';
import { matchPath } from '../../web/src/paths';

function req(id: string, createdAt: string, over: Partial<CrmRequest> = {}): CrmRequest {
  return {
    id,
    state: 'new',
    channel: 'web_form',
    axes: { number: 'primary', meaning: 'unknown', contact: 'none', qualification: 'pending', channel: 'web_form' },
    name: id,
    phone: '',
    email: '',
    message: '',
    attribution: { utm_source: '', utm_medium: '', utm_campaign: '', utm_content: '', utm_term: '', landing_page: '', referrer: '' },
    comment_count: 0,
    contact_id: '',
    extra_fields: [],
    extra_fields_truncated: false,
    created_at: createdAt,
    // Working the request (issue 8): a fresh request, unrouted.
    version: 1,
    department_id: null,
    assignee_id: null,
    project_id: null,
    routing_version: null,
    routing_rule_id: null,
    sla_due_at: null,
    sla_breached_at: null,
    first_response_at: null,
    revisit_at: null,
    trash_reason: null,
    trash_note: null,
    deal_id: null,
    client_card_id: null,
    missed: false,
    dialed_number_kind: null,
    state_changed_at: null,
    state_reason: null,
    ...over,
  };
}

describe('journal filters', () => {
  it('round-trips through the query string, dropping unknown values', () => {
    const f = filtersFromSearch(new URLSearchParams('state=new&state=bogus&state=trash&channel=phone&from=2026-11-01&to=nope&q=%20Анна%20&x=1'));
    expect(f).toEqual({ ...NO_FILTERS, states: ['new', 'trash'], channels: ['phone'], from: '2026-11-01', to: '', q: ' Анна ' });
    expect(filtersToSearch(f)).toBe('?state=new&state=trash&channel=phone&from=2026-11-01&q=%D0%90%D0%BD%D0%BD%D0%B0');
    expect(filtersToSearch(NO_FILTERS)).toBe('');
    expect(hasFilters(NO_FILTERS)).toBe(false);
    expect(hasFilters({ ...NO_FILTERS, q: '   ' })).toBe(false);
    expect(hasFilters({ ...NO_FILTERS, to: '2026-11-02' })).toBe(true);
  });

  it("turns dates into the user's local day bounds, the end exclusive at the next midnight", () => {
    const api = toApiFilters({ ...NO_FILTERS, from: '2026-11-01', to: '2026-11-30', q: ' x ' });
    expect(api.createdFrom).toBe(new Date(2026, 10, 1).toISOString());
    expect(api.createdTo).toBe(new Date(2026, 11, 1).toISOString());
    expect(api.q).toBe('x');
    expect(listQuery(api, 25, 'c1')).toBe(`created_from=${encodeURIComponent(api.createdFrom!)}&created_to=${encodeURIComponent(api.createdTo!)}&q=x&limit=25&cursor=c1`);
    expect(listQuery({ states: ['new', 'assigned'], channels: ['web_form'] }, 10)).toBe('state=new&state=assigned&channel=web_form&limit=10');
  });

  it('matches a live request on state, channel and dates; leaves text search to the server', () => {
    const r = req('a', new Date(2026, 10, 15, 12).toISOString(), { state: 'new', channel: 'phone' });
    expect(matchesLocally(r, NO_FILTERS)).toBe(true);
    expect(matchesLocally(r, { ...NO_FILTERS, states: ['new', 'assigned'], channels: ['phone'] })).toBe(true);
    expect(matchesLocally(r, { ...NO_FILTERS, states: ['assigned'] })).toBe(false);
    expect(matchesLocally(r, { ...NO_FILTERS, channels: ['chat'] })).toBe(false);
    expect(matchesLocally(r, { ...NO_FILTERS, from: '2026-11-15', to: '2026-11-15' })).toBe(true);
    expect(matchesLocally(r, { ...NO_FILTERS, from: '2026-11-16' })).toBe(false);
    expect(matchesLocally(r, { ...NO_FILTERS, to: '2026-11-14' })).toBe(false);
    expect(needsServerCheck({ ...NO_FILTERS, q: 'ann' })).toBe(true);
    expect(needsServerCheck(NO_FILTERS)).toBe(false);
  });
});

describe('merging live requests into the journal', () => {
  const t = (m: number) => new Date(Date.UTC(2026, 10, 27, 10, m)).toISOString();
  const loaded = [req('c', t(30)), req('b', t(20)), req('a', t(10))];

  it('puts new requests on top, newest first, without duplicates', () => {
    const { items, added } = mergeRequests(loaded, [req('d', t(40)), req('c', t(30)), req('e', t(50))], false);
    expect(items.map((r) => r.id)).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect(added).toEqual(['d', 'e']);
    expect(mergeRequests(loaded, [req('b', t(20))], false).items).toBe(loaded);
  });

  it('leaves requests older than the loaded window to "Load more" unless every page is loaded', () => {
    expect(mergeRequests(loaded, [req('z', t(5))], false).added).toEqual([]);
    expect(mergeRequests(loaded, [req('z', t(5))], true).items.map((r) => r.id)).toEqual(['c', 'b', 'a', 'z']);
  });

  it('orders equal times by id, descending, like the API', () => {
    expect([req('01a', t(1)), req('01b', t(1))].sort(newestFirst).map((r) => r.id)).toEqual(['01b', '01a']);
  });
});

describe('router', () => {
  it('matches patterns and decodes parameters', () => {
    expect(matchPath('/requests/:id', '/requests/0193-abc')).toEqual({ id: '0193-abc' });
    expect(matchPath('/requests/:id', '/requests/a%20b/')).toEqual({ id: 'a b' });
    expect(matchPath('/requests/:id', '/requests')).toBeNull();
    expect(matchPath('/requests/:id', '/other/1')).toBeNull();
    expect(matchPath('/requests/:id', '/requests/%E0%A4%A')).toBeNull();
    expect(matchPath('/requests', '/requests')).toEqual({});
  });
});
