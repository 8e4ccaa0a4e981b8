/** A two-way table between an enum's wire values and the API's words (UNSPECIFIED has no word). */
export function words<E extends number>(pairs: [E, string][]) {
  const toWord = new Map<number, string>(pairs);
  const toWire = new Map<string, E>(pairs.map(([e, w]) => [w, e]));
  return {
    words: pairs.map(([, w]) => w),
    out: (e: number): string => toWord.get(e) ?? 'unspecified',
    in: (w: string): E => toWire.get(w) ?? (0 as E),
  };
}
