import type { Built } from '@crm/service';
import type { IntakeContext } from '../context';
import { workflowService } from '../grpc/workflow.server';
import { WorkflowService } from './workflow.service';

export { WorkflowService } from './workflow.service';

/** The workflow area: crm.intake.v1.WorkflowService (lifecycle, assignment, axes, history, bulk, counters, my work, views). */
export function workflowParts(ctx: IntakeContext): Partial<Built> {
  const workflow = new WorkflowService(ctx.orm, ctx.team, ctx.env.INTAKE_DEFAULT_COUNTRY, ctx.logger);
  return { grpc: [workflowService(workflow)] };
}
