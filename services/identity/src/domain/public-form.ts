import type { Violations } from './validation';

/**
 * A public form's settings as identity stores them: its own incoming field names per target (matched
 * case-insensitively, tried before the gateway's built-in defaults) and the thank-you URL a browser is
 * sent to after a plain HTML form post. Pure checks, no I/O.
 */
export interface StoredFieldMapping {
  name: string[];
  phone: string[];
  email: string[];
  message: string[];
}

export const MAPPING_TARGETS = ['name', 'phone', 'email', 'message'] as const;
export const FIELD_NAME_MAX = 100;
export const FIELD_NAMES_PER_TARGET_MAX = 20;
export const THANK_YOU_URL_MAX = 2000;

export function emptyMapping(): StoredFieldMapping {
  return { name: [], phone: [], email: [], message: [] };
}

/** A stored mapping with every target present (a jsonb value may lack one). */
export function completeMapping(m: Partial<StoredFieldMapping> | null | undefined): StoredFieldMapping {
  return { name: m?.name ?? [], phone: m?.phone ?? [], email: m?.email ?? [], message: m?.message ?? [] };
}

/**
 * Trims every name, drops case-insensitive duplicates within a target, and records a violation for an
 * empty, too long or control-character name, too many names, or a name claimed by two targets.
 */
export function checkFieldMapping(v: Violations, field: string, input: Partial<StoredFieldMapping> | undefined): StoredFieldMapping {
  const out = emptyMapping();
  if (!input) return out;
  const owner = new Map<string, string>();
  for (const target of MAPPING_TARGETS) {
    const names = input[target] ?? [];
    const at = `${field}.${target}`;
    if (names.length > FIELD_NAMES_PER_TARGET_MAX) {
      v.add(at, `must have at most ${FIELD_NAMES_PER_TARGET_MAX} names`);
      continue;
    }
    const seen = new Set<string>();
    for (const raw of names) {
      const name = raw.trim();
      const length = [...name].length;
      if (length === 0) v.add(at, 'must not contain an empty name');
      else if (length > FIELD_NAME_MAX) v.add(at, `names must be at most ${FIELD_NAME_MAX} characters`);
      else if (/\p{Cc}/u.test(name)) v.add(at, 'names must not contain control characters');
      else {
        const key = name.toLowerCase();
        if (seen.has(key)) continue;
        const other = owner.get(key);
        if (other && other !== target) {
          v.add(at, `"${name}" is already mapped to ${other}`);
          continue;
        }
        seen.add(key);
        owner.set(key, target);
        out[target].push(name);
      }
    }
  }
  return out;
}

/** Empty means none (the built-in thank-you page); otherwise an absolute http(s) URL of at most 2000 characters. */
export function checkThankYouUrl(v: Violations, field: string, value: string | undefined): string | null {
  const url = (value ?? '').trim();
  if (url === '') return null;
  if (url.length > THANK_YOU_URL_MAX) {
    v.add(field, `must be at most ${THANK_YOU_URL_MAX} characters`);
    return null;
  }
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hostname === '' || /[\s\p{Cc}]/u.test(url)) {
    v.add(field, 'must be an absolute http(s) URL');
    return null;
  }
  return url;
}
