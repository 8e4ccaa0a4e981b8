import {
  channelFromJSON,
  channelToJSON,
  contactAxisToJSON,
  meaningAxisToJSON,
  numberAxisToJSON,
  qualificationAxisToJSON,
  requestStateFromJSON,
  requestStateToJSON,
  type Channel,
  type Comment,
  type Request,
  type RequestState,
} from '@crm/contracts/crm/intake/v1/request';

/** `CHANNEL_WEB_FORM` → `web_form`: the REST API speaks the DOMAIN.md words. */
function out(prefix: string, name: string): string {
  return name.startsWith(prefix) ? name.slice(prefix.length).toLowerCase() : name.toLowerCase();
}

export const CHANNELS = ['phone', 'chat', 'email', 'signup', 'web_form'] as const;
export const STATES = ['new', 'assigned', 'in_progress', 'converted', 'attached', 'deferred', 'trash', 'closed'] as const;

export const channelIn = (s: string): Channel => channelFromJSON(`CHANNEL_${s.toUpperCase()}`);
export const stateIn = (s: string): RequestState => requestStateFromJSON(`REQUEST_STATE_${s.toUpperCase()}`);

export function requestOut(r: Request) {
  const a = r.attribution;
  return {
    id: r.id,
    state: out('REQUEST_STATE_', requestStateToJSON(r.state)),
    channel: out('CHANNEL_', channelToJSON(r.axes?.channel ?? 0)),
    axes: {
      number: out('NUMBER_AXIS_', numberAxisToJSON(r.axes?.number ?? 0)),
      meaning: out('MEANING_AXIS_', meaningAxisToJSON(r.axes?.meaning ?? 0)),
      contact: out('CONTACT_AXIS_', contactAxisToJSON(r.axes?.contact ?? 0)),
      qualification: out('QUALIFICATION_AXIS_', qualificationAxisToJSON(r.axes?.qualification ?? 0)),
      channel: out('CHANNEL_', channelToJSON(r.axes?.channel ?? 0)),
    },
    name: r.name,
    phone: r.phone,
    email: r.email,
    message: r.message,
    attribution: {
      utm_source: a?.utmSource ?? '',
      utm_medium: a?.utmMedium ?? '',
      utm_campaign: a?.utmCampaign ?? '',
      utm_content: a?.utmContent ?? '',
      utm_term: a?.utmTerm ?? '',
      landing_page: a?.landingPage ?? '',
      referrer: a?.referrer ?? '',
    },
    comment_count: r.commentCount,
    // Absent until linked (an id the document gives is always usable as a path).
    contact_id: r.contactId || undefined,
    extra_fields: (r.extraFields ?? []).map((f) => ({ key: f.key, value: f.value })),
    extra_fields_truncated: r.extraFieldsTruncated ?? false,
    created_at: r.createdAt,
    // Working the request (issue 8): null where intake has none.
    version: r.version ?? 0,
    department_id: r.departmentId || null,
    assignee_id: r.assigneeId || null,
    project_id: r.projectId || null,
    routing_version: r.routingVersion || null,
    routing_rule_id: r.routingRuleId || null,
    sla_due_at: r.slaDueAt || null,
    sla_breached_at: r.slaBreachedAt || null,
    first_response_at: r.firstResponseAt || null,
    revisit_at: r.revisitAt || null,
    trash_reason: r.trashReason || null,
    trash_note: r.trashNote || null,
    deal_id: r.dealId || null,
    client_card_id: r.clientCardId || null,
    missed: r.missed ?? false,
    dialed_number_kind: r.dialedNumberKind || null,
    state_changed_at: r.stateChangedAt || null,
    state_reason: r.stateReason || null,
  };
}

export function commentOut(c: Comment) {
  return { id: c.id, request_id: c.requestId, author_id: c.authorId, text: c.text, created_at: c.createdAt };
}

export interface AttributionIn {
  utm_source?: string;
  utm_medium?: string;
  utm_campaign?: string;
  utm_content?: string;
  utm_term?: string;
  landing_page?: string;
  referrer?: string;
}

export function attributionIn(a: AttributionIn = {}) {
  return {
    utmSource: a.utm_source ?? '',
    utmMedium: a.utm_medium ?? '',
    utmCampaign: a.utm_campaign ?? '',
    utmContent: a.utm_content ?? '',
    utmTerm: a.utm_term ?? '',
    landingPage: a.landing_page ?? '',
    referrer: a.referrer ?? '',
  };
}
