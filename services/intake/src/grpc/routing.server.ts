import { RoutingServiceService } from '@crm/contracts/crm/intake/v1/routing';
import { registration, type ServiceRegistration } from '@crm/grpc';
import type { Problem } from '../routing/validate';
import type { RoutingService } from '../routing/routing.service';

const toProtoProblem = (p: Problem) => ({ ruleId: p.ruleId, ruleIndex: p.ruleIndex, code: p.code, message: p.message });

/** crm.intake.v1.RoutingService: handlers only translate; the rules live in routing/. */
export function routingService(routing: RoutingService): ServiceRegistration {
  return registration('crm.intake.v1.RoutingService', RoutingServiceService, {
    saveDraft: async (req, ctx) => {
      const { version, problems } = await routing.saveDraft(ctx, req);
      return { version, problems: problems.map(toProtoProblem) };
    },
    getRoutingVersion: async (req, ctx) => ({ version: await routing.getVersion(ctx.tenantId, req.version) }),
    listRoutingVersions: async (req, ctx) => ({ versions: await routing.listVersions(ctx.tenantId, req.pageSize) }),
    validateRouting: async (req, ctx) => ({ problems: (await routing.validate(ctx.tenantId, req.version)).map(toProtoProblem) }),
    publishRouting: async (req, ctx) => ({ version: await routing.publish(ctx, req.version, req.expectedPublishedVersion) }),
    simulateRoute: async (req, ctx) => ({ decision: await routing.simulate(ctx, req) }),
    decideRoute: async (req, ctx) => ({ decision: await routing.decideLive(ctx, req.input) }),
  });
}
