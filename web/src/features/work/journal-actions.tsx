/**
 * The journal's actions: per row, the quick moves the state allows (take, answered, close, back to
 * new); for the selection, bulk assign and bulk trash with a reason, each id answered on its own.
 */
import { useState } from 'react';
import { useI18n } from '../../i18n';
import { canMove, TRASH_REASONS, workApi, type BulkResult, type TeamUser, type TrashReason, type WorkRequest } from './api';
import { OutcomeMessage, useChange } from './actions';
import { ConvertDialog } from '../funnel/ConvertDialog';

export function RowActions({ request: r, meId, onChanged, canConvert = false }: { request: WorkRequest; meId: string; onChanged: (r: WorkRequest) => void; canConvert?: boolean }) {
  const { t } = useI18n();
  const { busy, outcome, run } = useChange(onChanged);
  const [converting, setConverting] = useState(false);
  const open = r.state === 'new' || r.state === 'assigned' || r.state === 'in_progress';
  const mine = !!meId && r.assignee_id === meId;
  const b = (testId: string, label: string, call: () => Promise<WorkRequest>) => (
    <button type="button" className="button-small" disabled={busy} data-testid={testId} onClick={() => void run(r.id, call)}>
      {label}
    </button>
  );
  return (
    <div className="row-actions" data-testid="row-actions">
      {open && !mine && b('row-take', t('work.take'), () => workApi.assign(r.id, r.version, { take: true }))}
      {(r.state === 'new' || r.state === 'assigned') && b('row-answered', t('work.answered'), () => workApi.answered(r.id, r.version))}
      {canMove(r.state, 'closed') && b('row-close', t('work.close'), () => workApi.transition(r.id, r.version, { to: 'closed' }))}
      {(r.state === 'deferred' || r.state === 'trash') && b('row-restore', t('work.restore'), () => workApi.transition(r.id, r.version, { to: 'new' }))}
      {open && canConvert && (
        <button type="button" className="button-small" disabled={busy} data-testid="journal-convert" onClick={() => setConverting(true)}>
          {t('funnel.convert.open')}
        </button>
      )}
      {converting && <ConvertDialog request={r} onClose={() => setConverting(false)} />}
      <OutcomeMessage outcome={outcome} testId="row-outcome" />
    </div>
  );
}

export function BulkBar({ ids, users, onDone, onClear }: { ids: string[]; users: TeamUser[]; onDone: (results: BulkResult[]) => void; onClear: () => void }) {
  const { t } = useI18n();
  const [assignee, setAssignee] = useState('');
  const [reason, setReason] = useState<TrashReason | ''>('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [results, setResults] = useState<BulkResult[] | null>(null);
  const [error, setError] = useState('');

  const go = async (call: () => Promise<{ results: BulkResult[] }>) => {
    setBusy(true);
    setError('');
    try {
      const answer = await call();
      setResults(answer.results);
      onDone(answer.results);
    } catch (err) {
      setError(err instanceof Error ? err.message : t('error.generic'));
    } finally {
      setBusy(false);
    }
  };

  const ok = results?.filter((r) => r.ok).length ?? 0;
  return (
    <section className="bulk-bar panel" aria-label={t('work.bulk.title')} data-testid="bulk-bar">
      <strong>{t('work.bulk.selected', { n: ids.length })}</strong>
      <label>
        <span>{t('work.assign.to')}</span>
        <select value={assignee} onChange={(e) => setAssignee(e.target.value)} data-testid="bulk-assignee">
          <option value="">{t('work.choose')}</option>
          {users
            .filter((u) => u.active !== false)
            .map((u) => (
              <option key={u.id} value={u.id}>
                {u.display_name || u.email}
              </option>
            ))}
        </select>
      </label>
      <button type="button" className="button-secondary" disabled={busy || !assignee} data-testid="bulk-assign" onClick={() => void go(() => workApi.bulkAssign(ids, assignee))}>
        {t('work.bulk.assign')}
      </button>
      <label>
        <span>{t('work.trash.reason')}</span>
        <select value={reason} onChange={(e) => setReason(e.target.value as TrashReason)} data-testid="bulk-trash-reason">
          <option value="">{t('work.choose')}</option>
          {TRASH_REASONS.map((x) => (
            <option key={x} value={x}>
              {t(`work.trashReason.${x}`)}
            </option>
          ))}
        </select>
      </label>
      {reason === 'other' && (
        <label>
          <span>{t('work.trash.note')}</span>
          <input type="text" value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} data-testid="bulk-trash-note" />
        </label>
      )}
      <button
        type="button"
        className="button-danger"
        disabled={busy || !reason || (reason === 'other' && !note.trim())}
        data-testid="bulk-trash"
        onClick={() => void go(() => workApi.bulkTransition(ids, { to: 'trash', trash_reason: reason as TrashReason, trash_note: note.trim() || undefined }))}
      >
        {t('work.bulk.trash')}
      </button>
      <button type="button" className="button-link" onClick={onClear} data-testid="bulk-clear">
        {t('work.bulk.clear')}
      </button>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {results && (
        <div className="bulk-results" role="status" data-testid="bulk-results">
          <p>{t('work.bulk.result', { ok, failed: results.length - ok })}</p>
          {results.some((r) => !r.ok) && (
            <ul>
              {results
                .filter((r) => !r.ok)
                .map((r) => (
                  <li key={r.id} data-testid="bulk-failed" data-id={r.id}>
                    <code>…{r.id.slice(-6)}</code>: {r.message || r.code}
                  </li>
                ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}
