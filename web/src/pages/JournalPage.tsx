/**
 * The request journal as a workplace: newest first, filtered (state, the axes, channel, department,
 * employee incl. "me" and "unassigned", project, source, dates, SLA breached, missed, text — all in the
 * query string, so a view is a link), counters per state as tabs, saved views per user, row actions
 * that follow the state machine, checkbox selection with bulk assign / trash (per-item results), SLA
 * badges, paged with the API's cursor ("Load more"), and live: requests created or changed while it is
 * open appear, move or leave (the server decides what the viewer may see).
 */
import { useCallback, useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import { CHANNELS, STATES, type Me } from '../api';
import { ErrorMessage } from '../components/ErrorMessage';
import { MultiSelect } from '../components/MultiSelect';
import { BulkBar, RowActions } from '../features/work/journal-actions';
import { SavedViews } from '../features/work/SavedViews';
import { SlaBadge } from '../features/work/SlaBadge';
import { departmentName, userName, workApi, type Counts, type WorkRequest } from '../features/work/api';
import { useDirectory } from '../features/work/hooks';
import {
  CONTACT_AXIS_VALUES,
  filtersFromSearch,
  filtersToSearch,
  hasFilters,
  matchesLocally,
  MEANING_VALUES,
  needsServerCheck,
  NO_FILTERS,
  NUMBER_AXIS_VALUES,
  QUALIFICATION_VALUES,
  workQuery,
  type JournalFilters,
} from '../filters';
import { useI18n } from '../i18n';
import { useLiveEvents, useLiveStatus } from '../live';
import { mergeRequests } from '../requests';
import { isPlainClick, Link, navigate, useLocation } from '../router';

const PAGE_SIZE = 25;
const SEARCH_DEBOUNCE_MS = 300;
const FRESH_MS = 4_000;
const COUNTS_DEBOUNCE_MS = 500;

interface List {
  status: 'loading' | 'ready' | 'error';
  items: WorkRequest[];
  cursor: string | null;
  error?: unknown;
  loadingMore: boolean;
  moreError?: unknown;
}

export function JournalPage({ me }: { me?: Me }) {
  const { t, tEnum, formatDateTime, timeZone } = useI18n();
  const location = useLocation();
  const filters = useMemo(() => filtersFromSearch(new URLSearchParams(location.query)), [location.query]);
  const filtersKey = filtersToSearch(filters);
  const meId = me?.subject_id ?? '';
  // Row actions and bulk actions only for a credential that may change requests.
  const canWrite = me?.scopes.includes('requests:write') ?? false;
  const directory = useDirectory();
  const [list, setList] = useState<List>({ status: 'loading', items: [], cursor: null, loadingMore: false });
  // The latest list, for event handlers that must decide from it before React re-renders.
  const listRef = useRef(list);
  const update = useCallback((next: (l: List) => List) => {
    listRef.current = next(listRef.current);
    setList(listRef.current);
  }, []);
  const [fresh, setFresh] = useState<ReadonlySet<string>>(new Set());
  const [announcement, setAnnouncement] = useState('');
  const [reload, setReload] = useState(0);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [counts, setCounts] = useState<Counts | null>(null);
  const [countsTick, setCountsTick] = useState(0);
  const live = useLiveStatus();

  // Requests pushed live while the first page is loading: merged into it when it arrives.
  const pendingLive = useRef<WorkRequest[]>([]);
  // Bumped when the filters change, so answers to calls made for the old filters are dropped.
  const generation = useRef(0);

  const setFilters = useCallback((next: JournalFilters) => navigate(`/requests${filtersToSearch(next)}`, { replace: true }), []);

  // The search box is debounced into the URL.
  const [qInput, setQInput] = useState(filters.q);
  useEffect(() => {
    if (qInput.trim() === filters.q) return;
    const timer = setTimeout(() => setFilters({ ...filters, q: qInput }), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [qInput, filters, setFilters]);
  // ...and follows the URL when it changes otherwise (reset, back/forward).
  const lastUrlQ = useRef(filters.q);
  useEffect(() => {
    if (lastUrlQ.current !== filters.q && qInput.trim() !== filters.q) setQInput(filters.q);
    lastUrlQ.current = filters.q;
  }, [filters.q, qInput]);
  // The source field likewise.
  const [utmInput, setUtmInput] = useState(filters.utmSource);
  useEffect(() => {
    if (utmInput.trim() === filters.utmSource) return;
    const timer = setTimeout(() => setFilters({ ...filters, utmSource: utmInput }), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [utmInput, filters, setFilters]);

  const query = useCallback((cursor?: string | null) => workQuery(filters, timeZone, { limit: PAGE_SIZE, cursor, order: 'created_desc' }), [filters, timeZone]);

  // The first page, again whenever the filters change.
  useEffect(() => {
    const ctl = new AbortController();
    generation.current += 1;
    pendingLive.current = [];
    setSelected(new Set());
    update((l) => ({ ...l, status: 'loading', error: undefined, moreError: undefined }));
    workApi.listRequests(query(), ctl.signal).then(
      (page) => {
        const merged = mergeRequests(page.items, pendingLive.current, true);
        pendingLive.current = [];
        update(() => ({ status: 'ready', items: merged.items as WorkRequest[], cursor: page.next_cursor, loadingMore: false }));
      },
      (error: unknown) => {
        if (!ctl.signal.aborted) update(() => ({ status: 'error', items: [], cursor: null, error, loadingMore: false }));
      },
    );
    return () => ctl.abort();
    // `filters` is derived from the query string: filtersKey changes exactly when it does.
  }, [filtersKey, reload, timeZone]);

  // Counters per state for the same filter (without the state itself): the tabs.
  useEffect(() => {
    const ctl = new AbortController();
    const timer = setTimeout(
      () =>
        workApi.counts(workQuery(filters, timeZone, { withStates: false }), ctl.signal).then(
          (c) => setCounts(c),
          () => !ctl.signal.aborted && setCounts(null),
        ),
      countsTick ? COUNTS_DEBOUNCE_MS : 0,
    );
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
  }, [filtersKey, timeZone, countsTick, reload]);

  const addOnTop = useCallback(
    (incoming: WorkRequest[]) => {
      const l = listRef.current;
      if (l.status === 'loading') {
        pendingLive.current.push(...incoming);
        return;
      }
      if (l.status !== 'ready') return;
      const merged = mergeRequests(l.items, incoming, l.cursor === null);
      if (!merged.added.length) return;
      update((cur) => ({ ...cur, items: merged.items as WorkRequest[] }));
      // New rows are highlighted for a few seconds and announced to screen readers.
      setFresh((f) => new Set([...f, ...merged.added]));
      setTimeout(() => setFresh((f) => new Set([...f].filter((id) => !merged.added.includes(id)))), FRESH_MS);
      const first = incoming.find((r) => r.id === merged.added[0]);
      setAnnouncement(t('journal.newArrived', { name: first?.name || first?.phone || first?.email || t('journal.noName') }));
    },
    [t, update],
  );

  // Asks the API for the first page again and adds what is missing (after a reconnect, or to let the
  // server decide whether a new request matches the text search).
  const refreshTop = useCallback(() => {
    const gen = generation.current;
    workApi.listRequests(query()).then(
      (page) => gen === generation.current && addOnTop(page.items),
      () => undefined, // The next event or a reload will catch up.
    );
  }, [query, addOnTop]);

  /** A changed request: replaced in place, dropped when it no longer matches, added when it now does. */
  const applyChange = useCallback(
    (r: WorkRequest) => {
      const l = listRef.current;
      const known = l.items.find((x) => x.id === r.id);
      if (known && (known.version ?? 0) > (r.version ?? 0)) return;
      const matches = matchesLocally(r, filters, timeZone, meId);
      if (known) {
        update((cur) => ({ ...cur, items: matches ? cur.items.map((x) => (x.id === r.id ? { ...x, ...r } : x)) : cur.items.filter((x) => x.id !== r.id) }));
        if (!matches) setSelected((s) => new Set([...s].filter((id) => id !== r.id)));
      } else if (matches) {
        if (needsServerCheck(filters)) refreshTop();
        else addOnTop([r]);
      }
    },
    [filters, timeZone, meId, update, addOnTop, refreshTop],
  );

  useLiveEvents((e) => {
    if (e.type === 'request.created') {
      setCountsTick((n) => n + 1);
      const r = e.request as WorkRequest;
      if (!matchesLocally(r, filters, timeZone, meId)) return;
      if (needsServerCheck(filters)) refreshTop();
      else addOnTop([r]);
    } else if (e.type === 'request.updated') {
      setCountsTick((n) => n + 1);
      applyChange(e.request as WorkRequest);
    } else if (e.type === 'request.commented') {
      const id = e.comment.request_id;
      update((l) => (l.items.some((r) => r.id === id) ? { ...l, items: l.items.map((r) => (r.id === id ? { ...r, comment_count: r.comment_count + 1 } : r)) } : l));
    } else if (e.type === 'resync') {
      setCountsTick((n) => n + 1);
      refreshTop();
    }
  });

  const loadMore = () => {
    if (!list.cursor || list.loadingMore) return;
    const cursor = list.cursor;
    const gen = generation.current;
    update((l) => ({ ...l, loadingMore: true, moreError: undefined }));
    workApi.listRequests(query(cursor)).then(
      (page) =>
        gen === generation.current &&
        update((l) => {
          const known = new Set(l.items.map((r) => r.id));
          return { ...l, items: [...l.items, ...page.items.filter((r) => !known.has(r.id))], cursor: page.next_cursor, loadingMore: false };
        }),
      (moreError: unknown) => gen === generation.current && update((l) => ({ ...l, loadingMore: false, moreError })),
    );
  };

  const openRow = (e: MouseEvent, id: string) => {
    // A click on the row's link is handled by the link; a text selection is not a click to open.
    if (!isPlainClick(e) || window.getSelection()?.toString()) return;
    navigate(`/requests/${id}`);
  };

  const changed = (r: WorkRequest) => {
    applyChange(r);
    setCountsTick((n) => n + 1);
  };

  const filtered = hasFilters(filters);
  const options = (kind: 'state' | 'channel' | 'meaning' | 'qualification' | 'contact' | 'number', values: readonly string[]) => values.map((v) => ({ value: v, label: tEnum(kind, v) }));
  const assigneeOptions = [
    { value: 'me', label: t('work.filter.me') },
    { value: 'unassigned', label: t('work.filter.unassigned') },
    ...directory.users.map((u) => ({ value: u.id, label: u.display_name || u.email })),
  ];
  const departmentOptions = directory.departments.map((d) => ({ value: d.id, label: d.name }));
  const projectOptions = directory.projects.map((p) => ({ value: p.id, label: p.name }));
  const countOf = (state: (typeof STATES)[number]) => counts?.by_state?.[state] ?? 0;
  const activeTab = filters.states.length === 1 ? filters.states[0] : filters.states.length === 0 ? '' : null;
  const allSelected = list.items.length > 0 && list.items.every((r) => selected.has(r.id));

  return (
    <section className="journal" data-testid="journal">
      <div className="page-head">
        <h1>{t('journal.title')}</h1>
        <span className={`live live-${live}`} data-testid="live-status" data-status={live}>
          <span aria-hidden="true" className="live-dot" />
          {t(`journal.live.${live}`)}
        </span>
      </div>

      <SavedViews query={filtersKey.replace(/^\?/, '')} onPick={(q) => navigate(`/requests${q ? `?${q}` : ''}`, { replace: true })} />

      <div className="tabs" role="tablist" aria-label={t('work.tabs')} data-testid="state-tabs">
        <button type="button" role="tab" aria-selected={activeTab === ''} className="tab" data-testid="tab-all" onClick={() => setFilters({ ...filters, states: [] })}>
          {t('journal.all')} <span className="count">{counts?.total ?? '…'}</span>
        </button>
        {STATES.map((s) => (
          <button key={s} type="button" role="tab" aria-selected={activeTab === s} className="tab" data-testid={`tab-${s}`} data-count={countOf(s)} onClick={() => setFilters({ ...filters, states: [s] })}>
            {tEnum('state', s)} <span className="count">{counts ? countOf(s) : '…'}</span>
          </button>
        ))}
        {/* Missed calls (open until a callback succeeds): the same as the "missed" filter, one click away. */}
        <button type="button" role="tab" aria-selected={filters.missed} className="tab" data-testid="tab-missed" onClick={() => setFilters({ ...filters, missed: !filters.missed })}>
          {t('telephony.missed.title')}
        </button>
      </div>

      <form className="filters" role="search" aria-label={t('journal.filters')} onSubmit={(e) => e.preventDefault()}>
        <MultiSelect label={t('journal.state')} options={options('state', STATES)} selected={filters.states} onChange={(states) => setFilters({ ...filters, states })} testId="filter-state" />
        <MultiSelect label={t('journal.channel')} options={options('channel', CHANNELS)} selected={filters.channels} onChange={(channels) => setFilters({ ...filters, channels })} testId="filter-channel" />
        <MultiSelect label={t('axis.meaning')} options={options('meaning', MEANING_VALUES)} selected={filters.meanings} onChange={(meanings) => setFilters({ ...filters, meanings })} testId="filter-meaning" />
        <MultiSelect
          label={t('axis.qualification')}
          options={options('qualification', QUALIFICATION_VALUES)}
          selected={filters.qualifications}
          onChange={(qualifications) => setFilters({ ...filters, qualifications })}
          testId="filter-qualification"
        />
        <MultiSelect label={t('axis.contact')} options={options('contact', CONTACT_AXIS_VALUES)} selected={filters.contactAxes} onChange={(contactAxes) => setFilters({ ...filters, contactAxes })} testId="filter-contact-axis" />
        <MultiSelect label={t('axis.number')} options={options('number', NUMBER_AXIS_VALUES)} selected={filters.numberAxes} onChange={(numberAxes) => setFilters({ ...filters, numberAxes })} testId="filter-number-axis" />
        <MultiSelect label={t('work.filter.assignee')} options={assigneeOptions} selected={filters.assignees} onChange={(assignees) => setFilters({ ...filters, assignees })} testId="filter-assignee" />
        {departmentOptions.length > 0 && (
          <MultiSelect label={t('work.department')} options={departmentOptions} selected={filters.departments} onChange={(departments) => setFilters({ ...filters, departments })} testId="filter-department" />
        )}
        {projectOptions.length > 0 && (
          <MultiSelect label={t('work.filter.project')} options={projectOptions} selected={filters.projects} onChange={(projects) => setFilters({ ...filters, projects })} testId="filter-project" />
        )}
        <label className="filter-field">
          <span>{t('work.filter.source')}</span>
          <input type="text" value={utmInput} maxLength={200} data-testid="filter-source" onChange={(e) => setUtmInput(e.target.value)} />
        </label>
        <label className="check filter-check">
          <input type="checkbox" checked={filters.slaBreached} data-testid="filter-sla-breached" onChange={(e) => setFilters({ ...filters, slaBreached: e.target.checked })} />
          {t('work.filter.slaBreached')}
        </label>
        <label className="check filter-check">
          <input type="checkbox" checked={filters.missed} data-testid="filter-missed" onChange={(e) => setFilters({ ...filters, missed: e.target.checked })} />
          {t('work.filter.missed')}
        </label>
        <label className="filter-field">
          <span>{t('journal.from')}</span>
          <input type="date" value={filters.from} max={filters.to || undefined} data-testid="filter-from" onChange={(e) => setFilters({ ...filters, from: e.target.value })} />
        </label>
        <label className="filter-field">
          <span>{t('journal.to')}</span>
          <input type="date" value={filters.to} min={filters.from || undefined} data-testid="filter-to" onChange={(e) => setFilters({ ...filters, to: e.target.value })} />
        </label>
        <label className="filter-field filter-search">
          <span>{t('journal.search')}</span>
          <input type="search" value={qInput} maxLength={200} placeholder={t('journal.searchPlaceholder')} data-testid="filter-q" onChange={(e) => setQInput(e.target.value)} />
        </label>
        {filtered && (
          <button
            type="button"
            className="button-secondary"
            data-testid="filter-reset"
            onClick={() => {
              setQInput('');
              setUtmInput('');
              setFilters(NO_FILTERS);
            }}
          >
            {t('journal.reset')}
          </button>
        )}
      </form>

      <p className="visually-hidden" aria-live="polite">
        {announcement}
      </p>

      {selected.size > 0 && (
        <BulkBar
          ids={[...selected]}
          users={directory.users}
          onDone={(results) => {
            for (const r of results) if (r.ok && r.request) changed(r.request);
            setSelected(new Set(results.filter((r) => !r.ok).map((r) => r.id)));
          }}
          onClear={() => setSelected(new Set())}
        />
      )}

      {list.status === 'error' ? (
        <ErrorMessage error={list.error} onRetry={() => setReload((n) => n + 1)} testId="journal-error" />
      ) : (
        <div className="table-wrap" aria-busy={list.status === 'loading'}>
          <table className="table" data-testid="journal-table">
            <caption className="visually-hidden">{t('journal.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('journal.col.created')}</th>
                <th scope="col">{t('journal.col.channel')}</th>
                <th scope="col">{t('journal.col.name')}</th>
                <th scope="col">{t('journal.col.phone')}</th>
                <th scope="col">{t('journal.col.email')}</th>
                <th scope="col">{t('journal.col.state')}</th>
                <th scope="col">{t('journal.col.number')}</th>
                <th scope="col">{t('journal.col.utmSource')}</th>
                <th scope="col" className="num">
                  {t('journal.col.comments')}
                </th>
                <th scope="col">{t('work.assignee')}</th>
                {canWrite && <th scope="col">{t('work.col.actions')}</th>}
                {canWrite && (
                  <th scope="col">
                    <input
                      type="checkbox"
                      aria-label={t('work.selectAll')}
                      checked={allSelected}
                      data-testid="select-all"
                      onChange={(e) => setSelected(e.target.checked ? new Set(list.items.map((r) => r.id)) : new Set())}
                    />
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {list.items.map((r) => (
                <tr
                  key={r.id}
                  className={`row-link${fresh.has(r.id) ? ' row-fresh' : ''}${r.sla_breached_at ? ' row-breached' : ''}`}
                  data-testid="request-row"
                  data-id={r.id}
                  data-state={r.state}
                  data-version={r.version}
                  onClick={(e) => openRow(e, r.id)}
                >
                  <td data-label={t('journal.col.created')} className="nowrap">
                    <time dateTime={r.created_at} title={formatDateTime(r.created_at)}>
                      {formatDateTime(r.created_at, 'short')}
                    </time>
                  </td>
                  <td data-label={t('journal.col.channel')} className="nowrap">
                    {tEnum('channel', r.channel)}
                    {r.missed && (
                      <span className="badge missed" data-testid="missed-badge">
                        {' '}
                        {t('work.missed')}
                      </span>
                    )}
                  </td>
                  <td data-label={t('journal.col.name')} className="cell-name">
                    <Link to={`/requests/${r.id}`} className={r.name ? undefined : 'muted'}>
                      {r.name || t('journal.noName')}
                    </Link>
                  </td>
                  <td data-label={t('journal.col.phone')} className="nowrap">
                    {r.phone || <span className="muted">{t('empty')}</span>}
                  </td>
                  <td data-label={t('journal.col.email')} className="cell-email">
                    {r.email || <span className="muted">{t('empty')}</span>}
                  </td>
                  <td data-label={t('journal.col.state')}>
                    <span className={`badge state state-${r.state}`}>{tEnum('state', r.state)}</span>
                    <SlaBadge request={r} />
                  </td>
                  <td data-label={t('journal.col.number')}>
                    <span className={`badge number-${r.axes.number}`} data-testid="number-badge">
                      {tEnum('number', r.axes.number)}
                    </span>
                  </td>
                  <td data-label={t('journal.col.utmSource')}>{r.attribution.utm_source || <span className="muted">{t('empty')}</span>}</td>
                  <td data-label={t('journal.col.comments')} className="num" data-testid="comment-count">
                    {r.comment_count}
                  </td>
                  <td data-label={t('work.assignee')} data-testid="assignee-cell">
                    {r.assignee_id ? (r.assignee_id === meId ? t('work.me') : userName(directory.users, r.assignee_id)) : <span className="muted">{departmentName(directory.departments, r.department_id) || t('empty')}</span>}
                  </td>
                  {canWrite && (
                    <td data-label={t('work.col.actions')} onClick={(e) => e.stopPropagation()}>
                      <RowActions request={r} meId={meId} onChanged={changed} canConvert={me?.scopes.includes('deals:write') ?? false} />
                    </td>
                  )}
                  {canWrite && (
                    <td onClick={(e) => e.stopPropagation()}>
                      <input
                        type="checkbox"
                        aria-label={t('work.selectRow', { name: r.name || r.phone || r.email || t('journal.noName') })}
                        checked={selected.has(r.id)}
                        data-testid="row-select"
                        onChange={(e) => setSelected((s) => (e.target.checked ? new Set([...s, r.id]) : new Set([...s].filter((x) => x !== r.id))))}
                      />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          {list.status === 'loading' && (
            <p className="page-status" role="status">
              {t('journal.loading')}
            </p>
          )}
          {list.status === 'ready' && list.items.length === 0 && (
            <p className="page-status" data-testid="journal-empty">
              {filtered ? t('journal.emptyFiltered') : t('journal.empty')}
            </p>
          )}
        </div>
      )}

      {list.status === 'ready' && (
        <div className="journal-foot">
          <span className="muted" data-testid="journal-count">
            {t('journal.shown', { n: list.items.length })}
          </span>
          {list.moreError !== undefined && <ErrorMessage error={list.moreError} />}
          {list.cursor && (
            <button type="button" className="button-secondary" onClick={loadMore} disabled={list.loadingMore} data-testid="load-more">
              {list.loadingMore ? t('app.loading') : t('journal.loadMore')}
            </button>
          )}
        </div>
      )}
    </section>
  );
}
