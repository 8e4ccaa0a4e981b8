/**
 * "My work": the counters of `GET /v1/me/work`, the requests assigned to me with the breached ones
 * first (`order=my_work&assignee=me`), my open tasks (overdue first) and the revisits due today; live.
 */
import { useCallback, useEffect, useState } from 'react';
import type { Me } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { useI18n } from '../../i18n';
import { useLiveEvents } from '../../live';
import { Link } from '../../router';
import { dayInZone, zonedMidnight } from '../../time';
import { OPEN_STATES, workApi, type MyWork, type Task, type WorkRequest } from './api';
import { RowActions } from './journal-actions';
import { SlaBadge } from './SlaBadge';

const COUNTERS: { key: keyof MyWork; label: 'work.my.assignedOpen' | 'work.my.breached' | 'work.my.overdueTasks' | 'work.my.tasksToday' | 'work.my.revisitsToday' | 'work.my.queueNew'; to: string }[] = [
  { key: 'assigned_open', label: 'work.my.assignedOpen', to: '/requests?assignee=me&state=assigned&state=in_progress' },
  { key: 'breached', label: 'work.my.breached', to: '/requests?assignee=me&sla_breached=1' },
  { key: 'overdue_tasks', label: 'work.my.overdueTasks', to: '/tasks?show=overdue' },
  { key: 'tasks_due_today', label: 'work.my.tasksToday', to: '/tasks' },
  { key: 'revisits_today', label: 'work.my.revisitsToday', to: '/requests?assignee=me&state=deferred' },
  { key: 'queue_new', label: 'work.my.queueNew', to: '/requests?state=new&assignee=unassigned' },
];

export function MyWorkPage({ me }: { me: Me }) {
  const { t, tEnum, formatDateTime, timeZone } = useI18n();
  const [summary, setSummary] = useState<MyWork | null>(null);
  const [requests, setRequests] = useState<WorkRequest[] | null>(null);
  const [tasks, setTasks] = useState<Task[] | null>(null);
  const [revisits, setRevisits] = useState<WorkRequest[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);

  const load = useCallback(
    (signal?: AbortSignal) => {
      const q = new URLSearchParams();
      for (const s of OPEN_STATES) q.append('state', s);
      q.set('assignee', 'me');
      q.set('order', 'my_work');
      q.set('limit', '50');
      const r = new URLSearchParams({ state: 'deferred', assignee: 'me', limit: '50' });
      const tomorrow = zonedMidnight(dayInZone(timeZone, 1), timeZone).getTime();
      return Promise.all([
        workApi.myWork(signal),
        workApi.listRequests(q, signal),
        workApi.listTasks({ status: 'open', limit: 50 }, signal),
        workApi.listRequests(r, signal).catch(() => ({ items: [] as WorkRequest[], next_cursor: null })),
      ]).then(([s, list, ts, deferred]) => {
        setSummary(s);
        setRequests(list.items);
        // Overdue first, then by due time.
        setTasks([...ts.items].sort((a, b) => Number(!!b.overdue) - Number(!!a.overdue) || Date.parse(a.due_at) - Date.parse(b.due_at)));
        setRevisits(deferred.items.filter((x) => x.revisit_at && Date.parse(x.revisit_at) < tomorrow));
        setError(null);
      });
    },
    [timeZone],
  );

  useEffect(() => {
    const ctl = new AbortController();
    load(ctl.signal).catch((err: unknown) => !ctl.signal.aborted && setError(err));
    return () => ctl.abort();
  }, [load, tick]);

  // Any change that may concern me (the server sends only what I may see): read again, a moment later.
  const [pending, setPending] = useState(false);
  useLiveEvents((e) => {
    if (e.type === 'request.updated' || e.type === 'request.created' || e.type === 'notification' || e.type === 'resync') setPending(true);
  });
  useEffect(() => {
    if (!pending) return;
    const timer = setTimeout(() => {
      setPending(false);
      setTick((n) => n + 1);
    }, 700);
    return () => clearTimeout(timer);
  }, [pending]);

  const changed = (r: WorkRequest) => {
    setRequests((rs) => (rs ?? []).map((x) => (x.id === r.id ? { ...x, ...r } : x)).filter((x) => x.assignee_id === me.subject_id && OPEN_STATES.includes(x.state)));
    setTick((n) => n + 1);
  };

  return (
    <section className="my-work" data-testid="my-work">
      <div className="page-head">
        <h1>{t('work.my.title')}</h1>
      </div>
      {error !== null && <ErrorMessage error={error} onRetry={() => setTick((n) => n + 1)} />}
      <dl className="counts" data-testid="my-work-counters">
        {COUNTERS.map((c) => (
          <div key={c.key} className={`count-cell${c.key === 'breached' && summary?.breached ? ' count-alert' : ''}`} data-testid={`counter-${c.key}`}>
            <dt>
              <Link to={c.to}>{t(c.label)}</Link>
            </dt>
            <dd>{summary ? summary[c.key] : '…'}</dd>
          </div>
        ))}
      </dl>

      <section className="panel" aria-labelledby="my-requests-title">
        <h2 id="my-requests-title">{t('work.my.requests')}</h2>
        {requests === null && error === null && <p className="muted">{t('app.loading')}</p>}
        {requests && requests.length === 0 && <p className="muted" data-testid="my-requests-empty">{t('work.my.noRequests')}</p>}
        {requests && requests.length > 0 && (
          <ul className="work-list" data-testid="my-requests">
            {requests.map((r) => (
              <li key={r.id} data-testid="my-request" data-id={r.id} data-state={r.state} data-breached={r.sla_breached_at ? 'true' : 'false'} className={r.sla_breached_at ? 'row-breached' : undefined}>
                <Link to={`/requests/${r.id}`} className="cell-name">
                  {r.name || r.phone || r.email || t('journal.noName')}
                </Link>
                <span className={`badge state state-${r.state}`}>{tEnum('state', r.state)}</span>
                <SlaBadge request={r} />
                <span className="muted">{formatDateTime(r.created_at, 'short')}</span>
                <RowActions request={r} meId={me.subject_id} onChanged={changed} />
              </li>
            ))}
          </ul>
        )}
      </section>

      <div className="grid-2">
        <section className="panel" aria-labelledby="my-tasks-title">
          <h2 id="my-tasks-title">{t('work.my.tasks')}</h2>
          {tasks && tasks.length === 0 && <p className="muted">{t('work.tasks.none')}</p>}
          {tasks && tasks.length > 0 && (
            <ul className="task-list" data-testid="my-tasks">
              {tasks.map((task) => (
                <li key={task.id} data-testid="my-task" className={task.overdue ? 'overdue' : undefined}>
                  <span>{task.title}</span>
                  <time dateTime={task.due_at}>{formatDateTime(task.due_at, 'short')}</time>
                  {task.overdue && <span className="badge sla-breached">{t('work.tasks.overdue')}</span>}
                  {task.request_id && <Link to={`/requests/${task.request_id}`}>{t('work.tasks.openRequest')}</Link>}
                </li>
              ))}
            </ul>
          )}
          <p>
            <Link to="/tasks">{t('work.tasks.all')}</Link>
          </p>
        </section>
        <section className="panel" aria-labelledby="my-revisits-title">
          <h2 id="my-revisits-title">{t('work.my.revisits')}</h2>
          {revisits && revisits.length === 0 && <p className="muted">{t('work.my.noRevisits')}</p>}
          {revisits && revisits.length > 0 && (
            <ul className="task-list" data-testid="my-revisits">
              {revisits.map((r) => (
                <li key={r.id} data-testid="my-revisit">
                  <Link to={`/requests/${r.id}`}>{r.name || r.phone || r.email || t('journal.noName')}</Link>
                  {r.revisit_at && <time dateTime={r.revisit_at}>{formatDateTime(r.revisit_at, 'short')}</time>}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </section>
  );
}
