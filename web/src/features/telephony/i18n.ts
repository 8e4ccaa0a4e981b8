/** Telephony's texts, merged into the app's dictionaries (web/src/i18n). */
import { callsEn, callsRu } from './i18n-calls';
import { connectionsEn, connectionsRu } from './i18n-connections';
import { numbersEn, numbersRu } from './i18n-numbers';

export const telephonyRu = { ...numbersRu, ...connectionsRu, ...callsRu };

export const telephonyEn: Record<keyof typeof telephonyRu, string> = { ...numbersEn, ...connectionsEn, ...callsEn };
