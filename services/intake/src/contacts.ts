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
  | {
      kind: 'matched';
      contactId: string;
      verified: boolean;
      /** The contact's personal client card for routing: `none` (no card), `not_client`, `potential`, `active`, `former`. */
      clientState?: string;
      /** That card's owner (user id); null when nobody. */
      ownerId?: string | null;
    }
  /** contacts could not answer in time (down, slow, overloaded): try again later. */
  | { kind: 'unavailable'; reason: string }
  /** contacts answered that these points cannot make a contact: trying again will not help. */
  | { kind: 'refused'; reason: string };

/** Anything that matches a request's points to a contact (the gRPC client below; tests may count calls). */
export interface ContactMatcher {
  match(tenantId: string, input: MatchInput, deadlineMs?: number): Promise<MatchOutcome>;
  /** The client state and owner of whoever owns this phone (else e-mail); null when nobody does or contacts cannot answer. */
  lookup?(tenantId: string, points: { phone: string; email: string }, deadlineMs?: number): Promise<ClientFacts | null>;
  /** Whether the tenant has this contact: true / false, or null when contacts cannot answer now. */
  exists?(tenantId: string, contactId: string, deadlineMs?: number): Promise<boolean | null>;
  close(): void;
}

/** What routing knows of a client from contacts. */
export interface ClientFacts {
  contactId: string;
  clientState: string;
  ownerId: string | null;
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
    this.client = createClient(ContactsServiceService, { address, defaultDeadlineMs: timeoutMs, idempotent: ['matchOrCreate', 'lookupContact', 'getContact'] });
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
      return { kind: 'matched', contactId, verified: res.verified, clientState: res.clientState || 'none', ownerId: res.ownerId || null };
    } catch (err) {
      return failureOutcome(err);
    }
  }

  async lookup(tenantId: string, points: { phone: string; email: string }, deadlineMs = this.timeoutMs): Promise<ClientFacts | null> {
    const tries: PointInput[] = [];
    if (points.phone.trim()) tries.push({ type: PointType.POINT_TYPE_PHONE, value: points.phone.trim(), network: '', verified: false });
    if (points.email.trim()) tries.push({ type: PointType.POINT_TYPE_EMAIL, value: points.email.trim(), network: '', verified: false });
    for (const point of tries) {
      try {
        const res = await this.client.lookupContact({ point, defaultCountry: '' }, { tenantId, callerId: 'intake', callerKind: 'service' }, { deadlineMs });
        if (res.contact?.id) return { contactId: res.contact.id, clientState: res.clientState || 'none', ownerId: res.ownerId || null };
      } catch (err) {
        // NOT_FOUND: nobody owns this point; try the next. Anything else: contacts cannot say now.
        if ((err as Partial<ServiceError>).code !== status.NOT_FOUND) return null;
      }
    }
    return null;
  }

  async exists(tenantId: string, contactId: string, deadlineMs = this.timeoutMs): Promise<boolean | null> {
    try {
      const res = await this.client.getContact({ id: contactId }, { tenantId, callerId: 'intake', callerKind: 'service' }, { deadlineMs });
      return Boolean(res.contact?.id);
    } catch (err) {
      return (err as Partial<ServiceError>).code === status.NOT_FOUND ? false : null;
    }
  }

  close(): void {
    this.client.close();
  }
}
