/**
 * Unit tests of the workplace's pure logic (no browser): the journal's workplace filters in the URL and
 * in the API query, live matching on the working fields, the lifecycle moves the UI offers, and the
 * `datetime-local` ↔ instant conversion in the tenant's zone.
 */
import type { CrmRequest } from '../../web/src/api';
import { canMove, MOVES } from '../../web/src/features/work/api';
import { isoToLocalInput, localInputToIso } from '../../web/src/features/work/time-input';
import { filtersFromSearch, filtersToSearch, hasFilters, matchesLocally, NO_FILTERS, workQuery } from '../../web/src/filters';

const ME = '01936f5e-0000-7000-8000-00000000000a';
const OTHER = '01936f5e-0000-7000-8000-00000000000b';
const DEPT = '01936f5e-0000-7000-8000-0000000000d1';

function req(over: Partial<CrmRequest> = {}): CrmRequest {
  return {
    id: 'r1',
    state: 'assigned',
    channel: 'phone',
    axes: { number: 'primary', meaning: 'targeted', contact: 'unverified', qualification: 'pending', channel: 'phone' },
    name: 'Анна',
    phone: '+79990001122',
    email: '',
    message: '',
    attribution: { utm_source: 'Google', utm_medium: '', utm_campaign: '', utm_content: '', utm_term: '', landing_page: '', referrer: '' },
    comment_count: 0,
    contact_id: '',
    extra_fields: [],
    extra_fields_truncated: false,
    created_at: '2026-11-15T10:00:00Z',
    version: 3,
    department_id: DEPT,
    assignee_id: ME,
    project_id: null,
    routing_version: 1,
    routing_rule_id: 'phone',
    sla_due_at: '2026-11-15T10:15:00Z',
    sla_breached_at: '2026-11-15T10:15:01Z',
    first_response_at: null,
    revisit_at: null,
    trash_reason: null,
    trash_note: null,
    deal_id: null,
    client_card_id: null,
    missed: true,
    dialed_number_kind: null,
    state_changed_at: null,
    state_reason: null,
    ...over,
  };
}

describe('workplace filters', () => {
  it('reads every filter from the URL, keeps only known values and ids, and writes them back', () => {
    const f = filtersFromSearch(
      new URLSearchParams(`meaning=targeted&meaning=bogus&qualification=lead&contact_axis=verified&number_axis=repeat&assignee=me&assignee=unassigned&assignee=${OTHER}&assignee=x';drop&department=${DEPT}&utm_source=google&sla_breached=1&missed=true`),
    );
    expect(f).toMatchObject({ meanings: ['targeted'], qualifications: ['lead'], contactAxes: ['verified'], numberAxes: ['repeat'], assignees: ['me', 'unassigned', OTHER], departments: [DEPT], utmSource: 'google', slaBreached: true, missed: true });
    expect(hasFilters(f)).toBe(true);
    expect(filtersFromSearch(new URLSearchParams(filtersToSearch(f).slice(1)))).toEqual(f);
    expect(hasFilters({ ...NO_FILTERS, missed: true })).toBe(true);
    expect(hasFilters({ ...NO_FILTERS, utmSource: '  ' })).toBe(false);
  });

  it('sends the API repeated parameters, booleans as true, dates as instants, and the page', () => {
    const q = workQuery({ ...NO_FILTERS, states: ['new'], assignees: ['me', OTHER], slaBreached: true, from: '2026-11-01' }, 'Europe/Moscow', { limit: 25, cursor: 'abc', order: 'my_work' });
    expect(q.getAll('assignee')).toEqual(['me', OTHER]);
    expect(q.get('sla_breached')).toBe('true');
    expect(q.get('missed')).toBeNull();
    expect(q.get('created_from')).toBe('2026-10-31T21:00:00.000Z');
    expect(q.get('order')).toBe('my_work');
    expect(q.get('limit')).toBe('25');
    expect(q.get('cursor')).toBe('abc');
    // The counters take the same filter without the state.
    expect(workQuery({ ...NO_FILTERS, states: ['new'] }, '', { withStates: false }).getAll('state')).toEqual([]);
  });

  it('matches a live request on the working fields (me, unassigned, department, axes, SLA, missed, source in any case)', () => {
    const r = req();
    expect(matchesLocally(r, { ...NO_FILTERS, assignees: ['me'] }, '', ME)).toBe(true);
    expect(matchesLocally(r, { ...NO_FILTERS, assignees: ['me'] }, '', OTHER)).toBe(false);
    expect(matchesLocally(r, { ...NO_FILTERS, assignees: ['unassigned'] }, '', ME)).toBe(false);
    expect(matchesLocally(req({ assignee_id: null }), { ...NO_FILTERS, assignees: ['unassigned'] }, '', ME)).toBe(true);
    expect(matchesLocally(r, { ...NO_FILTERS, departments: [DEPT] })).toBe(true);
    expect(matchesLocally(req({ department_id: null }), { ...NO_FILTERS, departments: [DEPT] })).toBe(false);
    expect(matchesLocally(r, { ...NO_FILTERS, meanings: ['non_targeted'] })).toBe(false);
    expect(matchesLocally(r, { ...NO_FILTERS, slaBreached: true, missed: true, utmSource: 'google' })).toBe(true);
    expect(matchesLocally(req({ sla_breached_at: null }), { ...NO_FILTERS, slaBreached: true })).toBe(false);
    expect(matchesLocally(req({ missed: false }), { ...NO_FILTERS, missed: true })).toBe(false);
  });
});

describe('the lifecycle the UI offers', () => {
  it('offers only the moves the state machine allows', () => {
    expect(canMove('new', 'trash')).toBe(true);
    expect(canMove('in_progress', 'new')).toBe(false);
    expect(canMove('deferred', 'new')).toBe(true);
    expect(canMove('deferred', 'trash')).toBe(false);
    for (const terminal of ['closed', 'converted', 'attached']) expect(MOVES[terminal]).toEqual([]);
  });
});

describe('datetime-local in the tenant zone', () => {
  it('reads a wall-clock time as an instant of the zone and back', () => {
    expect(localInputToIso('2026-12-02T15:00', 'Europe/Moscow')).toBe('2026-12-02T12:00:00.000Z');
    expect(localInputToIso('2026-07-01T15:00', 'America/New_York')).toBe('2026-07-01T19:00:00.000Z');
    expect(isoToLocalInput('2026-12-02T12:00:00Z', 'Europe/Moscow')).toBe('2026-12-02T15:00');
    expect(localInputToIso('tomorrow', 'Europe/Moscow')).toBe('');
    expect(isoToLocalInput('nope', 'UTC')).toBe('');
  });
});
