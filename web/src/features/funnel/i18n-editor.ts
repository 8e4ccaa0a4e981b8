/** The pipeline editor's and the convert/attach dialogs' texts (features/funnel). */
export const editorRu = {
  'funnel.nav.pipelines': 'Воронки',
};

export const editorEn: Record<keyof typeof editorRu, string> = {
  'funnel.nav.pipelines': 'Pipelines',
};
