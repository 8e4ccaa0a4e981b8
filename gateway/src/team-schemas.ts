/** Named OpenAPI schemas of the team settings routes (routes/team.ts). */
export const teamSchemas: { $id: string }[] = [];
