import { baseServiceEnv } from '@crm/service';

/** The environment of funnel: the standard service variables (README.md); add its own with `.extend({...})`. */
export const funnelEnv = baseServiceEnv;
export type FunnelEnv = typeof funnelEnv._output;
