import { escapeLike } from './search';

/**
 * `same_name_similar_point` (documented in services/contacts/README.md): after CreateContact or
 * AddContactPoint, another (not merged) contact with the same search name and
 *   - a phone of the same length whose digits differ only in the last two, or
 *   - an e-mail with the same local part (before the @) at another domain
 * is recorded as a probable duplicate. Deliberately simple: no fuzzy names, no edit distances.
 */
export interface SimilarPatterns {
  /** `LIKE` patterns for contact_points.digits (phones): the digits with the last two as `_`. */
  phoneDigits: string[];
  /** `LIKE` patterns for contact_points.value (e-mails): `local@%`. */
  emails: string[];
}

export const SIMILAR_TAIL = 2;

export function similarPatterns(points: { type: string; value: string; digits: string | null }[]): SimilarPatterns {
  const phoneDigits: string[] = [];
  const emails: string[] = [];
  for (const p of points) {
    if (p.type === 'phone' && p.digits && p.digits.length > SIMILAR_TAIL + 4) phoneDigits.push(`${p.digits.slice(0, -SIMILAR_TAIL)}${'_'.repeat(SIMILAR_TAIL)}`);
    if (p.type === 'email') {
      const at = p.value.lastIndexOf('@');
      if (at > 0) emails.push(`${escapeLike(p.value.slice(0, at))}@%`);
    }
  }
  return { phoneDigits, emails };
}
