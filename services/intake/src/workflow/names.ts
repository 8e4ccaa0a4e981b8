/** Proto enums of workflow calls ↔ the domain's names ('' for UNSPECIFIED or a value this build does not know). */
import { ContactAxis, MeaningAxis, NumberAxis, QualificationAxis, RequestState } from '@crm/contracts/crm/intake/v1/request';
import { TrashReason } from '@crm/contracts/crm/intake/v1/workflow';
import type { TrashReasonName } from '../db/entities/request.entity';
import type { ContactAxisValue, MeaningAxisValue, NumberAxisValue, QualificationAxisValue, RequestStateName } from '../domain/types';

const MEANING = new Map<MeaningAxis, MeaningAxisValue>([
  [MeaningAxis.MEANING_AXIS_UNKNOWN, 'unknown'],
  [MeaningAxis.MEANING_AXIS_TARGETED, 'targeted'],
  [MeaningAxis.MEANING_AXIS_NON_TARGETED, 'non_targeted'],
]);
const QUALIFICATION = new Map<QualificationAxis, QualificationAxisValue>([
  [QualificationAxis.QUALIFICATION_AXIS_PENDING, 'pending'],
  [QualificationAxis.QUALIFICATION_AXIS_LEAD, 'lead'],
  [QualificationAxis.QUALIFICATION_AXIS_NOT_LEAD, 'not_lead'],
]);
const CONTACT = new Map<ContactAxis, ContactAxisValue>([
  [ContactAxis.CONTACT_AXIS_NONE, 'none'],
  [ContactAxis.CONTACT_AXIS_UNVERIFIED, 'unverified'],
  [ContactAxis.CONTACT_AXIS_VERIFIED, 'verified'],
]);
const NUMBER = new Map<NumberAxis, NumberAxisValue>([
  [NumberAxis.NUMBER_AXIS_PRIMARY, 'primary'],
  [NumberAxis.NUMBER_AXIS_REPEAT, 'repeat'],
]);
const TRASH = new Map<TrashReason, TrashReasonName>([
  [TrashReason.TRASH_REASON_SPAM, 'spam'],
  [TrashReason.TRASH_REASON_WRONG_NUMBER, 'wrong_number'],
  [TrashReason.TRASH_REASON_NOT_TARGETED, 'not_targeted'],
  [TrashReason.TRASH_REASON_DUPLICATE, 'duplicate'],
  [TrashReason.TRASH_REASON_OTHER, 'other'],
]);

export const meaningName = (v: MeaningAxis): string => MEANING.get(v) ?? '';
export const qualificationName = (v: QualificationAxis): string => QUALIFICATION.get(v) ?? '';
export const contactAxisName = (v: ContactAxis): string => CONTACT.get(v) ?? '';
export const numberAxisName = (v: NumberAxis): string => NUMBER.get(v) ?? '';
/** '' for UNSPECIFIED; `?<n>` for a number this build does not know (refused by the machine as unknown). */
export const trashReasonName = (v: TrashReason): string => (v === TrashReason.TRASH_REASON_UNSPECIFIED ? '' : (TRASH.get(v) ?? `?${v}`));

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

export const stateEnum = (s: RequestStateName): RequestState => STATE[s];
