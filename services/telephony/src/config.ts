import { common, z } from '@crm/config';
import { baseServiceEnv } from '@crm/service';

const hostPort = z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port');

/** The environment of telephony: the standard service variables (README.md) plus its own. */
export const telephonyEnv = baseServiceEnv.extend({
  /** `host:port` of intake: calls create or find their `phone` request; routing decides whom to ring. */
  INTAKE_GRPC_ADDR: hostPort,
  /** `host:port` of contacts: the caller's contact (lookup by phone) for the screen pop. */
  CONTACTS_GRPC_ADDR: hostPort,
  /** `host:port` of identity: the tenant's time zone (missed-call hours) and the team roster. */
  IDENTITY_GRPC_ADDR: hostPort,
  /** How long "whom do I connect this caller to" waits for intake's routing before answering the fallback. */
  TELEPHONY_DECIDE_TIMEOUT_MS: z.coerce.number().int().min(5).max(5000).default(150),
  /** Standard Webhooks replay window: a signed timestamp further than this from now is refused (seconds). */
  TELEPHONY_WEBHOOK_TOLERANCE_S: z.coerce.number().int().min(10).max(3600).default(300),
  /** Deadline of one outbound HTTP call to a provider (route command, originate, recording download). */
  TELEPHONY_PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  /** Retries of an idempotent outbound provider call (with backoff). */
  TELEPHONY_PROVIDER_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  /**
   * Let outbound provider calls reach loopback and private addresses (an on-premise PBX on a private
   * network; the tests' local peers on 127.0.0.1, also allowed when NODE_ENV=test). Off: only public addresses.
   */
  TELEPHONY_ALLOW_PRIVATE_PROVIDER_URLS: common.bool.default(false),
  /** graphile-worker's concurrency in this replica (webhook processing, recording downloads). */
  TELEPHONY_JOB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(16),
  /** graphile-worker's poll interval (ms) when LISTEN/NOTIFY is missed. */
  TELEPHONY_JOB_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  /** The gateway's public base URL (connections' webhook URLs are built from it). */
  TELEPHONY_PUBLIC_URL: z.string().url().default('http://127.0.0.1:8080'),
  /** A missed call counts as recovered by a callback within this many hours. */
  TELEPHONY_CALLBACK_WINDOW_H: z.coerce.number().int().min(1).max(24 * 30).default(72),
});
export type TelephonyEnv = typeof telephonyEnv._output;
