import type { Built } from '@crm/service';
import type { IntakeContext } from '../context';
import { routingService } from '../grpc/routing.server';

/**
 * The routing area: crm.intake.v1.RoutingService over the RoutingService that RequestsService also
 * routes new requests with (made in app.ts, reached through ctx.requests.routing).
 */
export function routingParts(ctx: IntakeContext): Partial<Built> {
  const routing = ctx.requests.routing;
  if (!routing) return {};
  return { grpc: [routingService(routing)], close: async () => routing.close() };
}
