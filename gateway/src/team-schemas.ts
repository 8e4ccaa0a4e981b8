/**
 * Named JSON schemas of the team settings API (routes/team.ts): users and invites, departments and
 * their work schedules, projects, shifts, the roster, the audit log, API keys and public forms. Each
 * `$id` is its component name in the OpenAPI document and in the web client (web/src/gen/api.ts): keep
 * them stable. Bodies are closed (additionalProperties: false) and bounded; identity has the last word
 * (a 400 naming the field), the schemas refuse what it could never accept before it is asked.
 */
import { API_KEY_SCOPES, DEPARTMENT_KINDS, ROLES } from './team-mappers';
import { NO_NUL, uuid } from './schemas';
import { timeZoneSchema } from './time-zone';

const dateTime = { type: 'string', format: 'date-time' } as const;
const nextCursor = { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page' } as const;
/** No control characters (identity refuses them in names), and not only white space. */
const CC = '\\u0000-\\u001f\\u007f-\\u009f';
const BLANK = ' \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
const NAME_PATTERN = `^[^${CC}]*[^${CC}${BLANK}][^${CC}]*$`;
const name = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength, pattern: NAME_PATTERN, description: `Trimmed; 1..${maxLength} characters, no control characters` }) as const;
const role = { type: 'string', enum: ROLES.words } as const;
const roles = { type: 'array', items: role, minItems: 1, maxItems: ROLES.words.length, uniqueItems: true } as const;
const ids = (description: string) => ({ type: 'array', items: uuid, maxItems: 50, uniqueItems: true, description }) as const;
const kind = { type: 'string', enum: DEPARTMENT_KINDS.words } as const;
const sla = { type: 'integer', minimum: 0, maximum: 10080, description: 'First response within this many business minutes; 0 = no SLA' } as const;
/** `HH:MM`; `from` 00:00..23:59, `to` 00:01..24:00 (identity checks `from < to` and overlaps, naming the entry). */
const hhmm = { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$' } as const;
const list = (id: string, item: string, description: string) =>
  ({ $id: id, type: 'object', description, required: ['items'], properties: { items: { type: 'array', items: { $ref: `${item}#` } } } }) as const;
const page = (id: string, item: string, description: string) =>
  ({ $id: id, type: 'object', description, required: ['items', 'next_cursor'], properties: { items: { type: 'array', items: { $ref: `${item}#` } }, next_cursor: nextCursor } }) as const;

export const teamUserSchema = {
  $id: 'TeamUser',
  type: 'object',
  description: 'A user of the tenant with their team fields',
  required: ['id', 'email', 'display_name', 'roles', 'department_ids', 'headed_department_ids', 'active', 'invited', 'away', 'created_at', 'updated_at'],
  properties: {
    id: uuid,
    email: { type: 'string', format: 'idn-email', description: 'Lower-cased' },
    display_name: { type: 'string' },
    roles: { type: 'array', items: role },
    department_ids: { type: 'array', items: uuid, description: 'Departments they work in; the first is the primary one' },
    headed_department_ids: { type: 'array', items: uuid, description: 'Departments they head (head of sales)' },
    active: { type: 'boolean', description: 'False once deactivated, and while an invite is not accepted' },
    invited: { type: 'boolean', description: 'True while an invite is pending' },
    away: { type: 'boolean' },
    away_until: { ...dateTime, description: 'Away until then; absent: until cleared (or not away)' },
    created_at: dateTime,
    updated_at: dateTime,
    deactivated_at: { ...dateTime, description: 'Absent while active' },
  },
} as const;

export const teamUserPageSchema = page('TeamUserPage', 'TeamUser', 'A page of users, by display name');

export const inviteUserSchema = {
  $id: 'InviteUser',
  type: 'object',
  description: 'A new user, invited: they set their password through the invite link. A head of sales may invite a seller into a department they head.',
  additionalProperties: false,
  required: ['email', 'display_name', 'roles'],
  properties: {
    email: { type: 'string', format: 'idn-email', minLength: 3, maxLength: 254 },
    display_name: name(200),
    roles,
    department_ids: ids('Departments they work in; the first is the primary one'),
    headed_department_ids: ids('Departments they head (needs the head_of_sales role)'),
  },
  examples: [{ email: 'seller@example.com', display_name: 'Мария Иванова', roles: ['seller'] }],
} as const;

export const inviteSchema = {
  $id: 'Invite',
  type: 'object',
  description: 'An invited user and the one-time invite token (shown only here; the web UI links `/invite/<token>`)',
  required: ['user', 'invite_token', 'invite_path', 'invite_expires_at'],
  properties: {
    user: { $ref: 'TeamUser#' },
    invite_token: { type: 'string' },
    invite_path: { type: 'string', description: 'The web UI page that accepts it: `/invite/<token>`' },
    invite_expires_at: dateTime,
  },
} as const;

export const acceptInviteSchema = {
  $id: 'AcceptInvite',
  type: 'object',
  description: 'The password the invited user chooses',
  additionalProperties: false,
  required: ['password'],
  properties: { password: { type: 'string', minLength: 8, maxLength: 200, pattern: NO_NUL, description: '8..200 characters' } },
  examples: [{ password: 'a long secret phrase' }],
} as const;

export const acceptedInviteSchema = {
  $id: 'AcceptedInvite',
  type: 'object',
  description: 'The user, now active, and the tenant to log in to',
  required: ['user', 'tenant_slug'],
  properties: { user: { $ref: 'TeamUser#' }, tenant_slug: { type: 'string' } },
} as const;

export const updateTeamUserSchema = {
  $id: 'UpdateTeamUser',
  type: 'object',
  description: 'Only the fields sent are changed; a list sent replaces the stored one',
  additionalProperties: false,
  properties: {
    display_name: name(200),
    roles,
    department_ids: ids('Departments they work in; the first is the primary one ([] removes them from all)'),
    headed_department_ids: ids('Departments they head'),
  },
  examples: [{ roles: ['seller'], department_ids: ['01936f5e-1234-7abc-9abc-0123456789ab'] }],
} as const;

export const userActivationSchema = {
  $id: 'UserActivation',
  type: 'object',
  description: 'false deactivates (their sessions end at once, routing skips them); true reactivates',
  additionalProperties: false,
  required: ['active'],
  properties: { active: { type: 'boolean' } },
  examples: [{ active: false }],
} as const;

export const userActivationResultSchema = {
  $id: 'UserActivationResult',
  type: 'object',
  required: ['user', 'sessions_revoked'],
  properties: { user: { $ref: 'TeamUser#' }, sessions_revoked: { type: 'integer', minimum: 0, description: 'Sessions this call ended' } },
} as const;

export const setAwaySchema = {
  $id: 'SetAway',
  type: 'object',
  description: 'Away (until a time, or until cleared) or back. Routing skips away employees.',
  additionalProperties: false,
  required: ['away'],
  properties: { away: { type: 'boolean' }, until: { ...dateTime, description: 'In the future; absent: until cleared. Only with away: true' } },
  examples: [{ away: true, until: '2028-06-15T09:00:00+03:00' }, { away: false }],
} as const;

export const workingHoursSchema = {
  $id: 'WorkingHours',
  type: 'object',
  description: 'One weekly working interval in the schedule\'s time zone: weekday 1 = Monday … 7 = Sunday; `from` < `to`',
  additionalProperties: false,
  required: ['weekday', 'from', 'to'],
  properties: { weekday: { type: 'integer', minimum: 1, maximum: 7 }, from: { ...hhmm, description: '`HH:MM`, 00:00..23:59' }, to: { ...hhmm, description: '`HH:MM`, 00:01..24:00' } },
} as const;

export const workScheduleSchema = {
  $id: 'WorkSchedule',
  type: 'object',
  description: 'Weekly working hours and days off. No hours: open around the clock. Intervals of a day must not overlap (a lunch break is two intervals).',
  additionalProperties: false,
  properties: {
    time_zone: { anyOf: [timeZoneSchema, { type: 'string', maxLength: 0 }], description: "An IANA time zone; '' or absent: the tenant's" },
    hours: { type: 'array', items: { $ref: 'WorkingHours#' }, maxItems: 70 },
    holidays: { type: 'array', items: { type: 'string', format: 'date' }, maxItems: 400, uniqueItems: true, description: 'Days off, `YYYY-MM-DD` in the time zone' },
  },
  examples: [{ time_zone: 'Europe/Moscow', hours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, from: '09:00', to: '18:00' })), holidays: ['2027-01-01'] }],
} as const;

export const teamDepartmentSchema = {
  $id: 'TeamDepartment',
  type: 'object',
  required: ['id', 'name', 'kind', 'head_user_ids', 'sla_first_response_minutes', 'schedule', 'member_count', 'created_at', 'updated_at'],
  properties: {
    id: uuid,
    name: { type: 'string' },
    kind: { type: 'string', enum: [...DEPARTMENT_KINDS.words, 'unspecified'] },
    head_user_ids: { type: 'array', items: uuid },
    sla_first_response_minutes: sla,
    schedule: { $ref: 'WorkSchedule#' },
    member_count: { type: 'integer', minimum: 0, description: 'Active members' },
    created_at: dateTime,
    updated_at: dateTime,
  },
} as const;

export const teamDepartmentListSchema = list('TeamDepartmentList', 'TeamDepartment', 'Every department of the tenant, by name');

export const createTeamDepartmentSchema = {
  $id: 'CreateTeamDepartment',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { ...name(100), description: 'Unique in the tenant (any case; a taken name is a 409)' },
    kind: { ...kind, default: 'sales' },
    sla_first_response_minutes: { ...sla, description: 'Default 15; 0 = no SLA' },
    schedule: { $ref: 'WorkSchedule#' },
  },
  examples: [{ name: 'Продажи', kind: 'sales', sla_first_response_minutes: 15 }],
} as const;

export const updateTeamDepartmentSchema = {
  $id: 'UpdateTeamDepartment',
  type: 'object',
  description: 'Only the fields sent are changed',
  additionalProperties: false,
  properties: { name: name(100), kind, sla_first_response_minutes: sla },
  examples: [{ sla_first_response_minutes: 10 }],
} as const;

export const projectSchema = {
  $id: 'Project',
  type: 'object',
  description: "A tenant's product line or brand (requests, numbers and forms belong to one)",
  required: ['id', 'name', 'code', 'archived', 'created_at', 'updated_at'],
  properties: { id: uuid, name: { type: 'string' }, code: { type: 'string' }, archived: { type: 'boolean' }, created_at: dateTime, updated_at: dateTime },
} as const;

export const projectListSchema = list('ProjectList', 'Project', 'Projects by name');

export const createProjectSchema = {
  $id: 'CreateProject',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'code'],
  properties: { name: name(200), code: { type: 'string', pattern: '^[a-z0-9-]{1,32}$', description: 'Unique in the tenant (a taken code is a 409); used in routing rules and reports' } },
  examples: [{ name: 'Новостройки', code: 'new-homes' }],
} as const;

export const updateProjectSchema = {
  $id: 'UpdateProject',
  type: 'object',
  description: 'Only the fields sent are changed',
  additionalProperties: false,
  properties: { name: name(200), archived: { type: 'boolean' } },
  examples: [{ archived: true }],
} as const;

export const shiftSchema = {
  $id: 'Shift',
  type: 'object',
  description: "An employee's explicit on-duty interval",
  required: ['id', 'user_id', 'starts_at', 'ends_at', 'created_at'],
  properties: { id: uuid, user_id: uuid, starts_at: dateTime, ends_at: dateTime, created_at: dateTime },
} as const;

export const shiftListSchema = list('ShiftList', 'Shift', 'Shifts overlapping the interval asked for');

export const createShiftSchema = {
  $id: 'CreateShift',
  type: 'object',
  description: 'starts_at < ends_at, at most 24 h; a shift overlapping another of the same user is a 400',
  additionalProperties: false,
  required: ['user_id', 'starts_at', 'ends_at'],
  properties: { user_id: uuid, starts_at: dateTime, ends_at: dateTime },
  examples: [{ user_id: '01936f5e-1234-7abc-9abc-0123456789ab', starts_at: '2028-06-15T09:00:00+03:00', ends_at: '2028-06-15T18:00:00+03:00' }],
} as const;

export const rosterSchema = {
  $id: 'Roster',
  type: 'object',
  description: 'Who is working at an instant: every department (open now?) and every active user (away? on shift?)',
  required: ['at', 'tenant_time_zone', 'departments', 'users'],
  properties: {
    at: dateTime,
    tenant_time_zone: { type: 'string' },
    departments: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'name', 'kind', 'sla_first_response_minutes', 'schedule', 'open', 'head_user_ids'],
        properties: {
          id: uuid,
          name: { type: 'string' },
          kind: { type: 'string', enum: [...DEPARTMENT_KINDS.words, 'unspecified'] },
          sla_first_response_minutes: sla,
          schedule: { $ref: 'WorkSchedule#' },
          open: { type: 'boolean', description: 'Working time by the schedule at `at`' },
          head_user_ids: { type: 'array', items: uuid },
        },
      },
    },
    users: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'display_name', 'roles', 'department_ids', 'away', 'on_shift'],
        properties: {
          id: uuid,
          display_name: { type: 'string' },
          roles: { type: 'array', items: role },
          department_ids: { type: 'array', items: uuid },
          away: { type: 'boolean' },
          on_shift: { type: 'boolean', description: "Inside a shift at `at`; with no shift that day, while the primary department's schedule is open" },
        },
      },
    },
  },
} as const;

export const auditEntrySchema = {
  $id: 'AuditEntry',
  type: 'object',
  description: 'One change of the tenant\'s settings: who did what to which target',
  required: ['id', 'at', 'actor_kind', 'actor_id', 'action', 'target_kind', 'target_id', 'details'],
  properties: {
    id: { type: 'string' },
    at: dateTime,
    actor_kind: { type: 'string', description: '`user`, `api_key` or `service`' },
    actor_id: { type: 'string' },
    action: { type: 'string', description: 'e.g. `user.invited`, `user.deactivated`, `department.schedule_set`, `api_key.revoked`' },
    target_kind: { type: 'string', description: '`user`, `department`, `project`, `shift`, `api_key`, `public_form`, `tenant`' },
    target_id: { type: 'string' },
    details: { type: 'object', description: 'What changed (`before`, `after`); never secrets', additionalProperties: true },
  },
} as const;

export const auditEntryPageSchema = page('AuditEntryPage', 'AuditEntry', 'A page of the audit log, newest first');

export const apiKeySchema = {
  $id: 'ApiKey',
  type: 'object',
  description: 'An API key (its secret is shown only when it is created)',
  required: ['id', 'name', 'prefix', 'scopes', 'created_at'],
  properties: {
    id: uuid,
    name: { type: 'string' },
    prefix: { type: 'string', description: 'The 8 characters after `crm_` in the secret, to recognise it' },
    scopes: { type: 'array', items: { type: 'string' } },
    created_at: dateTime,
    revoked_at: { ...dateTime, description: 'Absent while it works' },
    last_used_at: { ...dateTime, description: 'Absent when never used' },
  },
} as const;

export const apiKeyListSchema = list('ApiKeyList', 'ApiKey', 'API keys of the tenant, newest first (revoked ones included)');

export const createApiKeySchema = {
  $id: 'CreateApiKey',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'scopes'],
  properties: { name: name(200), scopes: { type: 'array', items: { type: 'string', enum: [...API_KEY_SCOPES] }, minItems: 1, maxItems: API_KEY_SCOPES.length, uniqueItems: true } },
  examples: [{ name: 'Сайт', scopes: ['requests:write'] }],
} as const;

export const createdApiKeySchema = {
  $id: 'CreatedApiKey',
  type: 'object',
  description: 'The new key and its whole secret `crm_<prefix>_<random>`, shown only this once',
  required: ['key', 'secret'],
  properties: { key: { $ref: 'ApiKey#' }, secret: { type: 'string' } },
} as const;

const fieldNames = { type: 'array', items: name(100), maxItems: 20, description: 'Incoming field names, matched in any case' } as const;

export const fieldMappingSchema = {
  $id: 'FieldMapping',
  type: 'object',
  description: "Which of the form's own fields carry the name, phone, e-mail and message (tried before the built-in names of Tilda, Contact Form 7, Webflow…); a name may map to one target only",
  additionalProperties: false,
  properties: { name: fieldNames, phone: fieldNames, email: fieldNames, message: fieldNames },
  examples: [{ phone: ['tel', 'your-phone'], name: ['fio'] }],
} as const;

/** An http(s) URL, or '' for the built-in thank-you page (identity checks it is absolute, with a host). */
const thankYouUrl = { type: 'string', maxLength: 2000, pattern: '^(https?://[^\\s\\u0000/?#]+[^\\s\\u0000]*)?$', description: "Where a browser is sent after a plain HTML post; '': the built-in page" } as const;

export const publicFormSchema = {
  $id: 'PublicForm',
  type: 'object',
  description: "A public web form: its id (`pf_…`) is embedded in a customer's site and needs no secret",
  required: ['id', 'name', 'enabled', 'field_mapping', 'thank_you_url', 'created_at'],
  properties: {
    id: { type: 'string', pattern: '^pf_[A-Za-z0-9_-]{8,64}$' },
    name: { type: 'string' },
    enabled: { type: 'boolean', description: 'A disabled form refuses submissions (404)' },
    field_mapping: { $ref: 'FieldMapping#' },
    thank_you_url: { type: 'string', description: "'' : the built-in thank-you page" },
    created_at: dateTime,
  },
} as const;

export const publicFormListSchema = list('PublicFormList', 'PublicForm', 'Public forms of the tenant, newest first');

export const createPublicFormSchema = {
  $id: 'CreatePublicForm',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: name(200), field_mapping: { $ref: 'FieldMapping#' }, thank_you_url: thankYouUrl },
  examples: [{ name: 'Заявка с сайта', thank_you_url: 'https://example.com/thanks' }],
} as const;

export const updatePublicFormSchema = {
  $id: 'UpdatePublicForm',
  type: 'object',
  description: 'Only the fields sent are changed; `field_mapping` replaces the whole mapping (`{}` clears it)',
  additionalProperties: false,
  properties: { name: name(200), field_mapping: { $ref: 'FieldMapping#' }, thank_you_url: thankYouUrl, enabled: { type: 'boolean' } },
  examples: [{ enabled: false }, { name: 'Обратный звонок', field_mapping: { phone: ['tel'] } }],
} as const;

/** Named OpenAPI schemas of the team settings routes (routes/team.ts), registered by app.ts. */
export const teamSchemas: { $id: string }[] = [
  teamUserSchema,
  teamUserPageSchema,
  inviteUserSchema,
  inviteSchema,
  acceptInviteSchema,
  acceptedInviteSchema,
  updateTeamUserSchema,
  userActivationSchema,
  userActivationResultSchema,
  setAwaySchema,
  workingHoursSchema,
  workScheduleSchema,
  teamDepartmentSchema,
  teamDepartmentListSchema,
  createTeamDepartmentSchema,
  updateTeamDepartmentSchema,
  projectSchema,
  projectListSchema,
  createProjectSchema,
  updateProjectSchema,
  shiftSchema,
  shiftListSchema,
  createShiftSchema,
  rosterSchema,
  auditEntrySchema,
  auditEntryPageSchema,
  apiKeySchema,
  apiKeyListSchema,
  createApiKeySchema,
  createdApiKeySchema,
  fieldMappingSchema,
  publicFormSchema,
  publicFormListSchema,
  createPublicFormSchema,
  updatePublicFormSchema,
];
