import { Channel } from '@crm/contracts/crm/intake/v1/request';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PLATFORM } from '../auth';
import { fieldsOfBody, FORM_LIMITS, FormInputError, mapSubmission, submissionKey } from '../forms/mapping';
import { errorPage, PAGE_STYLE, pageLang, thankYouPage } from '../forms/pages';
import { parseUrlEncoded } from '../forms/parse';
import { FORM_CONTENT_TYPES, formSubmissionSchema } from '../forms/schema';
import { DEMO_STYLE, demoFormNoJsHtml } from '../demo-form';
import { enforceLimits } from '../limiter';
import { attributionIn } from '../mappers';
import { problem, sendProblem, toProblem, type Problem } from '../problem';
import { json, problems } from '../schemas';
import type { GatewayDeps } from '../deps';

/** Browsers post from the customer's own site: any origin may submit, nothing else is allowed. */
function cors(reply: FastifyReply): FastifyReply {
  return reply
    .header('access-control-allow-origin', '*')
    .header('access-control-allow-methods', 'POST, OPTIONS')
    .header('access-control-allow-headers', 'content-type')
    .header('access-control-max-age', '600');
}

/** A person's browser navigating (a plain HTML form post): it asks for HTML. Scripts and webhooks do not. */
export function isBrowserPost(req: FastifyRequest): boolean {
  return (req.headers.accept ?? '').toLowerCase().includes('text/html');
}

function isFormEncoded(req: FastifyRequest): boolean {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  return type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data');
}

export const THANK_YOU_PATH = '/forms/thank-you';

/** The tenant's language of a form post, once the form is resolved: its HTML error page uses it. */
const formLocale = new WeakMap<FastifyRequest, string>();

/**
 * Public web forms: `POST /v1/forms/{publicFormId}/submissions` takes a site's "contact us" form with no
 * secret (the public form id is tied to a tenant), rate-limited per client IP and per form, with a
 * honeypot field. It accepts JSON (scripts, Webflow's webhook), `application/x-www-form-urlencoded`
 * (a plain HTML form, Tilda's webhook) and `multipart/form-data` (Contact Form 7; fields only, a file
 * part is a 400). The fields are mapped by forms/mapping.ts.
 *
 * Answers: a browser (Accept: text/html) gets a 303 to the form's thank-you URL or the built-in page,
 * and its errors as a small HTML page with the same 4xx status; a form-encoded post from a server
 * (Tilda's webhook wants a 200) gets 200 JSON; JSON clients get 202 JSON; errors otherwise are
 * problem+json. The answer says only that it was accepted: nothing of the tenant's data leaks.
 *
 * The urlencoded and multipart parsers are registered in this plugin's own scope, so every other
 * route keeps answering 415 to anything but JSON.
 */
export async function formRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  await app.register(async (forms) => formScope(forms, deps));
}

async function formScope(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const bodyLimit = deps.env.BODY_LIMIT_BYTES;

  await app.register(formbody, { bodyLimit, parser: parseUrlEncoded });
  await app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fields: FORM_LIMITS.fields, parts: FORM_LIMITS.fields, fieldNameSize: 1000, fieldSize: bodyLimit, files: 1, fileSize: 1, headerPairs: 100 },
    // Forms carry fields only: a file part ends the request with a 400 (its bytes are not kept).
    onFile: async (part) => {
      part.file.resume();
      throw new FormInputError(400, `file uploads are not accepted (field "${part.fieldname.slice(0, 100)}")`);
    },
  });

  // The multipart parser streams and is not bounded by Fastify's bodyLimit: bound it by the declared length.
  app.addHook('onRequest', async (req) => {
    if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/')) return;
    const length = Number(req.headers['content-length']);
    if (!req.headers['content-length'] || !Number.isFinite(length)) throw Object.assign(new Error('a multipart body needs a Content-Length'), { statusCode: 411 });
    if (length > bodyLimit) throw Object.assign(new Error('the body is larger than allowed'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    // Without a boundary the parser cannot split the parts (busboy throws a plain Error, which would be a 500).
    if (!/;\s*boundary=\S/i.test(req.headers['content-type'] ?? '')) throw new FormInputError(400, 'a multipart/form-data body needs a boundary in its Content-Type');
  });

  app.setErrorHandler((err, req, reply) => {
    const p: Problem = err instanceof FormInputError ? problem(err.status, err.message, { code: err.status === 400 ? 'INVALID_ARGUMENT' : undefined }) : toProblem(err);
    if (p.status === 415) p.detail = `send one of ${FORM_CONTENT_TYPES.join(', ')}`;
    if (p.status >= 500) req.log.error({ err, url: req.url }, 'request failed');
    cors(reply);
    if (isBrowserPost(req) && req.method === 'POST') {
      const lang = pageLang(formLocale.get(req));
      return reply
        .code(p.status)
        .type('text/html; charset=utf-8')
        .send(errorPage(lang, p.status, (p.errors ?? []).map((e) => e.field)));
    }
    return sendProblem(reply, p, req);
  });

  app.options('/v1/forms/:publicFormId/submissions', { schema: { hide: true }, config: { public: true, embeddable: true } }, async (_req, reply) => cors(reply).code(204).send());

  // Its post answers 303 to the form's own thank-you URL, any site: browsers hold that redirect to form-action.
  app.get<{ Querystring: { form?: string } }>('/demo/form/no-js', { schema: { hide: true }, config: { csp: { inlineStyles: [DEMO_STYLE], formAction: ['http:', 'https:'] } } }, async (req, reply) =>
    reply.type('text/html; charset=utf-8').send(demoFormNoJsHtml(typeof req.query.form === 'string' ? req.query.form : '')),
  );

  app.get<{ Querystring: { lang?: string } }>(THANK_YOU_PATH, { schema: { hide: true }, config: { embeddable: true, csp: { inlineStyles: [PAGE_STYLE] } } }, async (req, reply) =>
    reply.type('text/html; charset=utf-8').send(thankYouPage(pageLang(req.query.lang))),
  );

  app.post<{ Params: { publicFormId: string }; Body: unknown }>(
    '/v1/forms/:publicFormId/submissions',
    {
      // Customers' sites post here (a form in a frame of theirs sees the error page in it); the error page's style by hash.
      config: { public: true, embeddable: true, csp: { inlineStyles: [PAGE_STYLE] } },
      schema: {
        tags: ['forms'],
        operationId: 'submitForm',
        summary: "Submit a site's public form (no API key)",
        // No credential: the document's global security does not apply (a fuzzer's ignored_auth check relies on it).
        security: [],
        description:
          'JSON, application/x-www-form-urlencoded or multipart/form-data (fields only). A browser (Accept: text/html) is answered 303 to the ' +
          "form's thank-you URL (or a built-in page); a form-encoded post from a server (e.g. Tilda's webhook) 200; JSON 202. Duplicates " +
          "(the sender's submission id, e.g. Tilda's tranid or Webflow's id, or the same content within 10 minutes) create one request.",
        consumes: FORM_CONTENT_TYPES,
        params: { type: 'object', additionalProperties: false, required: ['publicFormId'], properties: { publicFormId: { type: 'string', pattern: '^pf_[A-Za-z0-9_-]{8,64}$' } } },
        body: formSubmissionSchema,
        response: {
          200: json("Accepted: a form-encoded post from a server (e.g. Tilda's webhook, or its connection test)", { $ref: 'FormSubmissionAccepted#' }),
          202: json('Accepted (a JSON post)', { $ref: 'FormSubmissionAccepted#' }),
          303: { description: "Accepted: a browser's post; Location is the form's thank-you page", headers: { location: { type: 'string' } } },
          ...problems(400, 404, 411, 413, 415, 422, 429, 503, 504),
        },
      },
    },
    async (req, reply) => {
      cors(reply);
      // Per address first: a flooding address is refused without spending the form's own limit.
      await enforceLimits(reply, 'too many submissions; try again later', [deps.limits.formPerIp, req.ip], [deps.limits.formPerForm, req.params.publicFormId]);
      const envelope = fieldsOfBody(req.body);
      const form = await deps.clients.identity.resolvePublicForm({ publicFormId: req.params.publicFormId }, PLATFORM);
      formLocale.set(req, form.tenantLocale);
      const m = mapSubmission(envelope, { mapping: form.fieldMapping, referer: req.headers.referer });
      const browser = isBrowserPost(req);
      const done = (requestId?: string) => {
        if (browser) return reply.code(303).header('location', form.thankYouUrl || `${THANK_YOU_PATH}?lang=${pageLang(form.tenantLocale)}`).send();
        return reply.code(isFormEncoded(req) ? 200 : 202).send({ status: 'accepted', ...(requestId ? { request_id: requestId } : {}) });
      };
      if (m.connectionTest) return reply.code(200).send({ status: 'accepted' });
      // A filled honeypot is a bot: answer like a success so it learns nothing, and write nothing.
      if (m.honeypot) return done();
      const tenant = { tenantId: form.tenantId, callerId: form.formId, callerKind: 'service' as const };
      const res = await deps.clients.intake.createRequest(
        {
          channel: Channel.CHANNEL_WEB_FORM,
          name: m.name,
          phone: m.phone,
          email: m.email,
          message: m.message,
          attribution: attributionIn(m.attribution),
          idempotencyKey: submissionKey(form.formId, m, Date.now()),
          publicFormId: form.formId,
          defaultCountry: deps.env.DEFAULT_PHONE_COUNTRY,
          extraFields: m.extraFields,
          extraFieldsTruncated: m.extraFieldsTruncated,
          projectId: '',
          dialedNumberKind: '',
          missed: false,
          decided: undefined,
        },
        tenant,
      );
      return done(res.request!.id);
    },
  );
}
