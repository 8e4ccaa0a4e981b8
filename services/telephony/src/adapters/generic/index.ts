import type { Adapter } from '../types';
import { notYet } from '../not-yet';

/** The generic adapter (being written: refuses everything until then). */
export const genericAdapter: Adapter = notYet('generic');
