/**
 * "Convert into a deal" for one request (the request page and the journal's rows): a pipeline (not
 * archived; the first by default), the title made from the request (who and through which channel), an
 * amount typed in major units (digits, at most two decimals — sent as integer minor units) in the
 * pipeline's currency. Submit → `POST /v1/requests/{id}/convert` (exactly once on the server: a retry or
 * a double click gets the same deal; the button is disabled while the call is out anyway) → the deal page.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { CrmRequest } from '../../api';
import { errorText } from '../../components/ErrorMessage';
import { useI18n } from '../../i18n';
import { Link, navigate } from '../../router';
import { Dialog } from './Dialog';
import { editorApi, type DealSummary, type Pipeline } from './editor-api';
import { fractionDigits, parseAmount } from './editor-model';

export const TITLE_MAX = 200;

export function ConvertDialog({
  request: r,
  onClose,
  onConverted,
}: {
  request: CrmRequest;
  onClose: () => void;
  /** Instead of opening the deal page (the default). */
  onConverted?: (deal: DealSummary, request: CrmRequest) => void;
}) {
  const { t, tEnum } = useI18n();
  const [pipelines, setPipelines] = useState<Pipeline[] | null>(null);
  const [pipelineId, setPipelineId] = useState('');
  const who = r.name || r.phone || r.email;
  const [title, setTitle] = useState(() => (who ? t('funnel.convert.defaultTitle', { who, channel: tEnum('channel', r.channel) }) : tEnum('channel', r.channel)).slice(0, TITLE_MAX));
  const [amount, setAmount] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const pending = useRef(false);

  useEffect(() => {
    const ctl = new AbortController();
    editorApi.listPipelines(false, ctl.signal).then(
      (list) => {
        const open = list.filter((p) => !p.archived);
        setPipelines(open);
        setPipelineId((cur) => cur || open[0]?.id || '');
      },
      (err: unknown) => !ctl.signal.aborted && setError(errorText(err, t)),
    );
    return () => ctl.abort();
  }, [t]);

  const pipeline = pipelines?.find((p) => p.id === pipelineId);
  const currency = pipeline?.default_currency || 'RUB';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (pending.current) return;
    if (!pipeline) return setError(t('funnel.convert.pipelineRequired'));
    if (!title.trim()) return setError(t('funnel.convert.titleRequired'));
    const parsed = parseAmount(amount, fractionDigits(currency));
    if (!parsed.ok) return setError(t(`funnel.convert.amount.${parsed.error}`, { digits: fractionDigits(currency) }));
    setError('');
    pending.current = true;
    setBusy(true);
    try {
      const answer = await editorApi.convert(r.id, {
        pipeline_id: pipeline.id,
        title: title.trim(),
        ...(parsed.minor !== undefined ? { amount_minor: parsed.minor, currency } : {}),
      });
      if (onConverted) onConverted(answer.deal, answer.request);
      else navigate(`/deals/${answer.deal.id}`);
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      pending.current = false;
      setBusy(false);
    }
  };

  return (
    <Dialog title={t('funnel.convert.title')} testId="convert-dialog" onClose={onClose}>
      <form className="dialog-form" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor="convert-pipeline">{t('funnel.convert.pipeline')}</label>
          <select id="convert-pipeline" value={pipelineId} disabled={!pipelines?.length} data-testid="convert-pipeline" onChange={(e) => setPipelineId(e.target.value)}>
            {pipelines === null && <option value="">{t('app.loading')}</option>}
            {pipelines?.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
          {pipelines?.length === 0 && (
            <p className="hint" data-testid="convert-no-pipelines">
              {t('funnel.convert.noPipelines')} <Link to="/pipelines">{t('funnel.nav.pipelines')}</Link>
            </p>
          )}
        </div>
        <div className="field">
          <label htmlFor="convert-title">{t('funnel.convert.dealTitle')}</label>
          <input id="convert-title" type="text" value={title} maxLength={TITLE_MAX} data-testid="convert-title" onChange={(e) => setTitle(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="convert-amount">{t('funnel.convert.amountLabel', { currency })}</label>
          <input id="convert-amount" type="text" inputMode="decimal" value={amount} placeholder="150000,00" autoComplete="off" data-testid="convert-amount" onChange={(e) => setAmount(e.target.value)} />
          <span className="hint">{t('funnel.convert.amountHint')}</span>
        </div>
        {error && (
          <p className="field-error" role="alert" data-testid="convert-error">
            {error}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="button-primary" disabled={busy || !pipeline} data-testid="convert-submit">
            {busy ? t('funnel.convert.busy') : t('funnel.convert.submit')}
          </button>
          <button type="button" className="button-secondary" onClick={onClose}>
            {t('funnel.convert.cancel')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
