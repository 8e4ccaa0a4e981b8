/** Calls and the missed-calls view (being written). */
import type { Me } from '../../api';

export function CallsPage({ me }: { me: Me }) {
  void me;
  return <h1>Calls</h1>;
}
