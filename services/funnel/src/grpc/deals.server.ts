import { DealServiceService } from '@crm/contracts/crm/funnel/v1/deals';
import type { MikroORM } from '@crm/db';
import { registration, type ServiceRegistration } from '@crm/grpc';

export const DEAL_SERVICE_NAME = 'crm.funnel.v1.DealService';

const todo = (): never => {
  throw new Error('not implemented yet');
};

/** crm.funnel.v1.DealService: translation only (the work is in ../deals/). */
export function dealsServer(_orm: MikroORM): ServiceRegistration {
  return registration(DEAL_SERVICE_NAME, DealServiceService, {
    createDeal: todo,
    getDeal: todo,
    listDeals: todo,
    updateDeal: todo,
    moveDeal: todo,
    reopenDeal: todo,
    setChecklistItem: todo,
    getDealHistory: todo,
    getBoard: todo,
    listStageDeals: todo,
    linkRequest: todo,
    listDealsOfRequest: todo,
  });
}
