import { PipelineServiceService } from '@crm/contracts/crm/funnel/v1/pipelines';
import type { MikroORM } from '@crm/db';
import { registration, type ServiceRegistration } from '@crm/grpc';
import { PipelinesService } from '../pipelines/pipelines.service';

export const PIPELINE_SERVICE_NAME = 'crm.funnel.v1.PipelineService';

/** crm.funnel.v1.PipelineService: translation only (the work is in ../pipelines/). */
export function pipelinesServer(orm: MikroORM): ServiceRegistration {
  const pipelines = new PipelinesService(orm);
  return registration(PIPELINE_SERVICE_NAME, PipelineServiceService, {
    validatePipeline: async (req) => ({ violations: pipelines.validate(req.definition) }),
    createPipeline: async (req, ctx) => ({ pipeline: await pipelines.create(ctx, req.definition) }),
    updatePipeline: async (req, ctx) => ({ pipeline: await pipelines.update(ctx, req) }),
    getPipeline: async (req, ctx) => ({ pipeline: await pipelines.get(ctx, req.id, req.version) }),
    listPipelines: async (req, ctx) => ({ pipelines: await pipelines.list(ctx, req.includeArchived) }),
    archivePipeline: async (req, ctx) => ({ pipeline: await pipelines.archive(ctx, req.id, req.archived) }),
    previewMigration: async (req, ctx) => pipelines.previewMigration(ctx, req),
    applyMigration: async (req, ctx) => pipelines.applyMigration(ctx, req),
  });
}
