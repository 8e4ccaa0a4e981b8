/** Texts of the security settings: sessions (helper sessions). Keys `security.sessions.*`; en must have exactly the ru keys. */
export const sessionsRu = {
  'security.sessions.title': 'Sessions',
};

export const sessionsEn: Record<keyof typeof sessionsRu, string> = {
  'security.sessions.title': 'Sessions',
};
