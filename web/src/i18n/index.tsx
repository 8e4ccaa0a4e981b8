/**
 * Two languages, one dictionary file each. The language is, in order: the one the user picked (kept in
 * localStorage), the tenant's locale once logged in, the browser's language, Russian.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { ChannelName, RequestStateName } from '../api';
import { formatInZone } from '../time';
import { en } from './en';
import { ru, type Dictionary, type MessageKey } from './ru';

export type Locale = 'ru' | 'en';
export const LOCALES: readonly Locale[] = ['ru', 'en'];
const DICTIONARIES: Record<Locale, Dictionary> = { ru, en };
const STORAGE_KEY = 'crm.locale';

// Every state and channel the API speaks has a label in the dictionary (a compile error otherwise).
const _statesLabelled: Record<`state.${RequestStateName}` | `channel.${ChannelName}`, string> = ru;
void _statesLabelled;

export type Vars = Record<string, string | number>;
export type Translate = (key: MessageKey, vars?: Vars) => string;

/** The kinds of enum value the UI shows, each with its dictionary prefix. */
export type EnumKind = 'state' | 'channel' | 'number' | 'meaning' | 'contact' | 'qualification';

function format(text: string, vars?: Vars): string {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

function isLocale(v: unknown): v is Locale {
  return v === 'ru' || v === 'en';
}

function storedLocale(): Locale | null {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return isLocale(v) ? v : null;
  } catch {
    return null;
  }
}

function browserLocale(): Locale {
  const langs = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const l of langs) {
    const base = (l ?? '').slice(0, 2).toLowerCase();
    if (isLocale(base)) return base;
  }
  return 'ru';
}

interface I18n {
  locale: Locale;
  t: Translate;
  /** An enum value's label; an unknown value is shown as it is. */
  tEnum: (kind: EnumKind, value: string) => string;
  /** The user's choice: applied and remembered. */
  chooseLocale: (l: Locale) => void;
  /** The tenant's locale: applied unless the user has chosen one. */
  applyTenantLocale: (l: string) => void;
  /** The tenant's IANA time zone ('' until logged in: the browser's own zone is used). */
  timeZone: string;
  /** The tenant's time zone, from `GET /v1/me`: every time is shown in it from then on. */
  applyTenantTimeZone: (zone: string) => void;
  /** Date and time in the tenant's time zone (`short`: numeric date, for tables). */
  formatDateTime: (iso: string, style?: 'short' | 'medium') => string;
}

const Ctx = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [locale, setLocale] = useState<Locale>(() => storedLocale() ?? browserLocale());
  const [timeZone, applyTenantTimeZone] = useState('');

  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);

  const chooseLocale = useCallback((l: Locale) => {
    setLocale(l);
    try {
      localStorage.setItem(STORAGE_KEY, l);
    } catch {
      // Private mode or storage disabled: the choice lasts for this page only.
    }
  }, []);

  const applyTenantLocale = useCallback((l: string) => {
    if (storedLocale() === null && isLocale(l)) setLocale(l);
  }, []);

  const value = useMemo<I18n>(() => {
    const dict = DICTIONARIES[locale];
    const t: Translate = (key, vars) => format(dict[key] ?? key, vars);
    return {
      locale,
      t,
      tEnum: (kind, value) => {
        const key = `${kind}.${value}`;
        return key in dict ? dict[key as MessageKey] : value;
      },
      chooseLocale,
      applyTenantLocale,
      timeZone,
      applyTenantTimeZone,
      formatDateTime: (iso, style = 'medium') => formatInZone(iso, timeZone, locale, style),
    };
  }, [locale, chooseLocale, applyTenantLocale, timeZone]);

  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}

export type { MessageKey };
