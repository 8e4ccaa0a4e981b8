/** The funnel's texts, merged into the app's dictionaries (web/src/i18n). */
import { boardEn, boardRu } from './i18n-board';
import { editorEn, editorRu } from './i18n-editor';

export const funnelRu = { ...boardRu, ...editorRu };

export const funnelEn: Record<keyof typeof funnelRu, string> = { ...boardEn, ...editorEn };
