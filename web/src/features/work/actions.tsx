/**
 * The actions on one request that its state allows (take, assign to…, answered, defer with a date,
 * trash with a reason, close, back to new, move to a department), each sent with the version shown.
 * A refusal is shown as the server gives it: 409 names the state and the allowed moves; 412 means
 * someone else changed the request — the page then shows the request as it is now (the problem's
 * `current`) and nothing is overwritten.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { type Me } from '../../api';
import { errorText } from '../../components/ErrorMessage';
import { useI18n, type Translate } from '../../i18n';
import { canMove, isIllegal, isStale, TRASH_REASONS, workApi, workProblem, type Department, type TeamUser, type TrashReason, type WorkRequest } from './api';
import { useDraft } from './hooks';
import { localInputToIso } from './time-input';

export interface Outcome {
  kind: 'stale' | 'refused' | 'error';
  text: string;
}

/** A failed change in the user's words (412 / 409 / the rest). */
export function describeWorkError(err: unknown, t: Translate, tEnum: (k: 'state', v: string) => string): Outcome {
  const p = workProblem(err);
  if (isStale(err)) return { kind: 'stale', text: t('work.stale', { state: p.current ? tEnum('state', p.current.state) : '' }) };
  if (isIllegal(err)) {
    const allowed = (p.allowed ?? []).map((s) => tEnum('state', s)).join(', ') || t('work.nothingAllowed');
    return { kind: 'refused', text: t('work.refused', { state: p.state ? tEnum('state', p.state) : '', allowed, detail: errorText(err, t) }) };
  }
  return { kind: 'error', text: errorText(err, t) };
}

export function OutcomeMessage({ outcome, testId = 'work-outcome' }: { outcome: Outcome | null; testId?: string }) {
  if (!outcome) return null;
  return (
    <div className={`alert alert-${outcome.kind}`} role="alert" data-testid={testId} data-kind={outcome.kind}>
      {outcome.text}
    </div>
  );
}

/**
 * Runs one change: on success hands the new request over; on 412 hands over the current one (as the
 * problem carries it, or read again) together with the message.
 */
export function useChange(onChanged: (r: WorkRequest) => void) {
  const { t, tEnum } = useI18n();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const run = async (id: string, call: () => Promise<WorkRequest>): Promise<boolean> => {
    setBusy(true);
    setOutcome(null);
    try {
      onChanged(await call());
      return true;
    } catch (err) {
      setOutcome(describeWorkError(err, t, tEnum));
      if (isStale(err)) {
        const current = workProblem(err).current;
        if (current?.id) onChanged(current);
        else workApi.getRequest(id).then(onChanged, () => undefined);
      }
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, outcome, setOutcome, run };
}

type Panel = null | 'assign' | 'defer' | 'trash' | 'department';

export function RequestActions({
  request: r,
  me,
  users,
  departments,
  onChanged,
}: {
  request: WorkRequest;
  me: Me;
  users: TeamUser[];
  departments: Department[];
  onChanged: (r: WorkRequest) => void;
}) {
  const { t, timeZone } = useI18n();
  const { busy, outcome, run } = useChange(onChanged);
  const [panel, setPanel] = useState<Panel>(null);
  const draftKey = `request.${r.id}`;
  const [assignee, setAssignee] = useState('');
  const [revisit, setRevisit, clearRevisit] = useDraft(`${draftKey}.revisit`, '');
  const [trash, setTrash, clearTrash] = useDraft<{ reason: TrashReason | ''; note: string }>(`${draftKey}.trash`, { reason: '', note: '' });
  const [department, setDepartment] = useState('');
  const [invalid, setInvalid] = useState('');
  const v = r.version;
  const open = r.state === 'new' || r.state === 'assigned' || r.state === 'in_progress';
  const mine = r.assignee_id === me.subject_id;
  const done = (ok: boolean) => ok && setPanel(null);

  const toggle = (p: Panel) => {
    setInvalid('');
    setPanel((cur) => (cur === p ? null : p));
  };

  const submitDefer = async (e: FormEvent) => {
    e.preventDefault();
    const at = localInputToIso(revisit, timeZone);
    if (!at) return setInvalid(t('work.defer.required'));
    if (Date.parse(at) <= Date.now()) return setInvalid(t('work.defer.past'));
    setInvalid('');
    const ok = await run(r.id, () => workApi.transition(r.id, v, { to: 'deferred', revisit_at: at }));
    if (ok) clearRevisit();
    done(ok);
  };

  const submitTrash = async (e: FormEvent) => {
    e.preventDefault();
    if (!trash.reason) return setInvalid(t('work.trash.reasonRequired'));
    if (trash.reason === 'other' && !trash.note.trim()) return setInvalid(t('work.trash.noteRequired'));
    setInvalid('');
    const ok = await run(r.id, () => workApi.transition(r.id, v, { to: 'trash', trash_reason: trash.reason as TrashReason, trash_note: trash.note.trim() || undefined }));
    if (ok) clearTrash();
    done(ok);
  };

  const submitAssign = async (e: FormEvent) => {
    e.preventDefault();
    if (!assignee) return setInvalid(t('work.assign.required'));
    setInvalid('');
    done(await run(r.id, () => workApi.assign(r.id, v, { assignee_id: assignee })));
  };

  const submitDepartment = async (e: FormEvent) => {
    e.preventDefault();
    if (!department) return setInvalid(t('work.department.required'));
    setInvalid('');
    done(await run(r.id, () => workApi.moveToDepartment(r.id, v, { department_id: department })));
  };

  const button = (testId: string, label: string, onClick: () => void, primary = false): ReactNode => (
    <button type="button" className={primary ? 'button-primary' : 'button-secondary'} disabled={busy} data-testid={testId} onClick={onClick}>
      {label}
    </button>
  );

  const eligible = users.filter((u) => u.active !== false && !u.away);

  return (
    <section className="panel" aria-labelledby="actions-title" data-testid="request-actions">
      <h2 id="actions-title">{t('work.actions')}</h2>
      <div className="actions-row">
        {open && !mine && button('action-take', t('work.take'), () => void run(r.id, () => workApi.assign(r.id, v, { take: true })), r.state === 'new')}
        {(r.state === 'new' || r.state === 'assigned') && button('action-answered', t('work.answered'), () => void run(r.id, () => workApi.answered(r.id, v)), mine)}
        {open && button('action-assign', t('work.assign.open'), () => toggle('assign'))}
        {canMove(r.state, 'new') && r.state === 'assigned' && button('action-unassign', t('work.unassign'), () => void run(r.id, () => workApi.transition(r.id, v, { to: 'new' })))}
        {canMove(r.state, 'deferred') && button('action-defer', t('work.defer.open'), () => toggle('defer'))}
        {canMove(r.state, 'trash') && button('action-trash', t('work.trash.open'), () => toggle('trash'))}
        {canMove(r.state, 'closed') && button('action-close', t('work.close'), () => void run(r.id, () => workApi.transition(r.id, v, { to: 'closed' })))}
        {(r.state === 'deferred' || r.state === 'trash') && button('action-restore', t('work.restore'), () => void run(r.id, () => workApi.transition(r.id, v, { to: 'new' })))}
        {open && button('action-department', t('work.department.open'), () => toggle('department'))}
        {!open && r.state !== 'deferred' && r.state !== 'trash' && <span className="muted">{t('work.terminal')}</span>}
      </div>

      {panel === 'assign' && (
        <form className="action-form" onSubmit={submitAssign} noValidate data-testid="assign-form">
          <label>
            <span>{t('work.assign.to')}</span>
            <select value={assignee} onChange={(e) => setAssignee(e.target.value)} data-testid="assign-select">
              <option value="">{t('work.choose')}</option>
              {eligible.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.display_name || u.email}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="button-primary" disabled={busy} data-testid="assign-submit">
            {t('work.assign.submit')}
          </button>
        </form>
      )}
      {panel === 'defer' && (
        <form className="action-form" onSubmit={submitDefer} noValidate data-testid="defer-form">
          <label>
            <span>{t('work.defer.at')}</span>
            <input type="datetime-local" value={revisit} onChange={(e) => setRevisit(e.target.value)} data-testid="defer-at" />
          </label>
          <span className="muted">{t('work.inZone', { zone: timeZone })}</span>
          <button type="submit" className="button-primary" disabled={busy} data-testid="defer-submit">
            {t('work.defer.submit')}
          </button>
        </form>
      )}
      {panel === 'trash' && (
        <form className="action-form" onSubmit={submitTrash} noValidate data-testid="trash-form">
          <label>
            <span>{t('work.trash.reason')}</span>
            <select value={trash.reason} onChange={(e) => setTrash({ ...trash, reason: e.target.value as TrashReason })} data-testid="trash-reason">
              <option value="">{t('work.choose')}</option>
              {TRASH_REASONS.map((x) => (
                <option key={x} value={x}>
                  {t(`work.trashReason.${x}`)}
                </option>
              ))}
            </select>
          </label>
          <label>
            <span>{t('work.trash.note')}</span>
            <input type="text" value={trash.note} maxLength={500} onChange={(e) => setTrash({ ...trash, note: e.target.value })} data-testid="trash-note" />
          </label>
          <button type="submit" className="button-danger" disabled={busy} data-testid="trash-submit">
            {t('work.trash.submit')}
          </button>
        </form>
      )}
      {panel === 'department' && (
        <form className="action-form" onSubmit={submitDepartment} noValidate data-testid="department-form">
          <label>
            <span>{t('work.department.to')}</span>
            <select value={department} onChange={(e) => setDepartment(e.target.value)} data-testid="department-select">
              <option value="">{t('work.choose')}</option>
              {departments
                .filter((d) => d.id !== r.department_id)
                .map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.name}
                  </option>
                ))}
            </select>
          </label>
          <button type="submit" className="button-primary" disabled={busy} data-testid="department-submit">
            {t('work.department.submit')}
          </button>
        </form>
      )}
      {invalid && (
        <p className="field-error" role="alert" data-testid="action-invalid">
          {invalid}
        </p>
      )}
      <OutcomeMessage outcome={outcome} />
      {outcome === null && r.state_reason && (
        <p className="muted" data-testid="state-reason">
          {t('work.stateReason', { reason: r.state_reason })}
        </p>
      )}
      {r.state === 'trash' && r.trash_reason && (
        <p className="muted" data-testid="trash-info">
          {t('work.trashedAs', { reason: tEnumTrash(t, r.trash_reason) })}
          {r.trash_note ? ` — ${r.trash_note}` : ''}
        </p>
      )}
    </section>
  );
}

export function tEnumTrash(t: Translate, reason: string): string {
  return (TRASH_REASONS as readonly string[]).includes(reason) ? t(`work.trashReason.${reason as TrashReason}`) : reason;
}
