/** Named OpenAPI schemas of working the request: workflow, routing, tasks (routes/work.ts, routing.ts, tasks.ts). */
export const workSchemas: { $id: string }[] = [];
