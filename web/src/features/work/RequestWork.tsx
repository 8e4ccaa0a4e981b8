/**
 * The working parts of the request page: who has it and where (department, assignee, SLA, revisit),
 * meaning and qualification as selects, the history (who, when, why — in the tenant's zone) and the
 * request's follow-up tasks with a form to add one ("call back at 15:00"; the draft survives a reload).
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { Me } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { useI18n, type MessageKey } from '../../i18n';
import { Link } from '../../router';
import { departmentName, MEANINGS, QUALIFICATIONS, userName, workApi, type Department, type HistoryEntry, type Task, type TeamUser, type WorkRequest } from './api';
import { OutcomeMessage, tEnumTrash, useChange } from './actions';
import { newKey, useDraft } from './hooks';
import { localInputToIso } from './time-input';
import { SlaBadge } from './SlaBadge';

export function WorkSummary({ request: r, users, departments, me }: { request: WorkRequest; users: TeamUser[]; departments: Department[]; me: Me }) {
  const { t, formatDateTime } = useI18n();
  const empty = <span className="muted">{t('empty')}</span>;
  return (
    <dl className="dl" data-testid="request-work">
      <div className="dl-row" data-testid="field-department">
        <dt>{t('work.department')}</dt>
        <dd>{departmentName(departments, r.department_id) || empty}</dd>
      </div>
      <div className="dl-row" data-testid="field-assignee" data-assignee={r.assignee_id ?? ''}>
        <dt>{t('work.assignee')}</dt>
        <dd>{r.assignee_id ? (r.assignee_id === me.subject_id ? t('work.me') : userName(users, r.assignee_id)) : empty}</dd>
      </div>
      <div className="dl-row" data-testid="field-sla">
        <dt>{t('work.sla')}</dt>
        <dd>
          <SlaBadge request={r} />
          {!r.sla_due_at && !r.sla_breached_at && empty}
        </dd>
      </div>
      {r.first_response_at && (
        <div className="dl-row" data-testid="field-first-response">
          <dt>{t('work.firstResponse')}</dt>
          <dd>
            <time dateTime={r.first_response_at}>{formatDateTime(r.first_response_at)}</time>
          </dd>
        </div>
      )}
      {r.state === 'deferred' && r.revisit_at && (
        <div className="dl-row" data-testid="field-revisit">
          <dt>{t('work.revisitAt')}</dt>
          <dd>
            <time dateTime={r.revisit_at}>{formatDateTime(r.revisit_at)}</time>
          </dd>
        </div>
      )}
      {r.routing_version ? (
        <div className="dl-row" data-testid="field-routing">
          <dt>{t('work.routedBy')}</dt>
          <dd>{t('work.routedByValue', { version: r.routing_version, rule: r.routing_rule_id || t('work.fallback') })}</dd>
        </div>
      ) : null}
    </dl>
  );
}

/** Meaning and qualification, set by a person (each change a version-checked PATCH). */
export function AxesEditor({ request: r, onChanged }: { request: WorkRequest; onChanged: (r: WorkRequest) => void }) {
  const { t, tEnum } = useI18n();
  const { busy, outcome, run } = useChange(onChanged);
  const set = (body: { meaning?: string; qualification?: string }) => void run(r.id, () => workApi.setAxes(r.id, r.version, body));
  return (
    <div className="axes-editor" data-testid="axes-editor">
      <label>
        <span>{t('axis.meaning')}</span>
        <select value={r.axes.meaning} disabled={busy} onChange={(e) => set({ meaning: e.target.value })} data-testid="meaning-select">
          {MEANINGS.map((m) => (
            <option key={m} value={m}>
              {tEnum('meaning', m)}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>{t('axis.qualification')}</span>
        <select value={r.axes.qualification} disabled={busy} onChange={(e) => set({ qualification: e.target.value })} data-testid="qualification-select">
          {QUALIFICATIONS.map((m) => (
            <option key={m} value={m}>
              {tEnum('qualification', m)}
            </option>
          ))}
        </select>
      </label>
      <OutcomeMessage outcome={outcome} testId="axes-outcome" />
    </div>
  );
}

const FIELD_KEYS: Record<string, MessageKey> = {
  created: 'work.history.created',
  state: 'work.history.state',
  assignee: 'work.history.assignee',
  department: 'work.history.department',
  meaning: 'work.history.meaning',
  qualification: 'work.history.qualification',
  contact: 'work.history.contact',
  sla_breached: 'work.history.sla_breached',
  sla_breached_at: 'work.history.sla_breached',
  first_response: 'work.history.first_response',
  revisit: 'work.history.revisit',
  routed: 'work.history.routed',
  routing: 'work.history.routed',
};

/** Reasons that are the system's own words for what the field already says (not shown twice). */
const SYSTEM_REASONS = new Set(['routed', 'sla_breached', 'revisit', 'revisited']);

export function History({ request: r, users, departments, me }: { request: WorkRequest; users: TeamUser[]; departments: Department[]; me: Me }) {
  const { t, tEnum, formatDateTime } = useI18n();
  const [entries, setEntries] = useState<HistoryEntry[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    workApi.history(r.id, ctl.signal).then(
      (e) => {
        setEntries(e);
        setError(null);
      },
      (err: unknown) => !ctl.signal.aborted && setError(err),
    );
    return () => ctl.abort();
  }, [r.id, r.version, reload]);

  const value = (field: string, v: string | null | undefined) => {
    if (!v) return t('empty');
    if (field === 'state') return tEnum('state', v);
    if (field === 'meaning' || field === 'qualification' || field === 'contact') return tEnum(field, v);
    if (field === 'assignee') return v === me.subject_id ? t('work.me') : userName(users, v);
    if (field === 'department') return departmentName(departments, v);
    if (field === 'revisit' || field === 'revisit_at' || field === 'sla_breached' || field === 'sla_breached_at' || field === 'first_response' || field === 'first_response_at') return Number.isNaN(Date.parse(v)) ? v : formatDateTime(v);
    return v;
  };
  const who = (e: HistoryEntry) => {
    if (e.actor_kind === 'user' && e.actor_id) return e.actor_id === me.subject_id ? t('work.me') : userName(users, e.actor_id);
    if (e.actor_kind === 'api_key') return t('work.actor.api_key');
    if (e.actor_kind === 'service') return t('work.actor.service');
    return t('work.actor.system');
  };
  const details = (e: HistoryEntry): Record<string, unknown> => e.details ?? {};

  return (
    <section className="panel" aria-labelledby="history-title">
      <h2 id="history-title">{t('work.history.title')}</h2>
      {error !== null && <ErrorMessage error={error} onRetry={() => setReload((n) => n + 1)} />}
      {entries === null && error === null && <p className="muted">{t('app.loading')}</p>}
      {entries && entries.length === 0 && <p className="muted">{t('work.history.empty')}</p>}
      {entries && entries.length > 0 && (
        <ol className="history" data-testid="history">
          {entries.map((e) => {
            const d = details(e);
            const trash = typeof d.trash_reason === 'string' ? tEnumTrash(t, d.trash_reason) : '';
            const reason = e.reason && !SYSTEM_REASONS.has(e.reason) ? e.reason : '';
            return (
              <li key={e.id} className="history-entry" data-testid="history-entry" data-field={e.field} data-to={e.to ?? ''}>
                <time dateTime={e.at}>{formatDateTime(e.at, 'short')}</time>
                <strong>{who(e)}</strong>
                <span>
                  {FIELD_KEYS[e.field] ? t(FIELD_KEYS[e.field]) : e.field}
                  {e.field !== 'created' && (e.from || e.to) ? `: ${value(e.field, e.from)} → ${value(e.field, e.to)}` : ''}
                </span>
                {(reason || trash) && (
                  <span className="muted" data-testid="history-reason">
                    {[trash, reason].filter(Boolean).join(' — ')}
                  </span>
                )}
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}

export function RequestTasks({ request: r }: { request: WorkRequest }) {
  const { t, formatDateTime, timeZone } = useI18n();
  const [tasks, setTasks] = useState<Task[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [draft, setDraft, clearDraft] = useDraft(`request.${r.id}.task`, { title: '', due: '' });
  const [invalid, setInvalid] = useState('');
  const [busy, setBusy] = useState(false);
  const [sendError, setSendError] = useState<unknown>(null);
  const [key, setKey] = useState(newKey);

  useEffect(() => {
    const ctl = new AbortController();
    workApi.listTasks({ status: 'all', request_id: r.id, assignee: 'any' }, ctl.signal).then(
      (p) => setTasks(p.items),
      (err: unknown) => !ctl.signal.aborted && setError(err),
    );
    return () => ctl.abort();
  }, [r.id]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const title = draft.title.trim();
    const due = localInputToIso(draft.due, timeZone);
    if (!title) return setInvalid(t('work.tasks.titleRequired'));
    if (!due) return setInvalid(t('work.tasks.dueRequired'));
    setInvalid('');
    setBusy(true);
    setSendError(null);
    try {
      const task = await workApi.createTask({ title, due_at: due, request_id: r.id }, key);
      setTasks((ts) => [...(ts ?? []).filter((x) => x.id !== task.id), task]);
      clearDraft();
      setKey(newKey());
    } catch (err) {
      setSendError(err);
    } finally {
      setBusy(false);
    }
  };

  const toggle = async (task: Task) => {
    try {
      const next = await workApi.completeTask(task.id, task.status !== 'done');
      setTasks((ts) => (ts ?? []).map((x) => (x.id === next.id ? next : x)));
    } catch (err) {
      setSendError(err);
    }
  };

  return (
    <section className="panel" aria-labelledby="request-tasks-title">
      <h2 id="request-tasks-title">{t('work.tasks.ofRequest')}</h2>
      {error !== null && <ErrorMessage error={error} />}
      {tasks && tasks.length === 0 && <p className="muted">{t('work.tasks.none')}</p>}
      {tasks && tasks.length > 0 && (
        <ul className="task-list" data-testid="request-tasks">
          {tasks.map((task) => (
            <li key={task.id} data-testid="request-task" data-status={task.status} className={task.overdue && task.status === 'open' ? 'overdue' : undefined}>
              <label className="check">
                <input type="checkbox" checked={task.status === 'done'} onChange={() => void toggle(task)} aria-label={t('work.tasks.doneLabel', { title: task.title })} />
                {task.title}
              </label>
              <time dateTime={task.due_at}>{formatDateTime(task.due_at, 'short')}</time>
              {task.overdue && task.status === 'open' && <span className="badge sla-breached">{t('work.tasks.overdue')}</span>}
            </li>
          ))}
        </ul>
      )}
      <form className="action-form" onSubmit={submit} noValidate data-testid="request-task-form">
        <label>
          <span>{t('work.tasks.title')}</span>
          <input type="text" value={draft.title} maxLength={200} placeholder={t('work.tasks.titlePlaceholder')} onChange={(e) => setDraft({ ...draft, title: e.target.value })} data-testid="task-title" />
        </label>
        <label>
          <span>{t('work.tasks.due')}</span>
          <input type="datetime-local" value={draft.due} onChange={(e) => setDraft({ ...draft, due: e.target.value })} data-testid="task-due" />
        </label>
        <button type="submit" className="button-primary" disabled={busy} data-testid="task-submit">
          {t('work.tasks.add')}
        </button>
      </form>
      {invalid && (
        <p className="field-error" role="alert">
          {invalid}
        </p>
      )}
      {sendError !== null && <ErrorMessage error={sendError} />}
      <p className="muted">
        <Link to="/tasks">{t('work.tasks.all')}</Link>
      </p>
    </section>
  );
}
