/** Numbers and DNI pools (being written). */
import type { Me } from '../../api';

export function NumbersPage({ me }: { me: Me }) {
  void me;
  return <h1>Numbers</h1>;
}
