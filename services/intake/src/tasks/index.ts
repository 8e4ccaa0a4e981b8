import type { Built } from '@crm/service';
import type { IntakeContext } from '../context';
import { tasksService } from '../grpc/tasks.server';
import { TasksService } from './tasks.service';

export { TasksService } from './tasks.service';

/** The tasks area: crm.intake.v1.TasksService (reminders run on the timers' runner). */
export function tasksParts(ctx: IntakeContext): Partial<Built> {
  const tasks = new TasksService(ctx.orm, ctx.team, ctx.logger, ctx.contacts);
  return { grpc: [tasksService(tasks)] };
}
