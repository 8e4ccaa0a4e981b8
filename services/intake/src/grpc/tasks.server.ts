import { TasksServiceService } from '@crm/contracts/crm/intake/v1/tasks';
import { registration, type ServiceRegistration } from '@crm/grpc';
import { toProtoTask } from '../tasks/task-row';
import type { TasksService } from '../tasks/tasks.service';

/** crm.intake.v1.TasksService: handlers only translate; the rules live in TasksService. */
export function tasksService(tasks: TasksService): ServiceRegistration {
  return registration('crm.intake.v1.TasksService', TasksServiceService, {
    createTask: async (req, ctx) => {
      const { task, replayed } = await tasks.create(ctx, req);
      return { task: toProtoTask(task), replayed };
    },
    updateTask: async (req, ctx) => ({ task: toProtoTask(await tasks.update(ctx, req)) }),
    completeTask: async (req, ctx) => ({ task: toProtoTask(await tasks.complete(ctx, req)) }),
    deleteTask: async (req, ctx) => {
      await tasks.delete(ctx, req.id);
      return {};
    },
    getTask: async (req, ctx) => ({ task: toProtoTask(await tasks.get(ctx, req.id)) }),
    listTasks: async (req, ctx) => {
      const page = await tasks.list(ctx, req);
      const now = new Date();
      return { tasks: page.tasks.map((t) => toProtoTask(t, now)), nextCursor: page.nextCursor };
    },
  });
}
