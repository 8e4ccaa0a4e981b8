/** The board's and the deal page's texts (features/funnel). */
export const boardRu = {
  'funnel.nav.deals': 'Сделки',
};

export const boardEn: Record<keyof typeof boardRu, string> = {
  'funnel.nav.deals': 'Deals',
};
