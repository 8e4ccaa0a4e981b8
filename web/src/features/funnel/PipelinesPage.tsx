/**
 * The tenant's pipelines (`/pipelines`): name, current version, number of stages, open deals still on
 * older versions (waiting for a migration), archived ones on request; "New pipeline" and archive /
 * restore for `pipelines:write`.
 */
import { useEffect, useState } from 'react';
import type { Me } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { useI18n } from '../../i18n';
import { Link } from '../../router';
import { editorApi, type Pipeline } from './editor-api';

export function PipelinesPage({ me }: { me: Me }) {
  const { t, formatDateTime } = useI18n();
  const canWrite = me.scopes.includes('pipelines:write');
  const [archived, setArchived] = useState(false);
  const [items, setItems] = useState<Pipeline[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState('');
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    editorApi.listPipelines(archived, ctl.signal).then(setItems, (err: unknown) => !ctl.signal.aborted && setError(err));
    return () => ctl.abort();
  }, [archived, reload]);

  const toggleArchive = async (p: Pipeline) => {
    setBusy(p.id);
    setActionError(null);
    try {
      const next = await editorApi.archive(p.id, !p.archived);
      setItems((list) => (list ?? []).flatMap((x) => (x.id !== next.id ? [x] : next.archived && !archived ? [] : [next])));
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy('');
    }
  };

  return (
    <section className="pipelines" data-testid="pipelines-page">
      <div className="page-head">
        <h1>{t('funnel.editor.list.title')}</h1>
        {canWrite && (
          <Link to="/pipelines/new" className="button-primary" data-testid="pipeline-new">
            {t('funnel.editor.list.new')}
          </Link>
        )}
        <Link to="/deals">{t('funnel.editor.list.board')}</Link>
      </div>
      <label className="check">
        <input type="checkbox" checked={archived} data-testid="pipelines-archived" onChange={(e) => setArchived(e.target.checked)} />
        {t('funnel.editor.list.showArchived')}
      </label>
      {error !== null && <ErrorMessage error={error} onRetry={() => setReload((n) => n + 1)} />}
      {actionError !== null && <ErrorMessage error={actionError} />}
      {items === null && error === null && (
        <p className="page-status" role="status">
          {t('app.loading')}
        </p>
      )}
      {items && items.length === 0 && (
        <p className="muted" data-testid="pipelines-empty">
          {canWrite ? t('funnel.editor.list.emptyWrite') : t('funnel.editor.list.empty')}
        </p>
      )}
      {items && items.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{t('funnel.editor.list.name')}</th>
                <th scope="col">{t('funnel.editor.list.version')}</th>
                <th scope="col">{t('funnel.editor.list.stages')}</th>
                <th scope="col">{t('funnel.editor.list.oldDeals')}</th>
                <th scope="col">{t('funnel.editor.list.updated')}</th>
                {canWrite && <th scope="col">{t('funnel.editor.list.actions')}</th>}
              </tr>
            </thead>
            <tbody>
              {items.map((p) => (
                <tr key={p.id} data-testid="pipeline-row" data-id={p.id} data-archived={p.archived || undefined}>
                  <td data-label={t('funnel.editor.list.name')}>
                    <Link to={`/pipelines/${p.id}`}>{p.name}</Link> {p.archived && <span className="badge">{t('funnel.editor.list.archived')}</span>}
                  </td>
                  <td data-label={t('funnel.editor.list.version')} data-testid="pipeline-version">
                    {p.version}
                  </td>
                  <td data-label={t('funnel.editor.list.stages')}>{p.stages.length}</td>
                  <td data-label={t('funnel.editor.list.oldDeals')} data-testid="pipeline-old-deals">
                    {p.deals_on_old_versions > 0 ? <span className="badge sla-breached">{p.deals_on_old_versions}</span> : <span className="muted">0</span>}
                  </td>
                  <td data-label={t('funnel.editor.list.updated')} className="nowrap">
                    <time dateTime={p.updated_at}>{formatDateTime(p.updated_at, 'short')}</time>
                  </td>
                  {canWrite && (
                    <td data-label={t('funnel.editor.list.actions')}>
                      <button type="button" className="button-small" disabled={busy === p.id} data-testid="pipeline-archive" onClick={() => void toggleArchive(p)}>
                        {p.archived ? t('funnel.editor.list.restore') : t('funnel.editor.list.archive')}
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
