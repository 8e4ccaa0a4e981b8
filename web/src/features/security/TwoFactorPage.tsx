import type { Me } from '../../api';
import { useI18n } from '../../i18n';
import { SettingsFrame } from '../settings/common';

/** OWNER: helper "mfa" (issue 16). */
export function TwoFactorPage({ me }: { me: Me }) {
  const { t } = useI18n();
  return (
    <SettingsFrame me={me} title={t('security.mfa.title')} testId="two-factor-page">
      <p />
    </SettingsFrame>
  );
}
