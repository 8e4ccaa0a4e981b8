import { baseServiceEnv } from '@crm/service';

/** identity reads only the standard service environment (see README.md). */
export const identityEnv = baseServiceEnv;
export type IdentityEnv = typeof identityEnv._output;
