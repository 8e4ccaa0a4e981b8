/** Texts of the telephony calls pages (features/telephony): `telephony.calls.*`. The English dictionary has exactly the Russian keys. */
export const callsRu = {
  'telephony.calls.title': 'calls',
};

export const callsEn: Record<keyof typeof callsRu, string> = {
  'telephony.calls.title': 'calls',
};
