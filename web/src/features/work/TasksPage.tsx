/**
 * Follow-up tasks (`/tasks?show=open|done|overdue`): the list, a form to create one (title, due time
 * in the tenant's zone, an optional note), the due time edited in place, complete / reopen.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { ErrorMessage } from '../../components/ErrorMessage';
import { useI18n } from '../../i18n';
import { useLiveEvents } from '../../live';
import { Link, navigate, useLocation } from '../../router';
import { workApi, type Task } from './api';
import { newKey, useDraft } from './hooks';
import { isoToLocalInput, localInputToIso } from './time-input';

type Show = 'open' | 'done' | 'overdue';
const SHOWS: readonly Show[] = ['open', 'overdue', 'done'];

export function TasksPage() {
  const { t, formatDateTime, timeZone } = useI18n();
  const { search } = useLocation();
  const show: Show = (SHOWS as readonly string[]).includes(search.get('show') ?? '') ? (search.get('show') as Show) : 'open';
  const [tasks, setTasks] = useState<Task[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  const [draft, setDraft, clearDraft] = useDraft('tasks.new', { title: '', due: '', note: '' });
  const [invalid, setInvalid] = useState('');
  const [busy, setBusy] = useState(false);
  const [key, setKey] = useState(newKey);
  const [editing, setEditing] = useState<{ id: string; due: string } | null>(null);

  useEffect(() => {
    const ctl = new AbortController();
    setTasks(null);
    workApi.listTasks({ status: show === 'done' ? 'done' : 'open', overdue: show === 'overdue', limit: 100 }, ctl.signal).then(
      (p) => {
        setTasks(p.items);
        setCursor(p.next_cursor);
        setError(null);
      },
      (err: unknown) => !ctl.signal.aborted && setError(err),
    );
    return () => ctl.abort();
  }, [show, reload]);

  useLiveEvents((e) => {
    if (e.type === 'notification' && e.notification.task_id) setReload((n) => n + 1);
  });

  const more = async () => {
    if (!cursor) return;
    try {
      const p = await workApi.listTasks({ status: show === 'done' ? 'done' : 'open', overdue: show === 'overdue', limit: 100, cursor });
      setTasks((ts) => [...(ts ?? []), ...p.items.filter((x) => !(ts ?? []).some((y) => y.id === x.id))]);
      setCursor(p.next_cursor);
    } catch (err) {
      setActionError(err);
    }
  };

  const create = async (e: FormEvent) => {
    e.preventDefault();
    const title = draft.title.trim();
    const due = localInputToIso(draft.due, timeZone);
    if (!title) return setInvalid(t('work.tasks.titleRequired'));
    if (!due) return setInvalid(t('work.tasks.dueRequired'));
    setInvalid('');
    setBusy(true);
    setActionError(null);
    try {
      await workApi.createTask({ title, due_at: due, note: draft.note.trim() || undefined }, key);
      clearDraft();
      setKey(newKey());
      setReload((n) => n + 1);
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };

  const replace = (task: Task) => setTasks((ts) => (ts ?? []).map((x) => (x.id === task.id ? task : x)));

  const toggle = async (task: Task) => {
    setActionError(null);
    try {
      const next = await workApi.completeTask(task.id, task.status !== 'done');
      // Done tasks leave the open lists (and reopened ones the done list).
      setTasks((ts) => (ts ?? []).filter((x) => x.id !== next.id));
    } catch (err) {
      setActionError(err);
    }
  };

  const saveDue = async (e: FormEvent) => {
    e.preventDefault();
    if (!editing) return;
    const due = localInputToIso(editing.due, timeZone);
    if (!due) return setInvalid(t('work.tasks.dueRequired'));
    setInvalid('');
    setActionError(null);
    try {
      const task = tasks?.find((x) => x.id === editing.id);
      replace(await workApi.updateTask(editing.id, { due_at: due }, task?.version));
      setEditing(null);
    } catch (err) {
      setActionError(err);
    }
  };

  return (
    <section className="tasks" data-testid="tasks-page">
      <div className="page-head">
        <h1>{t('work.tasks.pageTitle')}</h1>
      </div>
      <div className="tabs" role="tablist" aria-label={t('work.tasks.pageTitle')}>
        {SHOWS.map((s) => (
          <button key={s} type="button" role="tab" className="tab" aria-selected={show === s} data-testid={`tasks-tab-${s}`} onClick={() => navigate(`/tasks?show=${s}`, { replace: true })}>
            {t(`work.tasks.show.${s}`)}
          </button>
        ))}
      </div>

      <form className="panel action-form" onSubmit={create} noValidate data-testid="task-form" aria-label={t('work.tasks.new')}>
        <label>
          <span>{t('work.tasks.title')}</span>
          <input type="text" value={draft.title} maxLength={200} placeholder={t('work.tasks.titlePlaceholder')} onChange={(e) => setDraft({ ...draft, title: e.target.value })} data-testid="new-task-title" />
        </label>
        <label>
          <span>{t('work.tasks.due')}</span>
          <input type="datetime-local" value={draft.due} onChange={(e) => setDraft({ ...draft, due: e.target.value })} data-testid="new-task-due" />
        </label>
        <label>
          <span>{t('work.tasks.note')}</span>
          <input type="text" value={draft.note} maxLength={2000} onChange={(e) => setDraft({ ...draft, note: e.target.value })} data-testid="new-task-note" />
        </label>
        <button type="submit" className="button-primary" disabled={busy} data-testid="new-task-submit">
          {t('work.tasks.add')}
        </button>
      </form>
      {invalid && (
        <p className="field-error" role="alert">
          {invalid}
        </p>
      )}
      {actionError !== null && <ErrorMessage error={actionError} />}
      {error !== null && <ErrorMessage error={error} onRetry={() => setReload((n) => n + 1)} />}
      {tasks === null && error === null && <p className="page-status">{t('app.loading')}</p>}
      {tasks && tasks.length === 0 && (
        <p className="page-status" data-testid="tasks-empty">
          {t('work.tasks.none')}
        </p>
      )}
      {tasks && tasks.length > 0 && (
        <ul className="task-list panel" data-testid="tasks">
          {tasks.map((task) => (
            <li key={task.id} data-testid="task" data-id={task.id} data-status={task.status} className={task.overdue && task.status === 'open' ? 'overdue' : undefined}>
              <label className="check">
                <input type="checkbox" checked={task.status === 'done'} onChange={() => void toggle(task)} aria-label={t('work.tasks.doneLabel', { title: task.title })} data-testid="task-done" />
                <strong>{task.title}</strong>
              </label>
              {editing?.id === task.id ? (
                <form onSubmit={saveDue} className="inline-form" noValidate>
                  <label>
                    <span className="visually-hidden">{t('work.tasks.due')}</span>
                    <input type="datetime-local" value={editing.due} onChange={(e) => setEditing({ id: task.id, due: e.target.value })} data-testid="task-due-edit" />
                  </label>
                  <button type="submit" className="button-primary" data-testid="task-due-save">
                    {t('work.save')}
                  </button>
                  <button type="button" className="button-link" onClick={() => setEditing(null)}>
                    {t('work.cancel')}
                  </button>
                </form>
              ) : (
                <>
                  <time dateTime={task.due_at}>{formatDateTime(task.due_at, 'short')}</time>
                  {task.status === 'open' && (
                    <button type="button" className="button-link" onClick={() => setEditing({ id: task.id, due: isoToLocalInput(task.due_at, timeZone) })} data-testid="task-due-change">
                      {t('work.tasks.changeDue')}
                    </button>
                  )}
                </>
              )}
              {task.overdue && task.status === 'open' && <span className="badge sla-breached">{t('work.tasks.overdue')}</span>}
              {task.kind === 'revisit' && <span className="badge">{t('work.tasks.revisit')}</span>}
              {task.note && <span className="muted">{task.note}</span>}
              {task.request_id && <Link to={`/requests/${task.request_id}`}>{t('work.tasks.openRequest')}</Link>}
            </li>
          ))}
        </ul>
      )}
      {cursor && (
        <button type="button" className="button-secondary" onClick={() => void more()}>
          {t('journal.loadMore')}
        </button>
      )}
    </section>
  );
}
