/** A contact's calls on the contact page (`GET /v1/calls?contact_id=`), newest first, recordings playable. */
import { useI18n } from '../../i18n';
import { CallList } from './CallList';

export function CallHistory({ contactId }: { contactId: string }) {
  const { t } = useI18n();
  return (
    <section className="panel" aria-labelledby="call-history-title" data-testid="call-history">
      <h2 id="call-history-title">{t('telephony.calls.history')}</h2>
      <CallList filters={{ contact_id: contactId }} limit={10} testId="contact-calls" />
    </section>
  );
}
