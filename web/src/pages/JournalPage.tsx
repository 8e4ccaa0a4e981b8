/**
 * The request journal: newest first, filtered (state, channel, dates, text), paged with the API's
 * cursor ("Load more"), and live: requests created while it is open appear at the top and comment
 * counts follow, through the Server-Sent Events feed.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import { api, CHANNELS, STATES, type CrmRequest } from '../api';
import { ErrorMessage } from '../components/ErrorMessage';
import { MultiSelect } from '../components/MultiSelect';
import { filtersFromSearch, filtersToSearch, hasFilters, matchesLocally, needsServerCheck, NO_FILTERS, toApiFilters, type JournalFilters } from '../filters';
import { useI18n } from '../i18n';
import { useLiveEvents, useLiveStatus } from '../live';
import { mergeRequests } from '../requests';
import { isPlainClick, Link, navigate, useLocation } from '../router';

const PAGE_SIZE = 25;
const SEARCH_DEBOUNCE_MS = 300;
const FRESH_MS = 4_000;

interface List {
  status: 'loading' | 'ready' | 'error';
  items: CrmRequest[];
  cursor: string | null;
  error?: unknown;
  loadingMore: boolean;
  moreError?: unknown;
}

export function JournalPage() {
  const { t, tEnum, formatDateTime, timeZone } = useI18n();
  const location = useLocation();
  const filters = useMemo(() => filtersFromSearch(new URLSearchParams(location.query)), [location.query]);
  const filtersKey = filtersToSearch(filters);
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
  const live = useLiveStatus();

  // Requests pushed live while the first page is loading: merged into it when it arrives.
  const pendingLive = useRef<CrmRequest[]>([]);
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

  // The first page, again whenever the filters change.
  useEffect(() => {
    const ctl = new AbortController();
    generation.current += 1;
    pendingLive.current = [];
    update((l) => ({ ...l, status: 'loading', error: undefined, moreError: undefined }));
    api.listRequests(toApiFilters(filters, timeZone), PAGE_SIZE, null, ctl.signal).then(
      (page) => {
        const merged = mergeRequests(page.items, pendingLive.current, true);
        pendingLive.current = [];
        update(() => ({ status: 'ready', items: merged.items, cursor: page.next_cursor, loadingMore: false }));
      },
      (error: unknown) => {
        if (!ctl.signal.aborted) update(() => ({ status: 'error', items: [], cursor: null, error, loadingMore: false }));
      },
    );
    return () => ctl.abort();
    // `filters` is derived from the query string: filtersKey changes exactly when it does.
  }, [filtersKey, reload, timeZone]);

  const addOnTop = useCallback(
    (incoming: CrmRequest[]) => {
      const l = listRef.current;
      if (l.status === 'loading') {
        pendingLive.current.push(...incoming);
        return;
      }
      if (l.status !== 'ready') return;
      const merged = mergeRequests(l.items, incoming, l.cursor === null);
      if (!merged.added.length) return;
      update((cur) => ({ ...cur, items: merged.items }));
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
    api.listRequests(toApiFilters(filters, timeZone), PAGE_SIZE).then(
      (page) => gen === generation.current && addOnTop(page.items),
      () => undefined, // The next event or a reload will catch up.
    );
  }, [filters, addOnTop, timeZone]);

  useLiveEvents((e) => {
    if (e.type === 'request.created') {
      if (!matchesLocally(e.request, filters, timeZone)) return;
      if (needsServerCheck(filters)) refreshTop();
      else addOnTop([e.request]);
    } else if (e.type === 'request.commented') {
      const id = e.comment.request_id;
      update((l) => (l.items.some((r) => r.id === id) ? { ...l, items: l.items.map((r) => (r.id === id ? { ...r, comment_count: r.comment_count + 1 } : r)) } : l));
    } else if (e.type === 'resync') {
      refreshTop();
    }
  });

  const loadMore = () => {
    if (!list.cursor || list.loadingMore) return;
    const cursor = list.cursor;
    const gen = generation.current;
    update((l) => ({ ...l, loadingMore: true, moreError: undefined }));
    api.listRequests(toApiFilters(filters, timeZone), PAGE_SIZE, cursor).then(
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

  const filtered = hasFilters(filters);
  const stateOptions = STATES.map((s) => ({ value: s, label: tEnum('state', s) }));
  const channelOptions = CHANNELS.map((c) => ({ value: c, label: tEnum('channel', c) }));

  return (
    <section className="journal" data-testid="journal">
      <div className="page-head">
        <h1>{t('journal.title')}</h1>
        <span className={`live live-${live}`} data-testid="live-status" data-status={live}>
          <span aria-hidden="true" className="live-dot" />
          {t(`journal.live.${live}`)}
        </span>
      </div>

      <form className="filters" role="search" aria-label={t('journal.filters')} onSubmit={(e) => e.preventDefault()}>
        <MultiSelect label={t('journal.state')} options={stateOptions} selected={filters.states} onChange={(states) => setFilters({ ...filters, states })} testId="filter-state" />
        <MultiSelect label={t('journal.channel')} options={channelOptions} selected={filters.channels} onChange={(channels) => setFilters({ ...filters, channels })} testId="filter-channel" />
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
              </tr>
            </thead>
            <tbody>
              {list.items.map((r) => (
                <tr
                  key={r.id}
                  className={`row-link${fresh.has(r.id) ? ' row-fresh' : ''}`}
                  data-testid="request-row"
                  data-id={r.id}
                  onClick={(e) => openRow(e, r.id)}
                >
                  <td data-label={t('journal.col.created')} className="nowrap">
                    <time dateTime={r.created_at} title={formatDateTime(r.created_at)}>
                      {formatDateTime(r.created_at, 'short')}
                    </time>
                  </td>
                  <td data-label={t('journal.col.channel')} className="nowrap">
                    {tEnum('channel', r.channel)}
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
