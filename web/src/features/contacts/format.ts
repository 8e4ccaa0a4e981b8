/** Pure formatting of contacts data (no React), unit-tested under Node. */
import type { ContactPoint } from './api';

/** A point as a person reads it: `telegram:ivan` becomes `ivan` (the network is shown beside it). */
export function pointText(p: Pick<ContactPoint, 'type' | 'value' | 'network'>): string {
  if (p.type !== 'social') return p.value;
  const prefix = `${p.network}:`;
  return p.network && p.value.startsWith(prefix) ? p.value.slice(prefix.length) : p.value;
}
