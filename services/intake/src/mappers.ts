/**
 * Between the database rows / domain strings and the generated proto types (numeric enums).
 * Used by the gRPC handlers and for event payloads, so both carry exactly the same Request.
 */
import {
  Channel,
  ContactAxis,
  MeaningAxis,
  NumberAxis,
  QualificationAxis,
  RequestState,
  type Comment,
  type Request,
} from '@crm/contracts/crm/intake/v1/request';
import type { RequestCommentRow } from './db/entities/request-comment.entity';
import type { RequestRow } from './db/entities/request.entity';
import type { ChannelName, ContactAxisValue, MeaningAxisValue, NumberAxisValue, QualificationAxisValue, RequestStateName } from './domain/types';

const CHANNEL: Record<ChannelName, Channel> = {
  phone: Channel.CHANNEL_PHONE,
  chat: Channel.CHANNEL_CHAT,
  email: Channel.CHANNEL_EMAIL,
  signup: Channel.CHANNEL_SIGNUP,
  web_form: Channel.CHANNEL_WEB_FORM,
};
const STATE: Record<RequestStateName, RequestState> = {
  new: RequestState.REQUEST_STATE_NEW,
  assigned: RequestState.REQUEST_STATE_ASSIGNED,
  in_progress: RequestState.REQUEST_STATE_IN_PROGRESS,
  converted: RequestState.REQUEST_STATE_CONVERTED,
  attached: RequestState.REQUEST_STATE_ATTACHED,
  deferred: RequestState.REQUEST_STATE_DEFERRED,
  trash: RequestState.REQUEST_STATE_TRASH,
  closed: RequestState.REQUEST_STATE_CLOSED,
};
const NUMBER: Record<NumberAxisValue, NumberAxis> = { primary: NumberAxis.NUMBER_AXIS_PRIMARY, repeat: NumberAxis.NUMBER_AXIS_REPEAT };
const MEANING: Record<MeaningAxisValue, MeaningAxis> = {
  unknown: MeaningAxis.MEANING_AXIS_UNKNOWN,
  targeted: MeaningAxis.MEANING_AXIS_TARGETED,
  non_targeted: MeaningAxis.MEANING_AXIS_NON_TARGETED,
};
const CONTACT: Record<ContactAxisValue, ContactAxis> = {
  none: ContactAxis.CONTACT_AXIS_NONE,
  unverified: ContactAxis.CONTACT_AXIS_UNVERIFIED,
  verified: ContactAxis.CONTACT_AXIS_VERIFIED,
};
const QUALIFICATION: Record<QualificationAxisValue, QualificationAxis> = {
  pending: QualificationAxis.QUALIFICATION_AXIS_PENDING,
  lead: QualificationAxis.QUALIFICATION_AXIS_LEAD,
  not_lead: QualificationAxis.QUALIFICATION_AXIS_NOT_LEAD,
};

function reverse<K extends string, V>(map: Record<K, V>): Map<V, K> {
  return new Map(Object.entries(map).map(([k, v]) => [v as V, k as K]));
}
const CHANNEL_NAME = reverse(CHANNEL);
const STATE_NAME = reverse(STATE);

/** The domain name of a proto channel; '' for UNSPECIFIED or a value this build does not know. */
/** A stored channel name as the proto enum (unknown → unspecified). */
export function channelToProto(name: string): Channel {
  return CHANNEL[name as ChannelName] ?? Channel.CHANNEL_UNSPECIFIED;
}

export function channelName(channel: Channel): string {
  return CHANNEL_NAME.get(channel) ?? '';
}

/** The domain name of a proto state; '' for UNSPECIFIED or a value this build does not know. */
export function stateName(state: RequestState): string {
  return STATE_NAME.get(state) ?? '';
}

export function toProtoRequest(row: RequestRow): Request {
  return {
    id: row.id,
    tenantId: row.tenantId,
    state: STATE[row.state],
    axes: {
      number: NUMBER[row.numberAxis],
      meaning: MEANING[row.meaningAxis],
      contact: CONTACT[row.contactAxis],
      qualification: QUALIFICATION[row.qualificationAxis],
      channel: CHANNEL[row.channel],
    },
    name: row.name ?? '',
    phone: row.phone ?? '',
    email: row.email ?? '',
    message: row.message ?? '',
    attribution: {
      utmSource: row.utmSource ?? '',
      utmMedium: row.utmMedium ?? '',
      utmCampaign: row.utmCampaign ?? '',
      utmContent: row.utmContent ?? '',
      utmTerm: row.utmTerm ?? '',
      landingPage: row.landingPage ?? '',
      referrer: row.referrer ?? '',
    },
    createdAt: row.createdAt.toISOString(),
    commentCount: row.commentCount,
    publicFormId: row.publicFormId ?? '',
    extraFields: (row.extraFields ?? []).map(([key, value]) => ({ key, value })),
    extraFieldsTruncated: row.extraFieldsTruncated ?? false,
    contactId: row.contactId ?? '',
    version: row.version ?? 1,
    departmentId: row.departmentId ?? '',
    assigneeId: row.assigneeId ?? '',
    projectId: row.projectId ?? '',
    routingVersion: row.routingVersion ?? 0,
    routingRuleId: row.routingRuleId ?? '',
    slaDueAt: iso(row.slaDueAt),
    slaBreachedAt: iso(row.slaBreachedAt),
    firstResponseAt: iso(row.firstResponseAt),
    revisitAt: iso(row.revisitAt),
    trashReason: row.trashReason ?? '',
    trashNote: row.trashNote ?? '',
    dealId: row.dealId ?? '',
    clientCardId: row.clientCardId ?? '',
    missed: row.missed ?? false,
    dialedNumberKind: row.dialedNumberKind ?? '',
    stateChangedAt: iso(row.stateChangedAt),
    stateReason: row.stateReason ?? '',
    missedRecoveredAt: iso(row.missedRecoveredAt),
  };
}

function iso(d: Date | null | undefined): string {
  return d ? d.toISOString() : '';
}

export function toProtoComment(row: RequestCommentRow): Comment {
  return { id: row.id, requestId: row.requestId, authorId: row.authorId, text: row.text, createdAt: row.createdAt.toISOString() };
}
