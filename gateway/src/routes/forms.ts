import { Channel } from '@crm/contracts/crm/intake/v1/request';
import { DomainError } from '@crm/errors';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PLATFORM } from '../auth';
import { FixedWindowLimiter } from '../limiter';
import { attributionIn } from '../mappers';
import { errorResponses, formSubmissionBody } from '../schemas';
import type { GatewayDeps } from '../app';

type Submission = {
  name?: string;
  phone?: string;
  email?: string;
  message?: string;
  utm_source?: string;
  utm_medium?: string;
  utm_campaign?: string;
  utm_content?: string;
  utm_term?: string;
  page_url?: string;
  referrer?: string;
  website?: string;
};

/** Browsers post from the customer's own site: any origin may submit, nothing else is allowed. */
function cors(reply: FastifyReply): FastifyReply {
  return reply
    .header('access-control-allow-origin', '*')
    .header('access-control-allow-methods', 'POST, OPTIONS')
    .header('access-control-allow-headers', 'content-type')
    .header('access-control-max-age', '600');
}

/**
 * Public web forms: `POST /v1/forms/{publicFormId}/submissions` takes a site's "contact us" form with no
 * secret (the public form id is tied to a tenant), rate-limited per client IP and per form, with a
 * honeypot field. The response says only that it was accepted: nothing of the tenant's data leaks.
 */
export async function formRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const perIp = new FixedWindowLimiter(deps.env.FORM_RATE_PER_IP);
  const perForm = new FixedWindowLimiter(deps.env.FORM_RATE_PER_FORM);

  app.options('/v1/forms/:publicFormId/submissions', { schema: { hide: true } }, async (_req, reply) => cors(reply).code(204).send());

  app.post<{ Params: { publicFormId: string }; Body: Submission }>(
    '/v1/forms/:publicFormId/submissions',
    {
      config: { public: true },
      schema: {
        tags: ['forms'],
        summary: "Submit a site's public form (no API key)",
        params: { type: 'object', additionalProperties: false, required: ['publicFormId'], properties: { publicFormId: { type: 'string', pattern: '^pf_[A-Za-z0-9_-]{8,64}$' } } },
        body: formSubmissionBody,
        response: { 202: { type: 'object', properties: { status: { type: 'string' }, request_id: { type: 'string' } } }, ...errorResponses },
      },
    },
    async (req, reply) => {
      cors(reply);
      const wait = Math.max(perIp.hit(req.ip), perForm.hit(req.params.publicFormId));
      if (wait) {
        reply.header('retry-after', String(wait));
        throw new DomainError('RESOURCE_EXHAUSTED', 'too many submissions; try again later');
      }
      const b = req.body;
      // A filled honeypot is a bot: answer like a success so it learns nothing, and write nothing.
      if (b.website) return reply.code(202).send({ status: 'accepted' });
      const form = await deps.clients.identity.resolvePublicForm({ publicFormId: req.params.publicFormId }, PLATFORM);
      const tenant = { tenantId: form.tenantId, callerId: form.formId, callerKind: 'service' as const };
      const res = await deps.clients.intake.createRequest(
        {
          channel: Channel.CHANNEL_WEB_FORM,
          name: b.name ?? '',
          phone: b.phone ?? '',
          email: b.email ?? '',
          message: b.message ?? '',
          attribution: attributionIn({
            utm_source: b.utm_source,
            utm_medium: b.utm_medium,
            utm_campaign: b.utm_campaign,
            utm_content: b.utm_content,
            utm_term: b.utm_term,
            landing_page: b.page_url,
            referrer: b.referrer,
          }),
          idempotencyKey: '',
          publicFormId: form.formId,
          defaultCountry: deps.env.DEFAULT_PHONE_COUNTRY,
        },
        tenant,
      );
      return reply.code(202).send({ status: 'accepted', request_id: res.request!.id });
    },
  );
}
