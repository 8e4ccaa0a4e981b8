/**
 * Click-to-call: a "Call" button beside a phone (request page, contact page). `POST /v1/calls` asks the
 * tenant's PBX to ring the user's own extension first, then the phone; the call panel (CallDock) shows it
 * from then on. One idempotency key per click, so a double click or a retried request places one call.
 */
import { useState } from 'react';
import { ApiError } from '../../api';
import { errorText } from '../../components/ErrorMessage';
import { useI18n } from '../../i18n';
import { callsApi } from './api';

/** `me`: hides the button without `calls:write` (absent: shown; the gateway's 403 then says why). */
export function CallButton({ phone, requestId, contactId, me }: { phone: string; requestId?: string; contactId?: string; me?: { scopes: readonly string[] } }) {
  const { t } = useI18n();
  const [state, setState] = useState<'idle' | 'calling' | 'placed'>('idle');
  const [error, setError] = useState('');
  if (!phone || (me && !me.scopes.includes('calls:write'))) return null;

  const call = async () => {
    if (state === 'calling') return;
    setState('calling');
    setError('');
    try {
      await callsApi.originate({ phone, request_id: requestId, contact_id: contactId }, crypto.randomUUID());
      setState('placed');
    } catch (err) {
      setState('idle');
      const noExtension = err instanceof ApiError && err.status === 409 && /extension/i.test(err.problem.detail ?? '');
      setError(noExtension ? t('telephony.call.noExtension') : t('telephony.call.failed', { detail: errorText(err, t) }));
    }
  };

  return (
    <span className="call-button">
      <button type="button" className="button-secondary" onClick={() => void call()} disabled={state === 'calling'} data-testid="call-button" data-phone={phone}>
        {state === 'calling' ? t('telephony.call.calling') : t('telephony.call.button')}
      </button>
      {state === 'placed' && (
        <span className="muted" role="status" data-testid="call-placed">
          {t('telephony.call.placed')}
        </span>
      )}
      {error && (
        <span className="field-error" role="alert" data-testid="call-error">
          {error}
        </span>
      )}
    </span>
  );
}
