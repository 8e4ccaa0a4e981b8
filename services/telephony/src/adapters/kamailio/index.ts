import type { Adapter } from '../types';
import { notYet } from '../not-yet';

/** The kamailio adapter (being written: refuses everything until then). */
export const kamailioAdapter: Adapter = notYet('kamailio');
