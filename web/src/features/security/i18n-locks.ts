/** Texts of the security settings: login locks (helper throttle). Keys `security.locks.*`; en must have exactly the ru keys. */
export const locksRu = {
  'security.locks.title': 'Locks',
};

export const locksEn: Record<keyof typeof locksRu, string> = {
  'security.locks.title': 'Locks',
};
