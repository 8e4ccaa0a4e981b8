/**
 * The bell in the header: notifications addressed to me from the live feed (assignment, SLA breach,
 * task reminder), newest first, with an unread count; each links to its request or task. Kept in
 * sessionStorage for the session (a reload keeps them, a new tab starts empty).
 */
import { useEffect, useRef, useState } from 'react';
import { useI18n, type MessageKey } from '../../i18n';
import { useLiveEvents, type LiveNotification } from '../../live';
import { Link } from '../../router';

const STORAGE_KEY = 'crm.notifications';
const MAX = 50;

interface Stored extends LiveNotification {
  id: string;
  read: boolean;
}

function load(): Stored[] {
  try {
    const raw = window.sessionStorage.getItem(STORAGE_KEY);
    const list = raw ? (JSON.parse(raw) as Stored[]) : [];
    return Array.isArray(list) ? list.slice(0, MAX) : [];
  } catch {
    return [];
  }
}

function store(list: Stored[]): void {
  try {
    window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(list.slice(0, MAX)));
  } catch {
    // Storage disabled: they last for this page.
  }
}

const KIND_KEYS: Record<string, MessageKey> = {
  assignment: 'notify.kind.assignment',
  assigned: 'notify.kind.assignment',
  sla_breach: 'notify.kind.sla_breach',
  sla_breached: 'notify.kind.sla_breach',
  task_reminder: 'notify.kind.task_reminder',
};

export function NotificationBell() {
  const { t, formatDateTime } = useI18n();
  const [items, setItems] = useState<Stored[]>(load);
  const ref = useRef<HTMLDetailsElement>(null);

  const save = (next: Stored[]) => {
    setItems(next);
    store(next);
  };

  useLiveEvents((e) => {
    if (e.type !== 'notification') return;
    const n = e.notification;
    const id = `${n.kind}:${n.request_id ?? ''}:${n.task_id ?? ''}:${n.at}`;
    const current = load();
    if (current.some((x) => x.id === id)) return;
    save([{ ...n, id, read: false }, ...current]);
  });

  // Another tab of the same session is not shared (sessionStorage is per tab); nothing to sync.
  useEffect(() => {
    const close = (e: Event) => {
      const el = ref.current;
      if (!el?.open) return;
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !el.contains(e.target as Node)) el.open = false;
    };
    document.addEventListener('click', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('click', close);
      document.removeEventListener('keydown', close);
    };
  }, []);

  const unread = items.filter((x) => !x.read).length;
  const markAll = () => save(items.map((x) => ({ ...x, read: true })));
  const open = (id: string) => {
    save(items.map((x) => (x.id === id ? { ...x, read: true } : x)));
    if (ref.current) ref.current.open = false;
  };

  return (
    <details className="bell" ref={ref} data-testid="notifications">
      <summary aria-label={t('notify.label', { n: unread })} data-testid="bell">
        <svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
          <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" />
          <path d="M13.7 21a2 2 0 0 1-3.4 0" />
        </svg>
        {unread > 0 && (
          <span className="bell-count" data-testid="bell-count">
            {unread}
          </span>
        )}
      </summary>
      <div className="bell-panel" role="region" aria-label={t('notify.title')}>
        <div className="bell-head">
          <strong>{t('notify.title')}</strong>
          {unread > 0 && (
            <button type="button" className="button-link" onClick={markAll} data-testid="bell-read-all">
              {t('notify.readAll')}
            </button>
          )}
        </div>
        {items.length === 0 ? (
          <p className="muted">{t('notify.empty')}</p>
        ) : (
          <ul className="bell-list">
            {items.map((n) => {
              const to = n.request_id ? `/requests/${n.request_id}` : n.task_id ? '/tasks' : '';
              const label = KIND_KEYS[n.kind] ? t(KIND_KEYS[n.kind]) : n.kind;
              const body = (
                <>
                  <strong>{label}</strong> {n.title} <time dateTime={n.at}>{formatDateTime(n.at, 'short')}</time>
                </>
              );
              return (
                <li key={n.id} className={n.read ? 'read' : 'unread'} data-testid="notification" data-kind={n.kind}>
                  {to ? (
                    <Link to={to} onClick={() => open(n.id)}>
                      {body}
                    </Link>
                  ) : (
                    body
                  )}
                </li>
              );
            })}
          </ul>
        )}
      </div>
    </details>
  );
}
