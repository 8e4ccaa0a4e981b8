import type { Adapter } from '../types';
import { notYet } from '../not-yet';

/** The twilio adapter (being written: refuses everything until then). */
export const twilioAdapter: Adapter = notYet('twilio');
