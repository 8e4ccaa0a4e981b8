/** Texts of the security settings: two-factor sign-in and the policy (helper mfa). Keys `security.mfa.*`; en must have exactly the ru keys. */
export const mfaRu = {
  'security.mfa.title': 'Mfa',
};

export const mfaEn: Record<keyof typeof mfaRu, string> = {
  'security.mfa.title': 'Mfa',
};
