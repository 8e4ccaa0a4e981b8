import { DomainError } from '@crm/errors';

/** A placeholder handler while an area is being written (FAILED_PRECONDITION `not_implemented`). */
export const notYet = (what: string) => async (): Promise<never> => {
  throw new DomainError('FAILED_PRECONDITION', `${what} is not implemented yet`, { details: { reason: 'not_implemented' } });
};
