import { DealServiceService } from '@crm/contracts/crm/funnel/v1/deals';
import type { MikroORM } from '@crm/db';
import { registration, type ServiceRegistration } from '@crm/grpc';
import { BoardService } from '../deals/board';
import { DealsService } from '../deals/deals.service';

export const DEAL_SERVICE_NAME = 'crm.funnel.v1.DealService';

/** crm.funnel.v1.DealService: translation only (the work is in ../deals/). */
export function dealsServer(orm: MikroORM): ServiceRegistration {
  const deals = new DealsService(orm);
  const board = new BoardService(orm);
  return registration(DEAL_SERVICE_NAME, DealServiceService, {
    createDeal: (req, ctx) => deals.create(ctx, req),
    getDeal: (req, ctx) => deals.get(ctx, req.id),
    listDeals: (req, ctx) => deals.list(ctx, req),
    updateDeal: async (req, ctx) => ({ deal: await deals.update(ctx, req) }),
    moveDeal: async (req, ctx) => ({ deal: await deals.move(ctx, req) }),
    reopenDeal: async (req, ctx) => ({ deal: await deals.reopen(ctx, req) }),
    setChecklistItem: async (req, ctx) => ({ deal: await deals.setChecklistItem(ctx, req) }),
    getDealHistory: (req, ctx) => deals.history(ctx, req.dealId),
    getBoard: (req, ctx) => board.board(ctx, req),
    listStageDeals: (req, ctx) => board.stageDeals(ctx, req),
    linkRequest: (req, ctx) => deals.linkRequest(ctx, req),
    listDealsOfRequest: (req, ctx) => deals.dealsOfRequest(ctx, req.requestId),
  });
}
