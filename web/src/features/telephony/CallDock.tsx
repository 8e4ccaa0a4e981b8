/** The shell's call panel: the screen pop on ringing, the current call, click-to-call (being written). */
import type { Me } from '../../api';

export function CallDock({ me }: { me: Me }) {
  void me;
  return null;
}
