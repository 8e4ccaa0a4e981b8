import { DomainError, type DomainErrorCode } from '@crm/errors';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

const TO_STATUS: Record<DomainErrorCode, status> = {
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  CONFLICT: status.ABORTED,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: status.UNAVAILABLE,
  INTERNAL: status.INTERNAL,
};

/** The one place domain errors become gRPC statuses. Unknown errors become INTERNAL with no detail. */
export function toServiceError(err: unknown): Partial<ServiceError> & { code: status } {
  const metadata = new Metadata();
  if (err instanceof DomainError) {
    metadata.set('x-error-code', err.code);
    if (err.violations.length) metadata.set('x-error-violations', asciiJson(err.violations));
    // A machine-readable reason (e.g. idempotency_key_reused) travels to the gateway; other details stay here.
    if (typeof err.details.reason === 'string') metadata.set('x-error-reason', err.details.reason);
    // Ids a caller may see (e.g. owner_contact_id of a point owned by another contact): details.public, as JSON.
    // Metadata values are printable ASCII: anything else (a Cyrillic name in a `current` request) as \uXXXX.
    if (isPublic(err.details.public)) metadata.set('x-error-details', asciiJson(err.details.public));
    return { code: TO_STATUS[err.code], details: err.message, metadata };
  }
  if (isServiceError(err)) return { code: err.code, details: err.details, metadata: err.metadata };
  return { code: status.INTERNAL, details: 'internal error', metadata };
}

/** JSON with every character outside printable ASCII escaped (still JSON, and a legal metadata value). */
function asciiJson(v: unknown): string {
  return JSON.stringify(v).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function isPublic(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && Object.values(v).every((x) => typeof x === 'string');
}

export function isServiceError(err: unknown): err is ServiceError {
  return typeof err === 'object' && err !== null && typeof (err as ServiceError).code === 'number' && 'details' in err && 'metadata' in err;
}

/** The reverse, for callers: a gRPC error back into a DomainError (the gateway maps that to HTTP). */
export function fromServiceError(err: ServiceError): DomainError {
  const code = err.metadata?.get('x-error-code')[0]?.toString() as DomainErrorCode | undefined;
  const violations = err.metadata?.get('x-error-violations')[0];
  const reason = err.metadata?.get('x-error-reason')[0]?.toString();
  const exposed = err.metadata?.get('x-error-details')[0];
  const pub = exposed ? (JSON.parse(exposed.toString()) as Record<string, string>) : undefined;
  const byStatus = (Object.entries(TO_STATUS).find(([, s]) => s === err.code)?.[0] ?? 'INTERNAL') as DomainErrorCode;
  return new DomainError(code && code in TO_STATUS ? code : byStatus, err.details, {
    violations: violations ? JSON.parse(violations.toString()) : [],
    details: { ...pub, grpcStatus: err.code, ...(reason ? { reason } : {}) },
  });
}
