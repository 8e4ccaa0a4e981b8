/**
 * Security headers on everything the gateway serves (issue 16 §4), with @fastify/helmet.
 *
 * Every answer (the web UI, its assets, the API, problems, 404s, /docs, /openapi.json):
 * `X-Content-Type-Options: nosniff`, `Referrer-Policy: strict-origin-when-cross-origin` (the browser
 * default made explicit: requests to the gateway itself keep the full URL — the no-JS demo form's UTM
 * tags travel in it — while another site learns only the origin, never a path with a request id or an
 * invite token), `Cross-Origin-Opener-Policy: same-origin`, `Cross-Origin-Resource-Policy: same-origin`,
 * no `X-Powered-By`, and `Strict-Transport-Security` only behind HTTPS (GATEWAY_HSTS, by default
 * SESSION_COOKIE_SECURE).
 *
 * The Content-Security-Policy, by what is served:
 * - the web UI and the API (the default): only the gateway's own origin — `default-src 'self'`,
 *   `script-src 'self'` (no inline script, no eval), `style-src 'self'`, `img-src 'self' data:` (the
 *   favicon is a data: URL), `connect-src 'self'`, `frame-ancestors 'none'` (with `X-Frame-Options: DENY`
 *   for old browsers), `base-uri 'none'`, `form-action 'self'`, `object-src 'none'`;
 * - /docs (Swagger UI): the same plus the hash of its logo's inline style (DOCS_CSP); @fastify/swagger-ui
 *   leaves the validator badge (an image from validator.swagger.io) off;
 * - an HTML page of the gateway's own with inline `<script>`/`<style>` blocks (the demo form, the form
 *   thank-you and error pages) declares them in its route config (`csp: { inlineScripts, inlineStyles }`)
 *   and the policy allows exactly those by their SHA-256 — never 'unsafe-inline';
 * - what customers embed in their sites (`config: { embeddable: true }`): the form submission endpoint and
 *   its thank-you page today; the chat widget and number pool scripts when they come. They may be loaded
 *   and framed by any site (`Cross-Origin-Resource-Policy: cross-origin`, no frame-ancestors, no
 *   X-Frame-Options) and keep the rest. Such a route declares its own CORS — `Access-Control-Allow-Origin: *`,
 *   only the methods and headers it takes, never credentials — and must take no credential itself
 *   (`public: true`): the gateway refuses to start with an embeddable authenticated /v1 route.
 *
 * API answers (`/v1/…`) are `Cache-Control: no-store` unless the route says otherwise (the realtime stream).
 */
import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import { createHash } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayEnv } from './config';

/** A page's inline blocks (their exact text between the tags) and where its forms may post besides the gateway. */
export interface RouteCsp {
  inlineScripts?: string[];
  inlineStyles?: string[];
  formAction?: string[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Served to customers' sites (a public form endpoint, a widget script): any site may load and frame
     * it. The route sets its own CORS (origin *, no credentials) and takes no credential.
     */
    embeddable?: boolean;
    /** An HTML page's inline blocks, allowed by their hash, and extra form-action sources. */
    csp?: RouteCsp;
  }
}

type Directives = Record<string, string[]>;

/**
 * /docs: Swagger UI's scripts and styles are files; the one inline block is the `<style>` inside its
 * topbar's logo SVG (swagger-ui-bundle.js), allowed by hash. A Swagger UI upgrade that changes it shows
 * as a CSP violation in test/browser/csp.integration.test.ts.
 */
export const DOCS_CSP: RouteCsp = { inlineStyles: ['.logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}'] };

/** `'sha256-…'`: a CSP source that allows exactly this inline block (the text between its tags). */
export function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** The web UI's and the API's policy: the gateway's origin only. */
export function baseDirectives(https: boolean): Directives {
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'"],
    'connect-src': ["'self'"],
    'frame-ancestors': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'self'"],
    'object-src': ["'none'"],
    // Over plain HTTP (local, the dev ingress) it would send the UI's own requests to an https:// that is not there.
    ...(https ? { 'upgrade-insecure-requests': [] } : {}),
  };
}

/** The policy of one route: the base plus its declared inline blocks, without frame-ancestors when embeddable. */
export function routeDirectives(https: boolean, config: { embeddable?: boolean; csp?: RouteCsp }): Directives {
  const d = baseDirectives(https);
  if (config.csp?.inlineScripts?.length) d['script-src'] = [...d['script-src'], ...config.csp.inlineScripts.map(cspHash)];
  if (config.csp?.inlineStyles?.length) d['style-src'] = [...d['style-src'], ...config.csp.inlineStyles.map(cspHash)];
  if (config.csp?.formAction?.length) d['form-action'] = [...d['form-action'], ...config.csp.formAction];
  if (config.embeddable) delete d['frame-ancestors'];
  return d;
}

/** Whether the gateway is served over HTTPS (HSTS, upgrade-insecure-requests). */
export const behindHttps = (env: Pick<GatewayEnv, 'GATEWAY_HSTS' | 'SESSION_COOKIE_SECURE'>): boolean => env.GATEWAY_HSTS ?? env.SESSION_COOKIE_SECURE;

/**
 * Registers the headers on `app` (call it first in buildGateway, before any route or plugin, so every
 * route — /docs included — and every early refusal gets them).
 */
export async function registerSecurityHeaders<L extends FastifyBaseLogger>(app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, L>, env: GatewayEnv): Promise<void> {
  const https = behindHttps(env);
  const global: FastifyHelmetOptions = {
    contentSecurityPolicy: { useDefaults: false, directives: baseDirectives(https) },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    // One year, this host only: the gateway does not know what else runs under its parent domain.
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    xFrameOptions: { action: 'deny' },
    // And helmet's defaults: X-Content-Type-Options nosniff, no X-Powered-By, Origin-Agent-Cluster,
    // X-DNS-Prefetch-Control off, X-Download-Options noopen, X-Permitted-Cross-Domain-Policies none, X-XSS-Protection 0.
  };

  // Before helmet's own onRoute hook, which reads `routeOptions.helmet`: a route with inline blocks or
  // embeddable gets its own policy, computed once here.
  app.addHook('onRoute', (route) => {
    const config = { ...route.config, ...(route.url === '/docs' || route.url.startsWith('/docs/') ? { csp: DOCS_CSP } : {}) };
    if (config.embeddable && route.url.startsWith('/v1/') && !config.public) {
      throw new Error(`${String(route.method)} ${route.url} is embeddable but takes a credential: an embeddable route must be public`);
    }
    if (!config.embeddable && !config.csp) return;
    route.helmet = {
      contentSecurityPolicy: { useDefaults: false, directives: routeDirectives(https, config) },
      ...(config.embeddable ? { crossOriginResourcePolicy: { policy: 'cross-origin' as const }, xFrameOptions: false } : {}),
    };
  });
  await app.register(helmet, { global: true, ...global });

  app.addHook('onRequest', async (req, reply) => {
    if (req.url.startsWith('/v1/')) reply.header('cache-control', 'no-store');
  });
}
