/** Provider connections and extensions (being written). */
import type { Me } from '../../api';

export function ConnectionsPage({ me }: { me: Me }) {
  void me;
  return <h1>Connections</h1>;
}
