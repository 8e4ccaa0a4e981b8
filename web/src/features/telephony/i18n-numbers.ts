/** Texts of the telephony numbers pages (features/telephony): `telephony.numbers.*`. The English dictionary has exactly the Russian keys. */
export const numbersRu = {
  'telephony.numbers.title': 'numbers',
};

export const numbersEn: Record<keyof typeof numbersRu, string> = {
  'telephony.numbers.title': 'numbers',
};
