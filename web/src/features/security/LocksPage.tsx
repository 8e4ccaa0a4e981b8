import type { Me } from '../../api';
import { useI18n } from '../../i18n';
import { SettingsFrame } from '../settings/common';

/** OWNER: helper "locks" (issue 16). */
export function LocksPage({ me }: { me: Me }) {
  const { t } = useI18n();
  return (
    <SettingsFrame me={me} title={t('security.locks.title')} testId="security-page">
      <p />
    </SettingsFrame>
  );
}
