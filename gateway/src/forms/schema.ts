/**
 * The OpenAPI/JSON schema of a form submission. The named properties are the ones the demo form and
 * most sites send; any other field is accepted (mapped by the form's field mapping and the defaults,
 * or kept as an extra field), so the object is deliberately open. Webflow's webhook envelopes
 * (`{ triggerType, payload: { data, … } }`, `{ name, site, data, d, _id }`) are objects too.
 */
const str = (maxLength: number, description?: string) => ({ type: 'string', maxLength, ...(description ? { description } : {}) }) as const;

export const FORM_CONTENT_TYPES = ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'];

export const formSubmissionSchema = {
  type: 'object',
  description:
    'The fields of a site form as it posts them. Besides the names below, fields are matched case-insensitively (ignoring spaces, "-", "_", ".") ' +
    "against the form's field mapping and the defaults for Tilda, Contact Form 7, Webflow and common names; fields that map to nothing are kept " +
    'as extra fields (at most 50, key ≤ 100 and value ≤ 2000 characters, 16 KiB in all; beyond that they are dropped and the request says ' +
    'extra_fields_truncated). At most 200 fields (more is a 413). UTM tags: the fields first, then the page URL query (page_url, else the ' +
    "Referer header), then Tilda's COOKIES field.",
  properties: {
    name: str(200),
    phone: str(64),
    email: str(320),
    message: str(5000),
    utm_source: str(200),
    utm_medium: str(200),
    utm_campaign: str(200),
    utm_content: str(200),
    utm_term: str(200),
    page_url: str(2000, 'The page the form is on (its query may carry UTM tags).'),
    referrer: str(2000),
    website: str(500, 'Honeypot: hidden in the form; people leave it empty, bots fill it.'),
  },
  additionalProperties: true,
  examples: [{ name: 'Иван Петров', phone: '+7 916 123-45-67', email: 'ivan@example.ru', message: 'Перезвоните, пожалуйста', utm_source: 'yandex' }],
} as const;
