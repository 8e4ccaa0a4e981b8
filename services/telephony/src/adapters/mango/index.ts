import type { Adapter } from '../types';
import { notYet } from '../not-yet';

/** The mango adapter (being written: refuses everything until then). */
export const mangoAdapter: Adapter = notYet('mango');
