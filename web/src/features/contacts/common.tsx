/**
 * What the contacts pages share: the section's tabs, a cursor-paged list hook ("Load more"), the
 * debounced search box kept in the URL, a point's label and a small toast.
 */
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { ErrorMessage } from '../../components/ErrorMessage';
import { useI18n, type MessageKey } from '../../i18n';
import { Link, useLocation } from '../../router';
import type { ContactPoint, Paged } from './api';
import { pointText } from './format';

export { pointText };

const TABS: { to: string; label: MessageKey; testId: string }[] = [
  { to: '/contacts', label: 'contacts.nav.contacts', testId: 'tab-contacts' },
  { to: '/companies', label: 'contacts.nav.companies', testId: 'tab-companies' },
  { to: '/duplicates', label: 'contacts.nav.duplicates', testId: 'tab-duplicates' },
  { to: '/bases', label: 'contacts.nav.bases', testId: 'tab-bases' },
  { to: '/imports', label: 'contacts.nav.import', testId: 'tab-import' },
];

/** The tabs of the contacts section, above each of its list pages. */
export function SectionTabs() {
  const { t } = useI18n();
  const { path } = useLocation();
  return (
    <nav className="tabs" aria-label={t('contacts.nav.label')}>
      {TABS.map((tab) => (
        <Link key={tab.to} to={tab.to} aria-current={path === tab.to || path.startsWith(`${tab.to}/`) ? 'page' : undefined} data-testid={tab.testId}>
          {t(tab.label)}
        </Link>
      ))}
    </nav>
  );
}

export interface PagedList<T> {
  status: 'loading' | 'ready' | 'error';
  items: T[];
  cursor: string | null;
  error?: unknown;
  loadingMore: boolean;
  moreError?: unknown;
  loadMore: () => void;
  reload: () => void;
  /** Replaces the loaded items (e.g. after a change made on the page). */
  setItems: (update: (items: T[]) => T[]) => void;
}

/** The first page of `fetchPage` whenever `key` changes, and the next ones on `loadMore()`. */
export function usePaged<T>(fetchPage: (cursor: string | null, signal?: AbortSignal) => Promise<Paged<T>>, key: string): PagedList<T> {
  const [state, setState] = useState<Omit<PagedList<T>, 'loadMore' | 'reload' | 'setItems'>>({ status: 'loading', items: [], cursor: null, loadingMore: false });
  const [reloads, setReloads] = useState(0);
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;
  const generation = useRef(0);

  useEffect(() => {
    const ctl = new AbortController();
    const gen = ++generation.current;
    setState((s) => ({ ...s, status: 'loading', error: undefined, moreError: undefined }));
    fetchRef.current(null, ctl.signal).then(
      (page) => gen === generation.current && setState({ status: 'ready', items: page.items, cursor: page.next_cursor, loadingMore: false }),
      (error: unknown) => !ctl.signal.aborted && setState({ status: 'error', items: [], cursor: null, error, loadingMore: false }),
    );
    return () => ctl.abort();
  }, [key, reloads]);

  const loadMore = useCallback(() => {
    setState((s) => {
      if (!s.cursor || s.loadingMore) return s;
      const gen = generation.current;
      fetchRef.current(s.cursor).then(
        (page) =>
          gen === generation.current &&
          setState((cur) => {
            const known = new Set(cur.items.map((i) => (i as { id?: string }).id));
            return { ...cur, items: [...cur.items, ...page.items.filter((i) => !known.has((i as { id?: string }).id))], cursor: page.next_cursor, loadingMore: false };
          }),
        (moreError: unknown) => gen === generation.current && setState((cur) => ({ ...cur, loadingMore: false, moreError })),
      );
      return { ...s, loadingMore: true, moreError: undefined };
    });
  }, []);

  const reload = useCallback(() => setReloads((n) => n + 1), []);
  const setItems = useCallback((update: (items: T[]) => T[]) => setState((s) => ({ ...s, items: update(s.items) })), []);
  return { ...state, loadMore, reload, setItems };
}

/** Status line, errors and "Load more" under a paged list. */
export function ListFoot<T>({ list, empty, testId }: { list: PagedList<T>; empty: string; testId: string }) {
  const { t } = useI18n();
  if (list.status === 'error') return <ErrorMessage error={list.error} onRetry={list.reload} testId={`${testId}-error`} />;
  return (
    <div className="journal-foot">
      {list.status === 'loading' && (
        <span className="page-status" role="status">
          {t('app.loading')}
        </span>
      )}
      {list.status === 'ready' && list.items.length === 0 && (
        <span className="muted" data-testid={`${testId}-empty`}>
          {empty}
        </span>
      )}
      {list.status === 'ready' && list.items.length > 0 && (
        <span className="muted" data-testid={`${testId}-count`}>
          {t('journal.shown', { n: list.items.length })}
        </span>
      )}
      {list.moreError !== undefined && <ErrorMessage error={list.moreError} />}
      {list.cursor && list.status === 'ready' && (
        <button type="button" className="button-secondary" onClick={list.loadMore} disabled={list.loadingMore} data-testid={`${testId}-more`}>
          {list.loadingMore ? t('app.loading') : t('journal.loadMore')}
        </button>
      )}
    </div>
  );
}

/** A search box whose value is debounced into `onSearch` (300 ms). */
export function SearchBox({ value, onSearch, label, placeholder, testId }: { value: string; onSearch: (q: string) => void; label: string; placeholder: string; testId: string }) {
  const [input, setInput] = useState(value);
  const last = useRef(value);
  useEffect(() => {
    if (value !== last.current) {
      last.current = value;
      setInput(value);
    }
  }, [value]);
  useEffect(() => {
    if (input.trim() === value) return;
    const timer = setTimeout(() => {
      last.current = input.trim();
      onSearch(input.trim());
    }, 300);
    return () => clearTimeout(timer);
  }, [input, value, onSearch]);
  return (
    <label className="filter-field filter-search">
      <span>{label}</span>
      <input type="search" value={input} maxLength={200} placeholder={placeholder} data-testid={testId} onChange={(e) => setInput(e.target.value)} />
    </label>
  );
}

export function PointLabel({ point }: { point: ContactPoint }) {
  const { tEnumContacts } = useContactsI18n();
  const text = pointText(point);
  if (point.type === 'phone') return <a href={`tel:${point.value}`}>{text}</a>;
  if (point.type === 'email')
    return (
      <a href={`mailto:${point.value}`} className="break">
        {text}
      </a>
    );
  return (
    <span className="break">
      <span className="muted">{tEnumContacts('network', point.network ?? '')}:</span> {text}
    </span>
  );
}

export function VerificationBadge({ verification }: { verification: string }) {
  const { tEnumContacts } = useContactsI18n();
  return (
    <span className={`badge verification-${verification}`} data-testid="verification-badge" data-verification={verification}>
      {tEnumContacts('verification', verification)}
    </span>
  );
}

export type ContactsEnumKind = 'verification' | 'pointType' | 'provenance' | 'cardState' | 'cardKind' | 'network' | 'importStatus' | 'importField' | 'timeline' | 'historyField' | 'base' | 'duplicateReason';

/** Labels of the contacts enums; an unknown value is shown as it is. */
export function useContactsI18n() {
  const i18n = useI18n();
  const tEnumContacts = useCallback(
    (kind: ContactsEnumKind, value: string) => {
      const key = `contacts.${kind}.${value}` as MessageKey;
      const text = i18n.t(key);
      return text === key ? value : text;
    },
    [i18n],
  );
  return { ...i18n, tEnumContacts };
}

/** A short message at the bottom of the screen, with an optional action (e.g. "Undo"). */
export function Toast({ children, onClose }: { children: ReactNode; onClose: () => void }) {
  const { t } = useI18n();
  return (
    <div className="toast" role="status" data-testid="toast">
      <div className="toast-body">{children}</div>
      <button type="button" className="button-secondary" onClick={onClose} aria-label={t('contacts.toast.close')}>
        ×
      </button>
    </div>
  );
}

/**
 * A text field's value kept as a draft in sessionStorage under `crm.draft.<key>`, so a reload does not
 * lose what was typed; `clear()` forgets it (after a successful submit).
 */
export function useDraft(key: string): [string, (v: string) => void, () => void] {
  const storageKey = `crm.draft.${key}`;
  const [value, setValue] = useState(() => {
    try {
      return window.sessionStorage.getItem(storageKey) ?? '';
    } catch {
      return '';
    }
  });
  const set = useCallback(
    (v: string) => {
      setValue(v);
      try {
        if (v) window.sessionStorage.setItem(storageKey, v);
        else window.sessionStorage.removeItem(storageKey);
      } catch {
        // Storage disabled: the draft lasts for this page only.
      }
    },
    [storageKey],
  );
  const clear = useCallback(() => set(''), [set]);
  return [value, set, clear];
}

/** A fresh idempotency key per form submission attempt (kept across retries of the same attempt). */
export function newKey(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}
