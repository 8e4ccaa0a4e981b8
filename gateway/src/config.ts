import { common, z } from '@crm/config';

const hostPort = z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port');

/** The gateway's environment (README "Environment variables"). */
export const gatewayEnv = z.object({
  HTTP_HOST: z.string().default('0.0.0.0'),
  HTTP_PORT: common.port.default(8080),
  IDENTITY_GRPC_ADDR: hostPort,
  INTAKE_GRPC_ADDR: hostPort,
  REPORTING_GRPC_ADDR: hostPort,
  CONTACTS_GRPC_ADDR: hostPort,
  /** Largest accepted JSON body. */
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(64 * 1024),
  /** Largest CSV file POST /v1/imports accepts (its own limit; BODY_LIMIT_BYTES stays for JSON). */
  GATEWAY_IMPORT_MAX_BYTES: z.coerce.number().int().min(1024).max(2 ** 31).default(64 * 1024 * 1024),
  /** Marks the session cookie Secure (set true behind HTTPS). */
  SESSION_COOKIE_SECURE: common.bool.default(false),
  /** How long an authenticated credential is trusted without asking identity again. */
  AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
  /** Public form submissions per client IP per minute, and per form per minute. */
  FORM_RATE_PER_IP: z.coerce.number().int().min(1).default(20),
  FORM_RATE_PER_FORM: z.coerce.number().int().min(1).default(600),
  /** Authenticated API calls per credential per minute. */
  API_RATE_PER_CREDENTIAL: z.coerce.number().int().min(1).default(60_000),
  /**
   * Requests in flight per gateway replica beyond which the excess is answered 503 + Retry-After at
   * once (reads may fill half of it, writes 85 %, public intake all): about the services' capacity
   * times the latency you accept.
   */
  GATEWAY_MAX_INFLIGHT: z.coerce.number().int().min(1).max(100_000).default(64),
  /** An event loop this many ms late sheds reads and writes for a second (public intake still goes). */
  GATEWAY_MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  /** Default country for phone numbers without a country code. */
  DEFAULT_PHONE_COUNTRY: z.string().regex(/^[A-Z]{2}$/).default('RU'),
  /** Trust X-Forwarded-For from a proxy in front (the ingress). */
  TRUST_PROXY: common.bool.default(false),
  /** Kafka, for the realtime feed of request events pushed to the web UI (Server-Sent Events). */
  KAFKA_BROKERS: common.brokers,
  /** Suffix of every topic name (tests isolate runs with it); empty in production. */
  TOPIC_SUFFIX: z.string().regex(/^[a-z0-9._-]*$/).default(''),
  /** The built web UI (web/dist) served at /; empty serves no UI. */
  WEB_DIST_DIR: z.string().default(''),
  LOG_LEVEL: common.logLevel,
  OTEL_EXPORTER_OTLP_ENDPOINT: common.optionalUrl,
});

export type GatewayEnv = z.infer<typeof gatewayEnv>;
