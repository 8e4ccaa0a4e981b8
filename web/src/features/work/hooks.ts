/** What the work pages share: the team directory for the pickers, drafts kept in sessionStorage. */
import { useCallback, useEffect, useState } from 'react';
import { workApi, type Department, type Project, type TeamUser } from './api';

export interface Directory {
  users: TeamUser[];
  departments: Department[];
  projects: Project[];
  /** Re-read (after a change elsewhere). */
  refresh: () => void;
}

let cached: Promise<Omit<Directory, 'refresh'>> | null = null;

function load(): Promise<Omit<Directory, 'refresh'>> {
  // Each list on its own: a credential without team:read still gets the pages (ids shown instead of names).
  const safe = <T,>(p: Promise<T[]>) => p.catch(() => [] as T[]);
  cached ??= Promise.all([safe(workApi.listUsers()), safe(workApi.listDepartments()), safe(workApi.listProjects())]).then(([users, departments, projects]) => ({
    users,
    departments,
    projects,
  }));
  return cached;
}

/** Users, departments and projects of the tenant (read once per page load, shared by every page). */
export function useDirectory(): Directory {
  const [data, setData] = useState<Omit<Directory, 'refresh'>>({ users: [], departments: [], projects: [] });
  const [gen, setGen] = useState(0);
  useEffect(() => {
    let live = true;
    load().then((d) => live && setData(d));
    return () => {
      live = false;
    };
  }, [gen]);
  const refresh = useCallback(() => {
    cached = null;
    setGen((n) => n + 1);
  }, []);
  return { ...data, refresh };
}

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

/**
 * A form value kept as a draft in sessionStorage under `crm.draft.<key>`, so a reload does not lose
 * what was typed. `clear` after the form was sent.
 */
export function useDraft<T>(key: string, initial: T): [T, (v: T) => void, () => void] {
  const storageKey = `crm.draft.${key}`;
  const [value, setValue] = useState<T>(() => {
    const raw = storage()?.getItem(storageKey);
    if (raw == null) return initial;
    try {
      return JSON.parse(raw) as T;
    } catch {
      return initial;
    }
  });
  const set = useCallback(
    (v: T) => {
      setValue(v);
      try {
        storage()?.setItem(storageKey, JSON.stringify(v));
      } catch {
        // Storage full or disabled: the draft lasts for this page only.
      }
    },
    [storageKey],
  );
  const clear = useCallback(() => {
    setValue(initial);
    storage()?.removeItem(storageKey);
    // `initial` is a literal of the caller's; only the key matters.
  }, [storageKey]);
  return [value, set, clear];
}

/** A value that settles `ms` after its last change (the simulator follows the editor with it). */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/** An idempotency key per form submission. */
export function newKey(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

/** `datetime-local` value (wall clock of the tenant's zone) ↔ ISO instant. */
export { localInputToIso, isoToLocalInput } from './time-input';
