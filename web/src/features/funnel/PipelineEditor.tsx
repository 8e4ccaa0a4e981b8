/**
 * The pipeline editor (`/pipelines/new`, `/pipelines/:id`; writing needs `pipelines:write`): name,
 * currency, stages in board order (add, remove, reorder; key made from the name while the stage is new,
 * name, outcome, the allowed moves as checkboxes of the other stages, the guard — required fields and
 * "checklist complete" —, checklist items, probability), lost reasons and custom fields. Validation as
 * you edit: 300 ms after the last change the definition goes to `POST /v1/pipelines/validate` and each
 * violation is shown next to its field in the UI's language (the server's message when the code is
 * unknown). Save creates version 1 or stores the next version with the version shown (a 412 offers to
 * reload what someone else saved). Deals on older versions get the migration panel (MigrationPanel.tsx).
 */
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ApiError, type Me } from '../../api';
import { ErrorMessage, errorText } from '../../components/ErrorMessage';
import { useI18n, type MessageKey } from '../../i18n';
import { Link, navigate } from '../../router';
import { editorApi, pipelineProblem, type Pipeline, type StageOutcome, type Violation } from './editor-api';
import {
  BUILTIN_FIELDS,
  COMMON_CURRENCIES,
  emptyDraft,
  FIELD_TYPES,
  fromPipeline,
  localViolations,
  newField,
  newItem,
  newStage,
  OUTCOMES,
  placeViolations,
  slotsOf,
  templateDraft,
  toDefinition,
  uid,
  withKeys,
  type Draft,
  type DraftField,
  type DraftStage,
} from './editor-model';
import { MigrationPanel } from './MigrationPanel';

const VALIDATE_DEBOUNCE_MS = 300;

/** Shown once by the editor that opens after a create (the route changes from /new to /:id). */
let flash: { id: string; version: number } | null = null;

/** A violation's text in the UI's language (the server's message for a code the UI does not know). */
export function useViolationText() {
  const { t } = useI18n();
  return useCallback(
    (v: Violation) => {
      const key = `funnel.editor.violation.${v.code}` as MessageKey;
      const text = t(key);
      return text === key ? v.message || v.code : text;
    },
    [t],
  );
}

function Violations({ list }: { list: Violation[] | undefined }) {
  const text = useViolationText();
  if (!list?.length) return null;
  return (
    <ul className="pipeline-violations">
      {list.map((v, i) => (
        <li key={`${v.field}:${v.code}:${i}`} className="field-error" data-testid="pipeline-violation" data-code={v.code} data-field={v.field} title={v.message}>
          {text(v)}
        </li>
      ))}
    </ul>
  );
}

type ValidationState = 'idle' | 'checking' | 'valid' | 'invalid' | 'error';

export function PipelineEditor({ id, me }: { id?: string; me: Me }) {
  const { t, locale } = useI18n();
  const canWrite = me.scopes.includes('pipelines:write');
  const [loaded, setLoaded] = useState<Pipeline | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [missing, setMissing] = useState(false);
  const [reload, setReload] = useState(0);
  const [draft, setDraftRaw] = useState<Draft>(() => emptyDraft());
  const [dirty, setDirty] = useState(false);
  const [violations, setViolations] = useState<Violation[]>([]);
  const [validation, setValidation] = useState<ValidationState>('idle');
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<number>(() => (flash && flash.id === id ? flash.version : 0));
  const [saveError, setSaveError] = useState<unknown>(null);
  const [stale, setStale] = useState<Pipeline | null>(null);
  const [migrated, setMigrated] = useState<number | null>(null);
  const saving = useRef(false);

  useEffect(() => {
    flash = null;
  }, []);

  useEffect(() => {
    if (!id) return;
    const ctl = new AbortController();
    editorApi.getPipeline(id, undefined, ctl.signal).then(
      (p) => {
        setLoaded(p);
        setDraftRaw(fromPipeline(p));
        setDirty(false);
        setViolations([]);
        setValidation('idle');
        setLoadError(null);
      },
      (err: unknown) => {
        if (ctl.signal.aborted) return;
        if (err instanceof ApiError && (err.status === 404 || err.status === 400)) setMissing(true);
        else setLoadError(err);
      },
    );
    return () => ctl.abort();
  }, [id, reload]);

  const setDraft = (next: Draft) => {
    setDraftRaw(withKeys(next));
    setDirty(true);
    setSaved(0);
  };

  // Validation as you edit: the definition 300 ms after the last change.
  useEffect(() => {
    if (!dirty) return;
    const ctl = new AbortController();
    setValidation('checking');
    const timer = setTimeout(() => {
      editorApi.validate(toDefinition(draft), ctl.signal).then(
        (vs) => {
          setViolations(vs);
          setValidation(vs.length ? 'invalid' : 'valid');
        },
        (err: unknown) => {
          if (ctl.signal.aborted) return;
          const vs = pipelineProblem(err).violations;
          if (vs?.length) {
            setViolations(vs);
            setValidation('invalid');
          } else setValidation('error');
        },
      );
    }, VALIDATE_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
  }, [draft, dirty]);

  const local = useMemo(() => localViolations(draft), [draft]);
  const placed = useMemo(() => placeViolations([...local, ...violations], slotsOf(draft)), [local, violations, draft]);
  const at = (slot: string) => placed.get(slot);

  const updateStage = (i: number, patch: Partial<DraftStage>) => setDraft({ ...draft, stages: draft.stages.map((s, j) => (j === i ? { ...s, ...patch } : s)) });
  const moveStage = (i: number, by: -1 | 1) => {
    const j = i + by;
    if (j < 0 || j >= draft.stages.length) return;
    const stages = [...draft.stages];
    [stages[i], stages[j]] = [stages[j], stages[i]];
    setDraft({ ...draft, stages });
  };
  const removeStage = (i: number) => {
    const gone = draft.stages[i].uid;
    setDraft({ ...draft, stages: draft.stages.filter((_, j) => j !== i).map((s) => ({ ...s, to: s.to.filter((x) => x !== gone) })) });
  };
  const updateField = (i: number, patch: Partial<DraftField>) => setDraft({ ...draft, fields: draft.fields.map((f, j) => (j === i ? { ...f, ...patch } : f)) });

  const save = async () => {
    if (saving.current) return;
    if (local.length) {
      setSaveError(new ApiError({ type: 'about:blank', title: t('funnel.editor.saveRefused'), status: 400 }));
      return;
    }
    saving.current = true;
    setBusy(true);
    setSaveError(null);
    setStale(null);
    try {
      const def = toDefinition(draft);
      if (!loaded) {
        const p = await editorApi.create(def);
        flash = { id: p.id, version: p.version };
        navigate(`/pipelines/${p.id}`, { replace: true });
        return;
      }
      const p = await editorApi.update(loaded.id, loaded.version, def);
      setLoaded(p);
      setDraftRaw(fromPipeline(p));
      setDirty(false);
      setViolations([]);
      setValidation('idle');
      setSaved(p.version);
    } catch (err) {
      const problem = pipelineProblem(err);
      if (problem.violations?.length) {
        setViolations(problem.violations);
        setValidation('invalid');
      }
      if (err instanceof ApiError && err.status === 412) setStale(problem.current ?? loaded);
      else setSaveError(err);
    } finally {
      saving.current = false;
      setBusy(false);
    }
  };

  const takeCurrent = () => {
    setStale(null);
    setReload((n) => n + 1);
  };

  const head = (
    <p className="back">
      <Link to="/pipelines">{t('funnel.editor.back')}</Link>
    </p>
  );
  if (missing)
    return (
      <>
        {head}
        <section className="panel" data-testid="pipeline-missing">
          <h1>{t('funnel.editor.notFound')}</h1>
        </section>
      </>
    );
  if (loadError !== null)
    return (
      <>
        {head}
        <ErrorMessage error={loadError} onRetry={() => setReload((n) => n + 1)} />
      </>
    );
  if (id && !loaded)
    return (
      <>
        {head}
        <p className="page-status" role="status">
          {t('app.loading')}
        </p>
      </>
    );

  const customKeys = draft.fields.map((f) => f.key).filter(Boolean);
  const shownState: ValidationState = validation === 'valid' && local.length ? 'invalid' : validation;
  const statusText: Record<ValidationState, string> = {
    idle: '',
    checking: t('funnel.editor.checking'),
    valid: t('funnel.editor.valid'),
    invalid: t('funnel.editor.invalid', { n: violations.length + local.length }),
    error: t('funnel.editor.checkFailed'),
  };

  return (
    <section className="pipeline-editor" data-testid="pipeline-editor" data-version={loaded?.version ?? 0}>
      {head}
      <div className="page-head">
        <h1>{loaded ? t('funnel.editor.titleOf', { name: loaded.name, version: loaded.version }) : t('funnel.editor.titleNew')}</h1>
        {loaded?.archived && <span className="badge">{t('funnel.editor.list.archived')}</span>}
        {!loaded && canWrite && (
          <button type="button" className="button-secondary" data-testid="pipeline-template" onClick={() => setDraft(templateDraft(locale === 'en' ? 'en' : 'ru'))}>
            {t('funnel.editor.template')}
          </button>
        )}
        {loaded && (
          <Link to={`/deals?pipeline=${encodeURIComponent(loaded.id)}`} data-testid="pipeline-board-link">
            {t('funnel.editor.openBoard')}
          </Link>
        )}
      </div>
      {!canWrite && <p className="note">{t('funnel.editor.readOnly')}</p>}
      <p className="pipeline-status muted" role="status" data-testid="pipeline-status" data-state={shownState}>
        {statusText[shownState]}
      </p>
      <Violations list={at('')} />
      <Violations list={at('stages')} />

      <fieldset className="pipeline-form" disabled={!canWrite}>
        <section className="panel pipeline-general">
          <div className="field">
            <label htmlFor="pipeline-name">{t('funnel.editor.name')}</label>
            <input id="pipeline-name" type="text" value={draft.name} maxLength={100} data-testid="pipeline-name" onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
            <Violations list={at('name')} />
          </div>
          <div className="field">
            <label htmlFor="pipeline-currency">{t('funnel.editor.currency')}</label>
            <input
              id="pipeline-currency"
              type="text"
              value={draft.default_currency}
              maxLength={3}
              list="pipeline-currencies"
              data-testid="pipeline-currency"
              className="input-currency"
              onChange={(e) => setDraft({ ...draft, default_currency: e.target.value.toUpperCase() })}
            />
            <datalist id="pipeline-currencies">
              {COMMON_CURRENCIES.map((c) => (
                <option key={c} value={c} />
              ))}
            </datalist>
            <Violations list={at('default_currency')} />
          </div>
        </section>

        <section className="panel" aria-labelledby="stages-title">
          <h2 id="stages-title">{t('funnel.editor.stages')}</h2>
          <p className="hint">{t('funnel.editor.stagesHint')}</p>
          <ol className="pipeline-stages">
            {draft.stages.map((s, i) => (
              <StageCard
                key={s.uid}
                stage={s}
                index={i}
                draft={draft}
                customKeys={customKeys}
                at={at}
                onChange={(patch) => updateStage(i, patch)}
                onMove={(by) => moveStage(i, by)}
                onRemove={() => removeStage(i)}
              />
            ))}
          </ol>
          <button type="button" className="button-secondary" data-testid="stage-add" onClick={() => setDraft({ ...draft, stages: [...draft.stages, newStage()] })}>
            {t('funnel.editor.addStage')}
          </button>
        </section>

        <div className="grid-2">
          <section className="panel" aria-labelledby="reasons-title">
            <h2 id="reasons-title">{t('funnel.editor.lostReasons')}</h2>
            <Violations list={at('lost_reasons')} />
            <ul className="plain-list pipeline-list">
              {draft.lost_reasons.map((r, i) => (
                <li key={r.uid} data-testid="lost-reason">
                  <div className="inline-fields">
                    <input
                      type="text"
                      value={r.text}
                      maxLength={200}
                      aria-label={t('funnel.editor.lostReasonN', { n: i + 1 })}
                      data-testid="lost-reason-text"
                      onChange={(e) => setDraft({ ...draft, lost_reasons: draft.lost_reasons.map((x, j) => (j === i ? { ...x, text: e.target.value } : x)) })}
                    />
                    <button type="button" className="button-small" aria-label={t('funnel.editor.remove')} onClick={() => setDraft({ ...draft, lost_reasons: draft.lost_reasons.filter((_, j) => j !== i) })}>
                      ×
                    </button>
                  </div>
                  <Violations list={at(`lost_reasons[${i}]`)} />
                </li>
              ))}
            </ul>
            <button type="button" className="button-secondary" data-testid="lost-reason-add" onClick={() => setDraft({ ...draft, lost_reasons: [...draft.lost_reasons, { uid: uid(), text: '' }] })}>
              {t('funnel.editor.addLostReason')}
            </button>
          </section>

          <section className="panel" aria-labelledby="fields-title">
            <h2 id="fields-title">{t('funnel.editor.fields')}</h2>
            <Violations list={at('fields')} />
            <ul className="plain-list pipeline-list">
              {draft.fields.map((f, i) => (
                <li key={f.uid} className="pipeline-field" data-testid="custom-field" data-key={f.key}>
                  <div className="inline-fields">
                    <label className="field">
                      <span>{t('funnel.editor.fieldLabel')}</span>
                      <input type="text" value={f.label} maxLength={100} data-testid="field-label" onChange={(e) => updateField(i, { label: e.target.value })} />
                    </label>
                    <label className="field">
                      <span>{t('funnel.editor.key')}</span>
                      <input
                        type="text"
                        value={f.key}
                        maxLength={40}
                        disabled={f.keyLocked}
                        className="input-key"
                        data-testid="field-key"
                        onChange={(e) => updateField(i, { key: e.target.value, keyEdited: true })}
                      />
                    </label>
                    <label className="field">
                      <span>{t('funnel.editor.fieldType')}</span>
                      <select value={f.type} data-testid="field-type" onChange={(e) => updateField(i, { type: e.target.value as DraftField['type'] })}>
                        {FIELD_TYPES.map((ft) => (
                          <option key={ft} value={ft}>
                            {t(`funnel.editor.type.${ft}` as MessageKey)}
                          </option>
                        ))}
                      </select>
                    </label>
                    <button type="button" className="button-small" aria-label={t('funnel.editor.remove')} onClick={() => setDraft({ ...draft, fields: draft.fields.filter((_, j) => j !== i) })}>
                      ×
                    </button>
                  </div>
                  {f.type === 'enum' && (
                    <label className="field">
                      <span>{t('funnel.editor.fieldOptions')}</span>
                      <textarea rows={3} value={f.options} data-testid="field-options" onChange={(e) => updateField(i, { options: e.target.value })} />
                    </label>
                  )}
                  {['', '.key', '.label', '.type', '.options'].map((part) => (
                    <Violations key={part} list={at(`fields[${i}]${part}`)} />
                  ))}
                </li>
              ))}
            </ul>
            <button type="button" className="button-secondary" data-testid="field-add" onClick={() => setDraft({ ...draft, fields: [...draft.fields, newField()] })}>
              {t('funnel.editor.addField')}
            </button>
          </section>
        </div>
      </fieldset>

      {canWrite && (
        <div className="form-actions pipeline-actions">
          <button type="button" className="button-primary" disabled={busy || (!dirty && !!loaded)} data-testid="pipeline-save" onClick={() => void save()}>
            {busy ? t('funnel.editor.saving') : loaded ? t('funnel.editor.saveVersion', { version: loaded.version + 1 }) : t('funnel.editor.create')}
          </button>
          {saved > 0 && (
            <span className="muted" role="status" data-testid="pipeline-saved" data-version={saved}>
              {t('funnel.editor.saved', { version: saved })}
            </span>
          )}
        </div>
      )}
      {stale && (
        <div className="alert alert-stale" role="alert" data-testid="pipeline-stale">
          <span>{t('funnel.editor.stale', { version: stale.version })}</span>
          <button type="button" className="button-secondary" data-testid="pipeline-reload" onClick={takeCurrent}>
            {t('funnel.editor.reload')}
          </button>
        </div>
      )}
      {saveError !== null && (
        <div className="alert" role="alert" data-testid="pipeline-save-error">
          {pipelineProblem(saveError).violations?.length ? t('funnel.editor.saveRefused') : errorText(saveError, t)}
        </div>
      )}

      {loaded && canWrite && loaded.deals_on_old_versions > 0 && !dirty && (
        <MigrationPanel
          key={`${loaded.id}:${loaded.version}`}
          pipeline={loaded}
          onMigrated={(p, moved) => {
            setLoaded(p);
            setDraftRaw(fromPipeline(p));
            setMigrated(moved);
          }}
        />
      )}
      {migrated !== null && (
        <p className="note" role="status" data-testid="migration-done" data-moved={migrated}>
          {t('funnel.editor.migration.done', { n: migrated })}
        </p>
      )}
    </section>
  );
}

function StageCard({
  stage: s,
  index: i,
  draft,
  customKeys,
  at,
  onChange,
  onMove,
  onRemove,
}: {
  stage: DraftStage;
  index: number;
  draft: Draft;
  customKeys: string[];
  at: (slot: string) => Violation[] | undefined;
  onChange: (patch: Partial<DraftStage>) => void;
  onMove: (by: -1 | 1) => void;
  onRemove: () => void;
}) {
  const { t } = useI18n();
  const terminal = s.outcome === 'won' || s.outcome === 'lost';
  const others = draft.stages.filter((x) => x.uid !== s.uid);
  const p = `stages[${i}]`;
  const toggle = (list: string[], value: string, on: boolean) => (on ? [...list.filter((x) => x !== value), value] : list.filter((x) => x !== value));
  const label = (key: string) => (customKeys.includes(key) ? draft.fields.find((f) => f.key === key)?.label || key : t(`funnel.editor.builtin.${key}` as MessageKey));
  const requirable: string[] = [...BUILTIN_FIELDS, ...customKeys.filter((k) => !(BUILTIN_FIELDS as readonly string[]).includes(k))];
  // A required field that is no longer offered (a removed custom field) stays visible, to be unticked.
  const shown = [...requirable, ...s.required_fields.filter((k) => !requirable.includes(k))];
  const section = (title: string, slot: string, children: ReactNode) => (
    <div className="stage-section">
      <h4>{title}</h4>
      {children}
      <Violations list={at(`${p}.${slot}`)} />
    </div>
  );

  return (
    <li className={`panel stage-card stage-${s.outcome || 'unset'}`} data-testid="pipeline-stage" data-key={s.key} data-index={i}>
      <div className="stage-head">
        <span className="stage-number">{i + 1}</span>
        <div className="field stage-name">
          <label htmlFor={`stage-name-${s.uid}`}>{t('funnel.editor.stageName')}</label>
          <input id={`stage-name-${s.uid}`} type="text" value={s.name} maxLength={100} data-testid="stage-name" onChange={(e) => onChange({ name: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor={`stage-key-${s.uid}`}>{t('funnel.editor.key')}</label>
          <input
            id={`stage-key-${s.uid}`}
            type="text"
            value={s.key}
            maxLength={40}
            disabled={s.keyLocked}
            title={s.keyLocked ? t('funnel.editor.keyLocked') : undefined}
            className="input-key"
            data-testid="stage-key"
            onChange={(e) => onChange({ key: e.target.value, keyEdited: true })}
          />
        </div>
        <div className="field">
          <label htmlFor={`stage-outcome-${s.uid}`}>{t('funnel.editor.outcome')}</label>
          <select
            id={`stage-outcome-${s.uid}`}
            value={s.outcome}
            data-testid="stage-outcome"
            onChange={(e) => {
              const outcome = e.target.value as StageOutcome | '';
              onChange(outcome === 'won' || outcome === 'lost' ? { outcome, to: [] } : { outcome });
            }}
          >
            <option value="">{t('funnel.editor.outcomeUnset')}</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {t(`funnel.editor.outcome.${o}` as MessageKey)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`stage-probability-${s.uid}`}>{t('funnel.editor.probability')}</label>
          <input
            id={`stage-probability-${s.uid}`}
            type="number"
            min={0}
            max={100}
            step={1}
            value={s.probability}
            className="input-probability"
            data-testid="stage-probability"
            onChange={(e) => onChange({ probability: e.target.value })}
          />
        </div>
        <div className="stage-buttons">
          <button type="button" className="button-small" disabled={i === 0} aria-label={t('funnel.editor.up')} data-testid="stage-up" onClick={() => onMove(-1)}>
            ↑
          </button>
          <button type="button" className="button-small" disabled={i === draft.stages.length - 1} aria-label={t('funnel.editor.down')} data-testid="stage-down" onClick={() => onMove(1)}>
            ↓
          </button>
          <button type="button" className="button-small" aria-label={t('funnel.editor.removeStage', { name: s.name || s.key })} data-testid="stage-remove" onClick={onRemove}>
            ×
          </button>
        </div>
      </div>
      <Violations list={at(p)} />
      {['.key', '.name', '.outcome', '.probability'].map((part) => (
        <Violations key={part} list={at(`${p}${part}`)} />
      ))}
      <div className="stage-body">
        {section(
          t('funnel.editor.moves'),
          'to',
          terminal ? (
            <p className="muted">{t('funnel.editor.terminalNoMoves')}</p>
          ) : others.length === 0 ? (
            <p className="muted">{t('funnel.editor.noOtherStages')}</p>
          ) : (
            <div className="stage-checks">
              {others.map((o) => (
                <label key={o.uid} className="check">
                  <input type="checkbox" checked={s.to.includes(o.uid)} data-testid="stage-move" data-target={o.key} onChange={(e) => onChange({ to: toggle(s.to, o.uid, e.target.checked) })} />
                  {o.name || o.key || t('funnel.editor.unnamed')}
                </label>
              ))}
            </div>
          ),
        )}
        {section(
          t('funnel.editor.guard'),
          'guard',
          <>
            <p className="hint">{t('funnel.editor.guardHint')}</p>
            <div className="stage-checks">
              {shown.map((k) => (
                <label key={k} className="check">
                  <input type="checkbox" checked={s.required_fields.includes(k)} data-testid="stage-required" data-field={k} onChange={(e) => onChange({ required_fields: toggle(s.required_fields, k, e.target.checked) })} />
                  {label(k)}
                </label>
              ))}
            </div>
            <label className="check">
              <input type="checkbox" checked={s.checklist_complete} data-testid="stage-checklist-complete" onChange={(e) => onChange({ checklist_complete: e.target.checked })} />
              {t('funnel.editor.checklistComplete')}
            </label>
          </>,
        )}
        {section(
          t('funnel.editor.checklist'),
          'checklist',
          <>
            <ul className="plain-list pipeline-list">
              {s.checklist.map((c, j) => (
                <li key={c.uid} data-testid="checklist-def">
                  <div className="inline-fields">
                    <input
                      type="text"
                      value={c.text}
                      maxLength={200}
                      aria-label={t('funnel.editor.itemN', { n: j + 1 })}
                      data-testid="checklist-text"
                      onChange={(e) => onChange({ checklist: s.checklist.map((x, k) => (k === j ? { ...x, text: e.target.value } : x)) })}
                    />
                    <input
                      type="text"
                      value={c.key}
                      maxLength={40}
                      disabled={c.keyLocked}
                      aria-label={t('funnel.editor.key')}
                      className="input-key"
                      data-testid="checklist-key"
                      onChange={(e) => onChange({ checklist: s.checklist.map((x, k) => (k === j ? { ...x, key: e.target.value, keyEdited: true } : x)) })}
                    />
                    <button type="button" className="button-small" aria-label={t('funnel.editor.remove')} onClick={() => onChange({ checklist: s.checklist.filter((_, k) => k !== j) })}>
                      ×
                    </button>
                  </div>
                  <Violations list={at(`${p}.checklist[${j}]`)} />
                </li>
              ))}
            </ul>
            <button type="button" className="button-small" data-testid="checklist-add" onClick={() => onChange({ checklist: [...s.checklist, newItem()] })}>
              {t('funnel.editor.addItem')}
            </button>
          </>,
        )}
      </div>
    </li>
  );
}
