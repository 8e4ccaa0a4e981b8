/**
 * intake's side of contacts (issue 18): MatchOrCreate for a request's phone and e-mail. Contacts being
 * down, slow or refusing never fails a request: the outcome says what happened and the caller decides
 * (create without a contact and let the backfill link it, or give up on that request).
 */
import { ContactsServiceService, PointType, ProvenanceKind, type PointInput } from '@crm/contracts/crm/contacts/v1/contacts';
import { createClient, status, type PromiseClient, type ServiceError } from '@crm/grpc';

/** What intake sends for one request: its normalised points. */
export interface MatchInput {
  /** The request's id (provenance `request/<id>` of the points and of a new contact). */
  requestId: string;
  name: string | null;
  /** E.164. */
  phone: string | null;
  /** Lower-cased. */
  email: string | null;
  /** ISO 3166-1 alpha-2 the phone was read with. */
  country: string;
}

export type MatchOutcome =
  /** The contact the points matched or created; `verified` when one of them is verified on it. */
  | { kind: 'matched'; contactId: string; verified: boolean }
  /** contacts could not answer in time (down, slow, overloaded): try again later. */
  | { kind: 'unavailable'; reason: string }
  /** contacts answered that these points cannot make a contact: trying again will not help. */
  | { kind: 'refused'; reason: string };

/** Anything that matches a request's points to a contact (the gRPC client below; tests may count calls). */
export interface ContactMatcher {
  match(tenantId: string, input: MatchInput, deadlineMs?: number): Promise<MatchOutcome>;
  close(): void;
}

/** Answers that depend on the request, not on contacts' health: retrying the same points gives the same. */
const REFUSALS = new Set([status.INVALID_ARGUMENT, status.FAILED_PRECONDITION, status.ALREADY_EXISTS, status.NOT_FOUND, status.OUT_OF_RANGE]);

/** The points of a request as contacts takes them (phone first, then e-mail); none without either. */
export function pointsOf(input: Pick<MatchInput, 'phone' | 'email'>): PointInput[] {
  const points: PointInput[] = [];
  if (input.phone !== null) points.push({ type: PointType.POINT_TYPE_PHONE, value: input.phone, network: '', verified: false });
  if (input.email !== null) points.push({ type: PointType.POINT_TYPE_EMAIL, value: input.email, network: '', verified: false });
  return points;
}

/** The outcome of a failed call: a refusal for codes about the input, unavailable for everything else. */
export function failureOutcome(err: unknown): MatchOutcome {
  const e = err as Partial<ServiceError>;
  const code = typeof e.code === 'number' ? e.code : status.UNKNOWN;
  const reason = `${status[code] ?? code}: ${e.details || (err as Error).message || 'unknown error'}`.slice(0, 500);
  return REFUSALS.has(code) ? { kind: 'refused', reason } : { kind: 'unavailable', reason };
}

export class GrpcContactMatcher implements ContactMatcher {
  private readonly client: PromiseClient<typeof ContactsServiceService>;

  constructor(
    address: string,
    /** The default deadline of one call (INTAKE_CONTACTS_TIMEOUT_MS). */
    private readonly timeoutMs: number,
  ) {
    // MatchOrCreate is safe to repeat (a point belongs to one contact; the second call matches what the
    // first created), so an UNAVAILABLE is retried within the deadline.
    this.client = createClient(ContactsServiceService, { address, defaultDeadlineMs: timeoutMs, idempotent: ['matchOrCreate'] });
    // Connect now rather than on the first request (whose deadline would also have to cover the
    // connection). Not waited for: contacts may be down, and intake starts and serves without it.
    this.client.waitForReady(10_000).catch(() => undefined);
  }

  async match(tenantId: string, input: MatchInput, deadlineMs = this.timeoutMs): Promise<MatchOutcome> {
    const points = pointsOf(input);
    if (!points.length) return { kind: 'refused', reason: 'no phone or e-mail' };
    try {
      const res = await this.client.matchOrCreate(
        { name: input.name ?? '', points, provenance: { kind: ProvenanceKind.PROVENANCE_KIND_REQUEST, refId: input.requestId }, defaultCountry: input.country },
        { tenantId, callerId: 'intake', callerKind: 'service' },
        { deadlineMs },
      );
      const contactId = res.contact?.id ?? '';
      if (!contactId) return { kind: 'unavailable', reason: 'MatchOrCreate answered without a contact' };
      return { kind: 'matched', contactId, verified: res.verified };
    } catch (err) {
      return failureOutcome(err);
    }
  }

  close(): void {
    this.client.close();
  }
}
