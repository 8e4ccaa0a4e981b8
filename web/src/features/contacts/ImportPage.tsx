/**
 * CSV import: pick a file → upload (`POST /v1/imports`, the raw body) → analysis (the detected encoding
 * and delimiter, which can be overridden, sample rows, a field per column pre-filled from the
 * suggestion) → dry run (counts and the invalid rows with row number and reason) → the import with a
 * progress bar (percent, counts, rows/s; `GET /v1/imports/{id}` every second) → done.
 * `/imports` starts one and lists the recent ones; `/imports/:id` is one import at whatever step it is
 * (a reload comes back to the same step; the mapping is kept as a draft in sessionStorage).
 */
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Link, navigate } from '../../router';
import { contactsApi, IMPORT_FIELDS, type ImportAnalysis, type ImportErrorRow, type ImportFieldName, type ImportJob } from './api';
import { ListFoot, SectionTabs, usePaged, useContactsI18n } from './common';
import { dropDraft, fieldsFor, loadDraft, mappingOf, mappingProblem, saveDraft, type ImportDraft } from './import-draft';

const POLL_MS = 1_000;
const MAX_BYTES = 64 * 1024 * 1024;

function storage(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined;
  }
}

export function ImportsPage() {
  const { t, tEnumContacts, formatDateTime } = useContactsI18n();
  const [file, setFile] = useState<File | null>(null);
  const [invalid, setInvalid] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const fetchPage = useCallback((cursor: string | null, signal?: AbortSignal) => contactsApi.listImports(cursor, signal), []);
  const list = usePaged(fetchPage, 'imports');

  const upload = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (!file) return setInvalid(t('contacts.import.pickFile'));
    if (file.size === 0) return setInvalid(t('contacts.import.emptyFile'));
    if (file.size > MAX_BYTES) return setInvalid(t('contacts.import.tooLarge', { mb: MAX_BYTES / 1024 / 1024 }));
    setInvalid('');
    setBusy(true);
    try {
      const analysis = await contactsApi.uploadImport(file, file.name);
      // The analysis is handed over so the next step does not ask for it again.
      analysed.set(analysis.import.id, analysis);
      navigate(`/imports/${analysis.import.id}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section data-testid="imports-page">
      <SectionTabs />
      <div className="page-head">
        <h1>{t('contacts.import.title')}</h1>
      </div>
      <form className="panel" onSubmit={upload} noValidate data-testid="import-upload">
        <h2>{t('contacts.import.step.file')}</h2>
        <p className="muted">{t('contacts.import.fileHint')}</p>
        <div className="inline-fields">
          <input
            type="file"
            accept=".csv,text/csv,text/plain"
            aria-label={t('contacts.import.file')}
            data-testid="import-file"
            onChange={(e) => {
              setFile(e.target.files?.[0] ?? null);
              setInvalid('');
            }}
          />
          <button type="submit" className="button-primary" disabled={busy} data-testid="import-upload-submit">
            {busy ? t('contacts.import.uploading') : t('contacts.import.upload')}
          </button>
        </div>
        <p className="field-error" role={invalid ? 'alert' : undefined} data-testid="import-file-error">
          {invalid}
        </p>
        {error !== null && <ErrorMessage error={error} testId="import-upload-error" />}
      </form>
      <section className="panel">
        <h2>{t('contacts.import.recent')}</h2>
        <ul className="plain-list" data-testid="imports-list">
          {list.items.map((i) => (
            <li key={i.id}>
              <Link to={`/imports/${i.id}`}>{i.file_name}</Link> <span className="badge">{tEnumContacts('importStatus', i.status)}</span>{' '}
              <span className="muted">{formatDateTime(i.created_at, 'short')}</span>
            </li>
          ))}
        </ul>
        <ListFoot list={list} empty={t('contacts.import.none')} testId="imports" />
      </section>
    </section>
  );
}

/** Analyses just made by the upload, for the import page it navigates to. */
const analysed = new Map<string, ImportAnalysis>();

type Step = { step: 'loading' } | { step: 'missing' } | { step: 'error'; error: unknown } | { step: 'ready'; job: ImportJob };

export function ImportPage({ id }: { id: string }) {
  const { t } = useContactsI18n();
  const [state, setState] = useState<Step>({ step: 'loading' });
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    const known = analysed.get(id);
    if (known) {
      setState({ step: 'ready', job: known.import });
      return;
    }
    contactsApi.getImport(id, ctl.signal).then(
      (job) => setState({ step: 'ready', job }),
      (error: unknown) => {
        if (ctl.signal.aborted) return;
        if (error instanceof ApiError && (error.status === 404 || error.status === 400)) setState({ step: 'missing' });
        else setState({ step: 'error', error });
      },
    );
    return () => ctl.abort();
  }, [id, reload]);

  const back = (
    <p className="back">
      <Link to="/imports">{t('contacts.import.back')}</Link>
    </p>
  );
  if (state.step === 'loading')
    return (
      <>
        {back}
        <p className="page-status" role="status">
          {t('app.loading')}
        </p>
      </>
    );
  if (state.step === 'missing')
    return (
      <>
        {back}
        <section className="panel" data-testid="import-missing">
          <h1>{t('contacts.import.notFound')}</h1>
        </section>
      </>
    );
  if (state.step === 'error')
    return (
      <>
        {back}
        <ErrorMessage error={state.error} onRetry={() => setReload((n) => n + 1)} />
      </>
    );

  const job = state.job;
  const setJob = (j: ImportJob) => setState({ step: 'ready', job: j });
  return (
    <section data-testid="import-page" data-id={job.id} data-status={job.status}>
      {back}
      <div className="page-head">
        <h1>
          {t('contacts.import.title')}: <span className="break">{job.file_name}</span>
        </h1>
      </div>
      {job.status === 'analysed' || (job.status === 'done' && job.dry_run) ? (
        <MappingStep job={job} onStarted={setJob} />
      ) : job.status === 'running' ? (
        <Progress job={job} onUpdate={setJob} />
      ) : (
        <Finished job={job} />
      )}
    </section>
  );
}

function MappingStep({ job, onStarted }: { job: ImportJob; onStarted: (j: ImportJob) => void }) {
  const { t, tEnumContacts } = useContactsI18n();
  const [analysis, setAnalysis] = useState<ImportAnalysis | null>(() => analysed.get(job.id) ?? null);
  const [draft, setDraft] = useState<ImportDraft | null>(() => loadDraft(storage(), job.id));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [invalid, setInvalid] = useState('');

  // The sample is asked for again after a reload (with the draft's overrides), or when an override changes.
  const analyse = useCallback(
    async (d: ImportDraft | null) => {
      setBusy(true);
      setError(null);
      try {
        const a = await contactsApi.analyseImport(job.id, { encoding: d?.encoding || undefined, delimiter: d?.delimiter || undefined, has_header: d ? d.hasHeader : undefined });
        analysed.set(job.id, a);
        setAnalysis(a);
      } catch (err) {
        // After a dry run the file may no longer be analysable: the mapping is edited without a sample.
        if (job.header.length) setAnalysis({ import: job, sample: [], suggested_mapping: job.mapping });
        else setError(err);
      } finally {
        setBusy(false);
      }
    },
    [job],
  );
  const asked = useRef(false);
  useEffect(() => {
    if (analysis || asked.current) return;
    asked.current = true;
    void analyse(loadDraft(storage(), job.id));
  }, [analysis, analyse, job.id]);

  if (!analysis)
    return error !== null ? (
      <ErrorMessage error={error} onRetry={() => analyse(draft)} />
    ) : (
      <p className="page-status" role="status">
        {t('contacts.import.analysing')}
      </p>
    );

  const a = analysis.import;
  const columns = Math.max(a.header.length, ...analysis.sample.map((r) => r.cells.length), 0);
  const fields = fieldsFor(columns, analysis.suggested_mapping, draft);
  const current: ImportDraft = { encoding: draft?.encoding ?? '', delimiter: draft?.delimiter ?? '', hasHeader: draft?.hasHeader ?? a.has_header, fields };
  const update = (next: Partial<ImportDraft>, reanalyse = false) => {
    const d = { ...current, ...next };
    setDraft(d);
    saveDraft(storage(), job.id, d);
    setInvalid('');
    if (reanalyse) void analyse(d);
  };

  const start = async (dryRun: boolean) => {
    const problem = mappingProblem(fields);
    if (problem) return setInvalid(t(`contacts.import.mapping.${problem}`));
    setBusy(true);
    setError(null);
    try {
      saveDraft(storage(), job.id, current);
      const started = await contactsApi.startImport(job.id, mappingOf(fields), dryRun);
      if (!dryRun) {
        analysed.delete(job.id);
        dropDraft(storage(), job.id);
      }
      onStarted(started);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const dryRunDone = job.status === 'done' && job.dry_run;
  return (
    <>
      <section className="panel" aria-labelledby="analysis-title" data-testid="import-analysis">
        <h2 id="analysis-title">{t('contacts.import.step.analysis')}</h2>
        <div className="inline-fields">
          <label className="filter-field">
            <span>{t('contacts.import.encoding')}</span>
            <select value={current.encoding} onChange={(e) => update({ encoding: e.target.value as ImportDraft['encoding'] }, true)} data-testid="import-encoding">
              <option value="">{t('contacts.import.detected', { value: a.encoding })}</option>
              <option value="utf-8">UTF-8</option>
              <option value="windows-1251">Windows-1251</option>
            </select>
          </label>
          <label className="filter-field">
            <span>{t('contacts.import.delimiter')}</span>
            <select value={current.delimiter} onChange={(e) => update({ delimiter: e.target.value as ImportDraft['delimiter'] }, true)} data-testid="import-delimiter">
              <option value="">{t('contacts.import.detected', { value: delimiterName(a.delimiter, t) })}</option>
              <option value=",">{t('contacts.import.delim.comma')}</option>
              <option value=";">{t('contacts.import.delim.semicolon')}</option>
              <option value={'\t'}>{t('contacts.import.delim.tab')}</option>
            </select>
          </label>
          <label className="check">
            <input type="checkbox" checked={current.hasHeader} onChange={(e) => update({ hasHeader: e.target.checked }, true)} data-testid="import-has-header" />
            {t('contacts.import.hasHeader')}
          </label>
        </div>
        <p className="muted" data-testid="import-detected" data-encoding={a.encoding} data-delimiter={a.delimiter}>
          {t('contacts.import.detectedLine', { encoding: a.encoding, delimiter: delimiterName(a.delimiter, t) })}
        </p>
        <div className="table-wrap">
          <table className="table compact" data-testid="import-sample">
            <thead>
              <tr>
                <th scope="col">#</th>
                {Array.from({ length: columns }, (_, i) => (
                  <th scope="col" key={i}>
                    <div className="muted">{a.has_header ? a.header[i] : `${t('contacts.import.column')} ${i + 1}`}</div>
                    <select aria-label={t('contacts.import.fieldOf', { column: a.header[i] || String(i + 1) })} value={fields[i]} onChange={(e) => update({ fields: fields.map((f, j) => (j === i ? (e.target.value as ImportFieldName) : f)) })} data-testid={`import-map-${i}`}>
                      {IMPORT_FIELDS.map((f) => (
                        <option key={f} value={f}>
                          {tEnumContacts('importField', f)}
                        </option>
                      ))}
                    </select>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {analysis.sample.map((r) => (
                <tr key={r.row_number} data-testid="sample-row">
                  <td className="muted">{r.row_number}</td>
                  {Array.from({ length: columns }, (_, i) => (
                    <td key={i} className="break">
                      {r.cells[i] ?? ''}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p className="field-error" role={invalid ? 'alert' : undefined} data-testid="import-mapping-invalid">
          {invalid}
        </p>
        <div className="form-actions">
          <button type="button" className="button-secondary" disabled={busy} onClick={() => start(true)} data-testid="import-dry-run">
            {t('contacts.import.dryRun')}
          </button>
          <button type="button" className="button-primary" disabled={busy} onClick={() => start(false)} data-testid="import-start">
            {t('contacts.import.start')}
          </button>
        </div>
        {error !== null && <ErrorMessage error={error} />}
      </section>
      {dryRunDone && (
        <section className="panel" aria-labelledby="dry-title" data-testid="import-dry-report">
          <h2 id="dry-title">{t('contacts.import.dryReport')}</h2>
          <Counts job={job} />
          <ErrorRows importId={job.id} />
        </section>
      )}
    </>
  );
}

function delimiterName(d: string, t: (k: 'contacts.import.delim.comma' | 'contacts.import.delim.semicolon' | 'contacts.import.delim.tab') => string): string {
  return d === ';' ? t('contacts.import.delim.semicolon') : d === '\t' ? t('contacts.import.delim.tab') : d === ',' ? t('contacts.import.delim.comma') : d;
}

function Counts({ job }: { job: ImportJob }) {
  const { t } = useContactsI18n();
  const c = job.counts;
  const rows: [string, number, string][] = [
    [t('contacts.import.count.total'), c.total_rows, 'total'],
    [t('contacts.import.count.processed'), c.processed_rows, 'processed'],
    [job.dry_run ? t('contacts.import.count.wouldCreate') : t('contacts.import.count.created'), c.created, 'created'],
    [t('contacts.import.count.duplicates'), c.duplicates, 'duplicates'],
    [t('contacts.import.count.invalid'), c.invalid, 'invalid'],
  ];
  return (
    <dl className="counts" data-testid="import-counts">
      {rows.map(([label, n, key]) => (
        <div key={key} className="count-cell" data-testid={`count-${key}`} data-value={n}>
          <dt>{label}</dt>
          <dd>{n.toLocaleString()}</dd>
        </div>
      ))}
    </dl>
  );
}

function ErrorRows({ importId }: { importId: string }) {
  const { t } = useContactsI18n();
  const [rows, setRows] = useState<{ items: ImportErrorRow[]; total: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const ctl = new AbortController();
    contactsApi.importErrors(importId, ctl.signal).then(setRows, (err: unknown) => !ctl.signal.aborted && setError(err));
    return () => ctl.abort();
  }, [importId]);
  if (error !== null) return <ErrorMessage error={error} />;
  if (!rows) return null;
  if (rows.total === 0) return <p className="muted">{t('contacts.import.noInvalid')}</p>;
  return (
    <>
      <h3>{t('contacts.import.invalidRows', { n: rows.total })}</h3>
      <table className="table compact" data-testid="import-errors">
        <thead>
          <tr>
            <th scope="col">{t('contacts.import.row')}</th>
            <th scope="col">{t('contacts.import.reason')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.items.map((r) => (
            <tr key={r.row_number} data-testid="import-error-row">
              <td>{r.row_number}</td>
              <td className="break">{r.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.total > rows.items.length && <p className="muted">{t('contacts.import.moreInvalid', { n: rows.total - rows.items.length })}</p>}
    </>
  );
}

function ProgressBar({ percent }: { percent: number }) {
  const { t } = useContactsI18n();
  const p = Math.max(0, Math.min(100, Math.round(percent)));
  return (
    <div className="progress-row">
      <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={p} aria-label={t('contacts.import.progress')} data-testid="import-progress" data-percent={p}>
        <div className="progress-fill" style={{ width: `${p}%` }} />
      </div>
      <span className="progress-label" aria-hidden="true" data-testid="import-percent">
        {p} %
      </span>
    </div>
  );
}

function Progress({ job, onUpdate }: { job: ImportJob; onUpdate: (j: ImportJob) => void }) {
  const { t } = useContactsI18n();
  const [error, setError] = useState<unknown>(null);
  const onUpdateRef = useRef(onUpdate);
  onUpdateRef.current = onUpdate;

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ctl = new AbortController();
    const poll = () => {
      contactsApi.getImport(job.id, ctl.signal).then(
        (j) => {
          if (stopped) return;
          setError(null);
          onUpdateRef.current(j);
          if (j.status === 'running') timer = setTimeout(poll, POLL_MS);
        },
        (err: unknown) => {
          if (stopped) return;
          setError(err);
          timer = setTimeout(poll, POLL_MS * 3);
        },
      );
    };
    timer = setTimeout(poll, POLL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
      ctl.abort();
    };
  }, [job.id]);

  const cancel = async () => {
    try {
      await contactsApi.cancelImport(job.id);
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section className="panel" aria-labelledby="progress-title" data-testid="import-running">
      <h2 id="progress-title">{job.dry_run ? t('contacts.import.dryRunning') : t('contacts.import.running')}</h2>
      <ProgressBar percent={job.percent} />
      <p className="muted" data-testid="import-rate">
        {t('contacts.import.rate', { rows: job.counts.processed_rows.toLocaleString(), total: job.counts.total_rows.toLocaleString(), rate: Math.round(job.rows_per_second).toLocaleString() })}
      </p>
      <Counts job={job} />
      <button type="button" className="button-secondary" onClick={cancel} data-testid="import-cancel">
        {t('contacts.import.cancel')}
      </button>
      {error !== null && <ErrorMessage error={error} />}
    </section>
  );
}

function Finished({ job }: { job: ImportJob }) {
  const { t, tEnumContacts, formatDateTime } = useContactsI18n();
  return (
    <section className="panel" aria-labelledby="done-title" data-testid="import-done" data-status={job.status}>
      <h2 id="done-title">
        {tEnumContacts('importStatus', job.status)}
        {job.finished_at && (
          <span className="muted">
            {' '}
            · <time dateTime={job.finished_at}>{formatDateTime(job.finished_at)}</time>
          </span>
        )}
      </h2>
      {job.status !== 'uploading' && <ProgressBar percent={job.status === 'done' ? 100 : job.percent} />}
      {job.error && (
        <p className="alert" role="alert" data-testid="import-failed">
          {job.error}
        </p>
      )}
      <Counts job={job} />
      {job.status === 'done' && job.rows_per_second > 0 && <p className="muted">{t('contacts.import.avgRate', { rate: Math.round(job.rows_per_second).toLocaleString() })}</p>}
      {job.counts.invalid > 0 && <ErrorRows importId={job.id} />}
      <p>
        <Link to="/bases?base=cold">{t('contacts.import.toCold')}</Link> · <Link to="/imports">{t('contacts.import.another')}</Link>
      </p>
    </section>
  );
}
