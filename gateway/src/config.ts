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
  FUNNEL_GRPC_ADDR: hostPort,
  TELEPHONY_GRPC_ADDR: hostPort,
  /** Largest accepted JSON body. */
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(64 * 1024),
  /** Largest CSV file POST /v1/imports accepts (its own limit; BODY_LIMIT_BYTES stays for JSON). */
  GATEWAY_IMPORT_MAX_BYTES: z.coerce.number().int().min(1024).max(2 ** 31).default(64 * 1024 * 1024),
  /** Marks the session cookie Secure (set true behind HTTPS). */
  SESSION_COOKIE_SECURE: common.bool.default(false),
  /**
   * Send Strict-Transport-Security (one year, this host only) and CSP upgrade-insecure-requests: only
   * behind HTTPS. Unset: follows SESSION_COOKIE_SECURE (both mean "served over HTTPS").
   */
  GATEWAY_HSTS: common.bool.optional(),
  /**
   * The HTTP server under hostile input (security-headers.ts, edge-limits.ts): a request's headers must
   * arrive within GATEWAY_HEADERS_TIMEOUT_MS and the whole request (body included) within
   * GATEWAY_REQUEST_TIMEOUT_MS, else 408 and the connection is closed; an idle keep-alive connection is
   * closed after GATEWAY_KEEP_ALIVE_TIMEOUT_MS, any socket silent for GATEWAY_SOCKET_TIMEOUT_MS (at least
   * 20 s: the realtime stream writes a heartbeat every 15 s); headers larger than GATEWAY_MAX_HEADER_BYTES
   * are a 431. GATEWAY_MAX_CONNECTIONS caps open connections per replica (0: the process's open-file
   * limit less 512, read from /proc, so client sockets never take the descriptors the gateway needs).
   */
  GATEWAY_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  GATEWAY_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(120_000),
  GATEWAY_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(72_000),
  GATEWAY_SOCKET_TIMEOUT_MS: z.coerce.number().int().min(20_000).max(3_600_000).default(60_000),
  GATEWAY_MAX_HEADER_BYTES: z.coerce.number().int().min(4096).max(1024 * 1024).default(16 * 1024),
  GATEWAY_MAX_CONNECTIONS: z.coerce.number().int().min(0).max(1_000_000).default(0),
  /** How long an authenticated credential is trusted without asking identity again. */
  AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
  /** Public form submissions per client IP per minute, and per form per minute. */
  FORM_RATE_PER_IP: z.coerce.number().int().min(1).max(1_000_000_000).default(20),
  FORM_RATE_PER_FORM: z.coerce.number().int().min(1).max(1_000_000_000).default(600),
  /** Public DNI lends and heartbeats (`/v1/public/dni/…`) per client IP per minute (a visitor heartbeats every 10..1200 s). */
  DNI_RATE_PER_IP: z.coerce.number().int().min(1).max(1_000_000_000).default(60),
  /** Authenticated API calls per credential per minute. */
  API_RATE_PER_CREDENTIAL: z.coerce.number().int().min(1).max(1_000_000_000).default(60_000),
  /** Login attempts per client address per minute, refused at the edge before identity checks a password. */
  LOGIN_RATE_PER_IP: z.coerce.number().int().min(1).max(1_000_000_000).default(30),
  /**
   * The rate limits are counted in identity (shared by every replica); a replica leases
   * max(1, floor(limit / RATE_LEASE_DIVISOR)) units at a time and spends them locally.
   */
  RATE_LEASE_DIVISOR: z.coerce.number().int().min(1).max(1_000_000).default(100),
  /** Identity slower than this for a lease: the limits fail open to per-replica counting for a few seconds. */
  RATE_STORE_TIMEOUT_MS: z.coerce.number().int().min(10).max(10_000).default(200),
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
