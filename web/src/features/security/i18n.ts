/** The security settings' texts, merged into the app's dictionaries (web/src/i18n). */
import { locksEn, locksRu } from './i18n-locks';
import { mfaEn, mfaRu } from './i18n-mfa';
import { sessionsEn, sessionsRu } from './i18n-sessions';

export const securityRu = {
  'security.nav.security': 'Безопасность входа',
  'security.nav.sessions': 'Мои сеансы',
  'security.nav.twoFactor': 'Двухфакторный вход',
  ...locksRu,
  ...sessionsRu,
  ...mfaRu,
};

export const securityEn: Record<keyof typeof securityRu, string> = {
  'security.nav.security': 'Sign-in security',
  'security.nav.sessions': 'My sessions',
  'security.nav.twoFactor': 'Two-factor sign-in',
  ...locksEn,
  ...sessionsEn,
  ...mfaEn,
};
