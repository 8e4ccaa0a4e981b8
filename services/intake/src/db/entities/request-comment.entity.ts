import { EntitySchema } from '@crm/db';

/** A comment on a request. Comments never change the request's state. */
export interface RequestCommentRow {
  id: string;
  tenantId: string;
  requestId: string;
  /** The caller who wrote it (CallContext.callerId). */
  authorId: string;
  text: string;
  createdAt: Date;
}

export const RequestCommentSchema = new EntitySchema<RequestCommentRow>({
  name: 'RequestComment',
  tableName: 'request_comments',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'text', fieldName: 'tenant_id' },
    requestId: { type: 'uuid', fieldName: 'request_id' },
    authorId: { type: 'text', fieldName: 'author_id' },
    text: { type: 'text' },
    createdAt: { type: 'datetime', fieldName: 'created_at', columnType: 'timestamptz' },
  },
});
