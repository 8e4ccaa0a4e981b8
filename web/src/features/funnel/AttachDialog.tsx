/**
 * "Attach to a deal" for one request: search the open deals (`GET /v1/deals?q=&state=open`, 300 ms after
 * the last keystroke) or pick the client card of the request's contact; submit →
 * `POST /v1/requests/{id}/attach` with the deal or the card. The request comes back `attached`.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { CrmRequest } from '../../api';
import { errorText } from '../../components/ErrorMessage';
import { useI18n } from '../../i18n';
import { Dialog } from './Dialog';
import { editorApi, type ClientCardSummary, type DealSummary } from './editor-api';
import { formatAmount } from './editor-model';

const SEARCH_DEBOUNCE_MS = 300;

type Choice = { kind: 'deal'; id: string } | { kind: 'card'; id: string } | null;

export function AttachDialog({
  request: r,
  onClose,
  onAttached,
}: {
  request: CrmRequest;
  onClose: () => void;
  onAttached: (answer: { request: CrmRequest; deal: DealSummary | null }) => void;
}) {
  const { t, locale } = useI18n();
  const [q, setQ] = useState('');
  const [deals, setDeals] = useState<DealSummary[] | null>(null);
  const [cards, setCards] = useState<ClientCardSummary[]>([]);
  const [choice, setChoice] = useState<Choice>(null);
  const [searchError, setSearchError] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const pending = useRef(false);

  useEffect(() => {
    const ctl = new AbortController();
    const timer = setTimeout(() => {
      editorApi.searchOpenDeals(q.trim(), ctl.signal).then(
        (list) => {
          setDeals(list);
          setSearchError('');
        },
        (err: unknown) => !ctl.signal.aborted && setSearchError(errorText(err, t)),
      );
    }, SEARCH_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
  }, [q, t]);

  useEffect(() => {
    if (!r.contact_id) return;
    const ctl = new AbortController();
    editorApi.cardsOfContact(r.contact_id, ctl.signal).then(setCards, () => setCards([]));
    return () => ctl.abort();
  }, [r.contact_id]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (pending.current) return;
    if (!choice) return setError(t('funnel.attach.required'));
    setError('');
    pending.current = true;
    setBusy(true);
    try {
      onAttached(await editorApi.attach(r.id, choice.kind === 'deal' ? { deal_id: choice.id } : { client_card_id: choice.id }));
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      pending.current = false;
      setBusy(false);
    }
  };

  const picked = (kind: 'deal' | 'card', id: string) => choice?.kind === kind && choice.id === id;

  return (
    <Dialog title={t('funnel.attach.title')} testId="attach-dialog" onClose={onClose}>
      <form className="dialog-form" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor="attach-search">{t('funnel.attach.search')}</label>
          <input id="attach-search" type="search" value={q} maxLength={200} placeholder={t('funnel.attach.searchPlaceholder')} data-testid="attach-deal-search" onChange={(e) => setQ(e.target.value)} />
        </div>
        <fieldset className="checkboxes attach-options">
          <legend>{t('funnel.attach.deals')}</legend>
          {deals === null && !searchError && <p className="muted">{t('app.loading')}</p>}
          {searchError && <p className="field-error">{searchError}</p>}
          {deals?.length === 0 && (
            <p className="muted" data-testid="attach-no-deals">
              {t('funnel.attach.noDeals')}
            </p>
          )}
          {deals?.map((d) => (
            <label key={d.id} className="check attach-option" data-testid="attach-deal-option" data-deal-id={d.id}>
              <input type="radio" name="attach-target" checked={picked('deal', d.id)} onChange={() => setChoice({ kind: 'deal', id: d.id })} />
              <span>
                <strong>{d.title}</strong> <span className="muted">· {d.stage_name || d.stage}</span>
                {d.amount_minor > 0 && <span className="muted"> · {formatAmount(d.amount_minor, d.currency, locale)}</span>}
              </span>
            </label>
          ))}
        </fieldset>
        {cards.length > 0 && (
          <fieldset className="checkboxes attach-options">
            <legend>{t('funnel.attach.cards')}</legend>
            {cards.map((c) => (
              <label key={c.id} className="check attach-option" data-testid="attach-card-option" data-card-id={c.id}>
                <input type="radio" name="attach-target" checked={picked('card', c.id)} onChange={() => setChoice({ kind: 'card', id: c.id })} />
                <span>{t('funnel.attach.card', { name: c.display_name || t('journal.noName') })}</span>
              </label>
            ))}
          </fieldset>
        )}
        {error && (
          <p className="field-error" role="alert" data-testid="attach-error">
            {error}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="button-primary" disabled={busy || !choice} data-testid="attach-submit">
            {busy ? t('funnel.attach.busy') : t('funnel.attach.submit')}
          </button>
          <button type="button" className="button-secondary" onClick={onClose}>
            {t('funnel.convert.cancel')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
