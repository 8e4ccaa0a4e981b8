import type { Adapter } from '../types';
import { notYet } from '../not-yet';

/** The zadarma adapter (being written: refuses everything until then). */
export const zadarmaAdapter: Adapter = notYet('zadarma');
