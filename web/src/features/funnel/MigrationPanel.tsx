/**
 * Deals on older versions of a pipeline, moved to the current one by an explicit mapping: each open
 * stage of the older versions (read with `GET /v1/pipelines/{id}?version=`) is mapped to an open stage
 * of the current version (the same key when it is still there and open), the preview
 * (`…/migration/preview`) says how many deals go where and which stages holding deals are left
 * unmapped, and apply (`…/migration`) moves exactly the previewed number (a changed number is refused by
 * the server and previewed again).
 */
import { useEffect, useState } from 'react';
import { ApiError } from '../../api';
import { errorText } from '../../components/ErrorMessage';
import { useI18n } from '../../i18n';
import { editorApi, pipelineProblem, type MigrationPreview, type Pipeline, type StageMapping } from './editor-api';

/** Older versions read for their stage names (a deal older than that still shows by its key). */
const MAX_VERSIONS_BACK = 20;
const PREVIEW_DEBOUNCE_MS = 300;

export function MigrationPanel({ pipeline, onMigrated }: { pipeline: Pipeline; onMigrated: (p: Pipeline, moved: number) => void }) {
  const { t } = useI18n();
  const [oldStages, setOldStages] = useState<{ key: string; name: string }[] | null>(null);
  const [mapping, setMapping] = useState<Record<string, string>>({});
  const [preview, setPreview] = useState<MigrationPreview | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [previewing, setPreviewing] = useState(false);
  const [tick, setTick] = useState(0);
  const [busy, setBusy] = useState(false);
  const [applyError, setApplyError] = useState('');
  // Deals are migrated to open stages (winning or losing them is a move of its own afterwards).
  const current = pipeline.stages.filter((s) => s.outcome === 'open');
  const nameOf = (key: string) => pipeline.stages.find((s) => s.key === key)?.name ?? oldStages?.find((s) => s.key === key)?.name ?? key;

  // The stages of the older versions, newest name first; the same key maps to itself by default.
  useEffect(() => {
    const ctl = new AbortController();
    const versions: number[] = [];
    for (let v = pipeline.version - 1; v >= 1 && versions.length < MAX_VERSIONS_BACK; v--) versions.push(v);
    Promise.all(versions.map((v) => editorApi.getPipeline(pipeline.id, v, ctl.signal).catch(() => null))).then((defs) => {
      if (ctl.signal.aborted) return;
      const seen = new Map<string, string>();
      // Only open stages hold deals that wait for a migration (a won or lost deal stays where it is).
      for (const d of defs) for (const s of d?.stages ?? []) if (s.outcome === 'open' && !seen.has(s.key)) seen.set(s.key, s.name);
      const list = [...seen].map(([key, name]) => ({ key, name }));
      setOldStages(list);
      setMapping(Object.fromEntries(list.map((s) => [s.key, current.some((c) => c.key === s.key) ? s.key : ''])));
    });
    return () => ctl.abort();
  }, [pipeline.id, pipeline.version]);

  const entries = (m: Record<string, string>): StageMapping[] =>
    Object.entries(m)
      .filter(([, to]) => !!to)
      .map(([from_stage, to_stage]) => ({ from_stage, to_stage }));

  // The preview follows the mapping.
  useEffect(() => {
    if (oldStages === null) return;
    const ctl = new AbortController();
    setPreviewing(true);
    const timer = setTimeout(() => {
      editorApi.previewMigration(pipeline.id, entries(mapping), ctl.signal).then(
        (p) => {
          setPreview(p);
          setPreviewError(null);
          setPreviewing(false);
        },
        (err: unknown) => {
          if (ctl.signal.aborted) return;
          const unmapped = pipelineProblem(err).unmapped_stages;
          if (unmapped) setPreview({ moves: [], total: 0, unmapped_stages: unmapped });
          setPreviewError(err);
          setPreviewing(false);
        },
      );
    }, PREVIEW_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
  }, [oldStages, mapping, tick, pipeline.id]);

  const apply = async () => {
    if (!preview || busy) return;
    setBusy(true);
    setApplyError('');
    try {
      const answer = await editorApi.applyMigration(pipeline.id, entries(mapping), preview.total);
      onMigrated(answer.pipeline, answer.moved);
    } catch (err) {
      // The number of deals changed since the preview (or a stage holds deals now): preview again.
      if (err instanceof ApiError && (err.status === 409 || err.status === 412)) setApplyError(t('funnel.editor.migration.changed'));
      else setApplyError(errorText(err, t));
      setTick((n) => n + 1);
    } finally {
      setBusy(false);
    }
  };

  const unmapped = new Set(preview?.unmapped_stages ?? []);
  const dealsFrom = (key: string) => (preview?.moves ?? []).filter((m) => m.from_stage === key).reduce((n, m) => n + m.deals, 0);
  const holding = (key: string) => unmapped.has(key) || dealsFrom(key) > 0;
  // Stages known to hold deals first; the others only matter if the preview is not there yet.
  const rows = (oldStages ?? []).filter((s) => !preview || holding(s.key));
  for (const key of unmapped) if (!rows.some((r) => r.key === key)) rows.push({ key, name: key });

  return (
    <section className="panel migration" aria-labelledby="migration-title" data-testid="pipeline-migration">
      <h2 id="migration-title">{t('funnel.editor.migration.title')}</h2>
      <p>{t('funnel.editor.migration.intro', { n: pipeline.deals_on_old_versions, version: pipeline.version })}</p>
      {oldStages === null ? (
        <p className="muted">{t('app.loading')}</p>
      ) : (
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">{t('funnel.editor.migration.from')}</th>
              <th scope="col">{t('funnel.editor.migration.deals')}</th>
              <th scope="col">{t('funnel.editor.migration.to')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <tr key={s.key} data-testid="migration-row" data-stage={s.key} data-unmapped={unmapped.has(s.key) || undefined}>
                <td data-label={t('funnel.editor.migration.from')}>
                  {s.name} <code className="muted">{s.key}</code>
                </td>
                <td data-label={t('funnel.editor.migration.deals')} data-testid="migration-row-deals">
                  {preview ? dealsFrom(s.key) || (unmapped.has(s.key) ? '?' : 0) : '…'}
                </td>
                <td data-label={t('funnel.editor.migration.to')}>
                  <select
                    value={mapping[s.key] ?? ''}
                    aria-label={t('funnel.editor.migration.toOf', { name: s.name })}
                    aria-invalid={unmapped.has(s.key) || undefined}
                    data-testid="migration-target"
                    data-from={s.key}
                    onChange={(e) => setMapping({ ...mapping, [s.key]: e.target.value })}
                  >
                    <option value="">{t('funnel.editor.migration.choose')}</option>
                    {current.map((c) => (
                      <option key={c.key} value={c.key}>
                        {c.name}
                      </option>
                    ))}
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {preview && (
        <div className="migration-preview" data-testid="migration-preview" data-total={preview.total}>
          <p>
            <strong data-testid="migration-total">{t('funnel.editor.migration.total', { n: preview.total })}</strong>
            {previewing && <span className="muted"> · {t('funnel.editor.checking')}</span>}
          </p>
          {preview.moves.length > 0 && (
            <ul className="plain-list">
              {preview.moves.map((m) => (
                <li key={`${m.from_version}:${m.from_stage}`} data-testid="migration-move" data-from={m.from_stage} data-to={m.to_stage} data-deals={m.deals}>
                  {t('funnel.editor.migration.move', { version: m.from_version, from: nameOf(m.from_stage), to: nameOf(m.to_stage), n: m.deals })}
                </li>
              ))}
            </ul>
          )}
          {unmapped.size > 0 && (
            <p className="field-error" data-testid="migration-unmapped">
              {t('funnel.editor.migration.unmapped', { stages: [...unmapped].map(nameOf).join(', ') })}
            </p>
          )}
        </div>
      )}
      {previewError !== null && !pipelineProblem(previewError).unmapped_stages && (
        <p className="field-error" role="alert">
          {errorText(previewError, t)}
        </p>
      )}
      <div className="form-actions">
        <button type="button" className="button-secondary" disabled={previewing} data-testid="migration-refresh" onClick={() => setTick((n) => n + 1)}>
          {t('funnel.editor.migration.refresh')}
        </button>
        <button type="button" className="button-primary" disabled={busy || previewing || !preview || preview.total === 0 || unmapped.size > 0} data-testid="migration-apply" onClick={() => void apply()}>
          {t('funnel.editor.migration.apply', { n: preview?.total ?? 0 })}
        </button>
      </div>
      {applyError && (
        <p className="field-error" role="alert" data-testid="migration-error">
          {applyError}
        </p>
      )}
    </section>
  );
}
