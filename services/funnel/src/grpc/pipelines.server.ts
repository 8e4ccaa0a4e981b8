import { PipelineServiceService } from '@crm/contracts/crm/funnel/v1/pipelines';
import type { MikroORM } from '@crm/db';
import { registration, type ServiceRegistration } from '@crm/grpc';

export const PIPELINE_SERVICE_NAME = 'crm.funnel.v1.PipelineService';

const todo = (): never => {
  throw new Error('not implemented yet');
};

/** crm.funnel.v1.PipelineService: translation only (the work is in ../pipelines/). */
export function pipelinesServer(_orm: MikroORM): ServiceRegistration {
  return registration(PIPELINE_SERVICE_NAME, PipelineServiceService, {
    validatePipeline: todo,
    createPipeline: todo,
    updatePipeline: todo,
    getPipeline: todo,
    listPipelines: todo,
    archivePipeline: todo,
    previewMigration: todo,
    applyMigration: todo,
  });
}
