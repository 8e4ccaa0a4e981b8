/**
 * Domain errors carry a stable string code. One mapper (in @crm/grpc) turns the code into a gRPC
 * status and the gateway turns that into an HTTP problem+json. Never put secrets in `message`.
 */
export type DomainErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'CONFLICT'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export interface FieldViolation {
  field: string;
  message: string;
}

export class DomainError extends Error {
  readonly code: DomainErrorCode;
  readonly details: Record<string, unknown>;
  readonly violations: FieldViolation[];

  constructor(
    code: DomainErrorCode,
    message: string,
    opts: { details?: Record<string, unknown>; violations?: FieldViolation[]; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DomainError';
    this.code = code;
    this.details = opts.details ?? {};
    this.violations = opts.violations ?? [];
  }
}

export class NotFoundError extends DomainError {
  constructor(entity: string, id: string) {
    super('NOT_FOUND', `${entity} ${id} not found`, { details: { entity, id } });
    this.name = 'NotFoundError';
  }
}

export class ValidationError extends DomainError {
  constructor(message: string, violations: FieldViolation[] = []) {
    super('INVALID_ARGUMENT', message, { violations });
    this.name = 'ValidationError';
  }
}

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}
