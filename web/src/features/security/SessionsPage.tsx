import type { Me } from '../../api';
import { useI18n } from '../../i18n';
import { SettingsFrame } from '../settings/common';

/** OWNER: helper "sessions" (issue 16). */
export function SessionsPage({ me }: { me: Me }) {
  const { t } = useI18n();
  return (
    <SettingsFrame me={me} title={t('security.sessions.title')} testId="sessions-page">
      <p />
    </SettingsFrame>
  );
}
