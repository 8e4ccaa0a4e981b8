import type { Built } from '@crm/service';
import type { IntakeContext } from '../context';

/** What the workflow area adds to intake (gRPC services, consumers, workers). Filled by its implementation. */
export function workflowParts(_ctx: IntakeContext): Partial<Built> {
  return {};
}
