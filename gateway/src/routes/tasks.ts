import { UpdateTaskRequest } from '@crm/contracts/crm/intake/v1/tasks';
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth';
import type { GatewayDeps } from '../deps';
import { AUTHENTICATED, idParam, json, problems, uuid, WITH_BODY } from '../schemas';
import { etag, expectedVersion, taskOut } from '../work-mappers';
import { ifMatchHeaders } from '../work-schemas';
import { createdHeaders, idempotencyHeaders, idempotencyKey } from './contacts';
import { utc } from './work';

interface TaskQuery {
  assignee?: string;
  status?: string;
  request_id?: string;
  due_before?: string;
  overdue?: boolean;
  limit?: number;
  cursor?: string;
}

interface CreateTaskBody {
  title: string;
  note?: string;
  due_at: string;
  remind_before_minutes?: number;
  assignee_id?: string;
  request_id?: string;
  contact_id?: string;
  deal_id?: string;
}

interface UpdateTaskBody {
  title?: string;
  note?: string;
  due_at?: string;
  remind_before_minutes?: number;
  assignee_id?: string;
  expected_version?: number;
}

const taskEtag = { etag: { type: 'string', description: "The task's `version`, quoted: send it back as `If-Match`" } };

/**
 * Follow-up tasks (intake's TasksService): a seller's to-dos with a due time and a reminder, linked to a
 * request, a contact or a deal. `tasks:read` / `tasks:write`; intake decides whose tasks a caller may see.
 */
export async function tasksRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { clients } = deps;

  app.get<{ Querystring: TaskQuery }>(
    '/v1/tasks',
    {
      schema: {
        tags: ['tasks'],
        operationId: 'listTasks',
        summary: 'Tasks: open first by due time, then done newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            assignee: { anyOf: [uuid, { type: 'string', enum: ['me', 'any'] }], default: 'me', description: '`me` (default), `any` (everyone you may see) or a user id' },
            status: { type: 'string', enum: ['open', 'done', 'all'], default: 'open' },
            request_id: { ...uuid, description: "Only this request's tasks" },
            due_before: { type: 'string', format: 'date-time', description: 'Due before (exclusive)' },
            overdue: { type: 'boolean', description: 'Only open tasks past their due time' },
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
            cursor: { type: 'string', minLength: 1, maxLength: 500, pattern: '^[A-Za-z0-9_-]+$', description: 'The next_cursor of the previous page, unchanged' },
          },
        },
        response: { 200: json('A page of tasks', { $ref: 'TaskPage#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'tasks:read');
      const q = req.query;
      const res = await clients.tasks.listTasks(
        {
          assigneeId: !q.assignee || q.assignee === 'me' ? '' : q.assignee,
          status: q.status ?? 'open',
          requestId: q.request_id ?? '',
          dueBefore: utc('due_before', q.due_before),
          overdueOnly: q.overdue === true,
          pageSize: q.limit ?? 50,
          cursor: q.cursor ?? '',
        },
        req.caller!.tenant,
      );
      return { items: res.tasks.map(taskOut), next_cursor: res.nextCursor || null };
    },
  );

  app.post<{ Body: CreateTaskBody; Headers: { 'idempotency-key'?: string } }>(
    '/v1/tasks',
    {
      schema: {
        tags: ['tasks'],
        operationId: 'createTask',
        summary: 'Create a follow-up task',
        description: 'Assigned to you unless `assignee_id` says otherwise. With `Idempotency-Key`, a retry replays the first response; the same key with another body is a 422.',
        headers: idempotencyHeaders,
        body: { $ref: 'CreateTask#' },
        response: {
          201: json('Created (or the first response replayed)', { $ref: 'Task#' }, { ...createdHeaders('task: /v1/tasks/{id}'), ...taskEtag }),
          ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409, 422),
        },
      },
      links: { 201: { GetTask: { operationId: 'getTask', parameters: { id: '$response.body#/id' } }, UpdateTask: { operationId: 'updateTask', parameters: { id: '$response.body#/id' } } } },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'tasks:write');
      const key = idempotencyKey(req.headers['idempotency-key']);
      const b = req.body;
      // Intake keeps only the deal's id: the deal must be one of the tenant's that the caller may see (else 404).
      if (b.deal_id) await clients.deals.getDeal({ id: b.deal_id }, req.caller!.tenant);
      const res = await clients.tasks.createTask(
        {
          title: b.title,
          note: b.note ?? '',
          dueAt: utc('due_at', b.due_at),
          remindBeforeMinutes: b.remind_before_minutes ?? 0,
          assigneeId: b.assignee_id ?? '',
          requestId: b.request_id ?? '',
          contactId: b.contact_id ?? '',
          dealId: b.deal_id ?? '',
          idempotencyKey: key,
        },
        req.caller!.tenant,
      );
      if (res.replayed) reply.header('idempotent-replayed', 'true');
      const t = res.task!;
      return reply.code(201).header('location', `/v1/tasks/${t.id}`).header('etag', etag(t.version)).send(taskOut(t));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/tasks/:id',
    {
      schema: {
        tags: ['tasks'],
        operationId: 'getTask',
        summary: 'Get a task',
        params: idParam,
        response: { 200: json('The task', { $ref: 'Task#' }, taskEtag), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'tasks:read');
      const t = (await clients.tasks.getTask({ id: req.params.id }, req.caller!.tenant)).task!;
      return reply.header('etag', etag(t.version)).send(taskOut(t));
    },
  );

  app.patch<{ Params: { id: string }; Body: UpdateTaskBody; Headers: { 'if-match'?: string } }>(
    '/v1/tasks/:id',
    {
      schema: {
        tags: ['tasks'],
        operationId: 'updateTask',
        summary: "Change a task's title, note, due time, reminder or assignee",
        description: 'With `If-Match` (or `expected_version`) a task changed since is a 412 with `current`.',
        params: idParam,
        headers: ifMatchHeaders,
        body: { $ref: 'UpdateTask#' },
        response: { 200: json('The task after the change', { $ref: 'Task#' }, taskEtag), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409, 412) },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'tasks:write');
      const b = req.body;
      const t = (
        await clients.tasks.updateTask(
          UpdateTaskRequest.fromPartial({
            id: req.params.id,
            expectedVersion: expectedVersion(req.headers['if-match'], b.expected_version),
            title: b.title,
            note: b.note,
            dueAt: b.due_at === undefined ? undefined : utc('due_at', b.due_at),
            remindBeforeMinutes: b.remind_before_minutes,
            assigneeId: b.assignee_id,
          }),
          req.caller!.tenant,
        )
      ).task!;
      return reply.header('etag', etag(t.version)).send(taskOut(t));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/tasks/:id',
    {
      schema: {
        tags: ['tasks'],
        operationId: 'deleteTask',
        summary: 'Delete a task',
        params: idParam,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'tasks:write');
      await clients.tasks.deleteTask({ id: req.params.id }, req.caller!.tenant);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { id: string }; Body: { done: boolean } }>(
    '/v1/tasks/:id/completion',
    {
      schema: {
        tags: ['tasks'],
        operationId: 'completeTask',
        summary: 'Mark a task done, or reopen it',
        params: idParam,
        body: { $ref: 'TaskCompletion#' },
        response: { 200: json('The task', { $ref: 'Task#' }, taskEtag), ...problems(...WITH_BODY, ...AUTHENTICATED, 404) },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'tasks:write');
      const t = (await clients.tasks.completeTask({ id: req.params.id, done: req.body.done }, req.caller!.tenant)).task!;
      return reply.header('etag', etag(t.version)).send(taskOut(t));
    },
  );
}
