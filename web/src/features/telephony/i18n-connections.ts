/** Texts of the telephony connections pages (features/telephony): `telephony.connections.*`. The English dictionary has exactly the Russian keys. */
export const connectionsRu = {
  'telephony.connections.title': 'connections',
};

export const connectionsEn: Record<keyof typeof connectionsRu, string> = {
  'telephony.connections.title': 'connections',
};
