/**
 * The platform for cross-service tests: identity, contacts and intake (and reporting when asked) started
 * in-process on real gRPC ports against per-run databases and topics, the gateway on a real HTTP port,
 * and two tenants, each with an admin user, an API key and a public form made through identity's API.
 */
import { parseConfig } from '@crm/config';
import { IdentityServiceService, Role } from '@crm/contracts/crm/identity/v1/identity';
import { createClient } from '@crm/grpc';
import { createRunTopics, createTestDatabase, kafkaFor, stackUrls, testLogger, uniqueName, type TestDatabase } from '@crm/testing';
import { gatewayEnv } from '@crm/gateway/src/config';
import { startGateway, type RunningGateway } from '@crm/gateway/src/server';
import { contactsEnv, startContacts } from '@crm/contacts/src/app';
import { funnelEnv, startFunnel } from '@crm/funnel/src/app';
import { identityEnv, startIdentity } from '@crm/identity/src/app';
import { intakeEnv, startIntake } from '@crm/intake/src/app';
import { startReporting, type RunningReporting } from '@crm/reporting/src/app';
import { startTelephony, telephonyEnv } from '@crm/telephony/src/app';
import { dropDatabase as dropClickHouseDatabase } from '@crm/reporting/src/clickhouse/client';
import { reportingEnv } from '@crm/reporting/src/config';
import { randomUUID } from 'node:crypto';

export interface TestTenant {
  id: string;
  slug: string;
  apiKey: string;
  keyId: string;
  formId: string;
  adminEmail: string;
  adminPassword: string;
}

export interface Platform {
  base: string;
  identityAddr: string;
  intakeAddr: string;
  intakeDbUrl: string;
  /** contacts (intake matches every request there; the gateway's contacts routes). */
  contactsAddr: string;
  contactsDbUrl: string;
  /** funnel (pipelines and deals; the gateway's funnel routes). */
  funnelAddr: string;
  funnelDbUrl: string;
  /** telephony (numbers, connections, calls; the gateway's telephony routes and provider webhooks). */
  telephonyAddr: string;
  telephonyDbUrl: string;
  /** This run's topic suffix (a second gateway's realtime feed needs it). */
  topicSuffix: string;
  /** Reporting on its own ClickHouse database, when asked for (`reporting: true`). */
  reporting?: RunningReporting;
  tenants: Record<'a' | 'b', TestTenant>;
  stop(): Promise<void>;
}

export const ADMIN_PASSWORD = 'correct horse battery';

export async function startPlatform(opts: { gatewayEnv?: Record<string, string>; webDist?: string; reporting?: boolean; telephonyEnv?: Record<string, string> } = {}): Promise<Platform> {
  const logger = testLogger('platform');
  const urls = stackUrls();
  const suffix = `.${uniqueName('pf')}`;
  // What does not depend on anything starts together: the topics and the databases, then identity,
  // contacts, funnel and reporting; intake calls identity and contacts, telephony calls intake.
  const [, ...dbs] = await Promise.all([
    createRunTopics(kafkaFor(urls.kafkaBrokers, logger), suffix),
    ...['pf_identity', 'pf_intake', 'pf_contacts', 'pf_funnel', 'pf_telephony'].map((n) => createTestDatabase(n)),
  ]) as [unknown, ...TestDatabase[]];
  const common = { KAFKA_BROKERS: urls.kafkaBrokers.join(','), GRPC_PORT: '0', GRPC_HOST: '127.0.0.1', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', TOPIC_SUFFIX: suffix };
  const chDatabase = uniqueName('pf_reporting');
  const [identity, contacts, funnel, reporting] = await Promise.all([
    startIdentity(parseConfig(identityEnv, { ...common, DATABASE_URL: dbs[0].url })),
    startContacts(parseConfig(contactsEnv, { ...common, DATABASE_URL: dbs[2].url })),
    startFunnel(parseConfig(funnelEnv, { ...common, DATABASE_URL: dbs[3].url })),
    opts.reporting ? startReporting(parseConfig(reportingEnv, { ...common, CLICKHOUSE_URL: urls.clickhouseUrl, CLICKHOUSE_DATABASE: chDatabase }), { logger }) : undefined,
  ]);
  const contactsAddr = `127.0.0.1:${contacts.grpc.port}`;
  const funnelAddr = `127.0.0.1:${funnel.grpc.port}`;
  const intake = await startIntake(parseConfig(intakeEnv, { ...common, DATABASE_URL: dbs[1].url, CONTACTS_GRPC_ADDR: contactsAddr, IDENTITY_GRPC_ADDR: `127.0.0.1:${identity.grpc.port}`, INTAKE_TEAM_CACHE_MS: '0' }));
  const telephony = await startTelephony(
    parseConfig(telephonyEnv, {
      ...common,
      DATABASE_URL: dbs[4].url,
      INTAKE_GRPC_ADDR: `127.0.0.1:${intake.grpc.port}`,
      CONTACTS_GRPC_ADDR: contactsAddr,
      IDENTITY_GRPC_ADDR: `127.0.0.1:${identity.grpc.port}`,
      TELEPHONY_JOB_POLL_MS: '200',
      ...opts.telephonyEnv,
    }),
  );
  const telephonyAddr = `127.0.0.1:${telephony.grpc.port}`;

  const env = parseConfig(gatewayEnv, {
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    IDENTITY_GRPC_ADDR: `127.0.0.1:${identity.grpc.port}`,
    INTAKE_GRPC_ADDR: `127.0.0.1:${intake.grpc.port}`,
    REPORTING_GRPC_ADDR: reporting ? `127.0.0.1:${reporting.grpc.port}` : '127.0.0.1:1',
    CONTACTS_GRPC_ADDR: contactsAddr,
    FUNNEL_GRPC_ADDR: funnelAddr,
    TELEPHONY_GRPC_ADDR: telephonyAddr,
    KAFKA_BROKERS: urls.kafkaBrokers.join(','),
    TOPIC_SUFFIX: suffix,
    BODY_LIMIT_BYTES: '16384',
    FORM_RATE_PER_IP: '1000',
    API_RATE_PER_CREDENTIAL: '300',
    // Every test logs in from 127.0.0.1 (rate-limits.integration.test.ts sets its own small limit).
    LOGIN_RATE_PER_IP: '1000',
    AUTH_CACHE_TTL_MS: '0',
    // Tests send bursts (50 at once) to check other limits, and the services share the test's event loop
    // (a slow moment of theirs is not the gateway's overload); admission has its own test (overload).
    GATEWAY_MAX_INFLIGHT: '1000',
    GATEWAY_MAX_EVENT_LOOP_DELAY_MS: '60000',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...(opts.webDist ? { WEB_DIST_DIR: opts.webDist } : {}),
    ...opts.gatewayEnv,
  });
  const gateway = await startGateway(env, logger);
  const base = gateway.address;

  const admin = createClient(IdentityServiceService, { address: env.IDENTITY_GRPC_ADDR });
  const svc = { tenantId: 'platform', callerId: 'test', callerKind: 'service' as const };
  const tenants = {} as Record<'a' | 'b', TestTenant>;
  for (const name of ['a', 'b'] as const) {
    const slug = `t-${name}-${uniqueName('x').replace(/_/g, '-')}`.slice(0, 60);
    const t = (await admin.createTenant({ name: `Tenant ${name.toUpperCase()}`, slug, locale: name === 'a' ? 'ru' : 'en' }, svc)).tenant!;
    const ctx = { tenantId: t.id, callerId: 'test', callerKind: 'service' as const };
    const adminEmail = `admin@${name}.test`;
    await admin.createUser({ email: adminEmail, displayName: `Admin ${name.toUpperCase()}`, password: ADMIN_PASSWORD, roles: [Role.ROLE_ADMIN] }, ctx);
    const key = await admin.createApiKey({ name: 'test', scopes: ['requests:read', 'requests:write', 'reports:read'] }, ctx);
    const form = (await admin.createPublicForm({ name: 'Contact us' }, ctx)).form!;
    tenants[name] = { id: t.id, slug, apiKey: key.secret, keyId: key.key!.id, formId: form.id, adminEmail, adminPassword: ADMIN_PASSWORD };
  }
  admin.close();

  return {
    base,
    identityAddr: env.IDENTITY_GRPC_ADDR,
    intakeAddr: env.INTAKE_GRPC_ADDR,
    intakeDbUrl: dbs[1].url,
    contactsAddr,
    contactsDbUrl: dbs[2].url,
    funnelAddr,
    funnelDbUrl: dbs[3].url,
    telephonyAddr,
    telephonyDbUrl: dbs[4].url,
    topicSuffix: suffix,
    reporting,
    tenants,
    stop: async () => {
      await gateway.stop();
      // The services share nothing but identity (intake asks it), so they stop together, identity last.
      // telephony calls intake, contacts and identity: it stops first.
      await telephony.stop();
      await Promise.all([reporting?.stop(), intake.stop(), contacts.stop(), funnel.stop()]);
      await identity.stop();
      await Promise.all(dbs.map((d) => d.drop()));
      if (reporting) await dropClickHouseDatabase(urls.clickhouseUrl, chDatabase).catch(() => undefined);
    },
  };
}

/** A row of reporting's `requests` table as its sink writes it, for a request created at `at` (UTC ISO). */
export function reportRequestRow(tenantId: string, at: string, channel = 'web_form') {
  return {
    event_id: randomUUID(),
    tenant_id: tenantId,
    request_id: randomUUID(),
    created_at: at.replace('T', ' ').replace('Z', ''),
    day: at.slice(0, 10),
    channel,
    number_axis: 'primary',
    meaning_axis: 'unknown',
    contact_axis: 'none',
    qualification_axis: 'pending',
    state: 'new',
    utm_source: '',
    utm_medium: '',
    utm_campaign: '',
    utm_content: '',
    utm_term: '',
    landing_page: '',
    referrer: '',
    ingested_at: new Date().toISOString().slice(0, 19).replace('T', ' '),
  };
}

/**
 * Another gateway replica in front of the platform's services (its own HTTP port, the run's topics):
 * `env` adds or overrides its settings, as a second replica's deployment would.
 */
export function startReplica(platform: Platform, env: Record<string, string>, name = 'replica'): Promise<RunningGateway> {
  return startGateway(
    parseConfig(gatewayEnv, {
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      IDENTITY_GRPC_ADDR: platform.identityAddr,
      INTAKE_GRPC_ADDR: platform.intakeAddr,
      REPORTING_GRPC_ADDR: '127.0.0.1:1',
      CONTACTS_GRPC_ADDR: platform.contactsAddr,
      FUNNEL_GRPC_ADDR: platform.funnelAddr,
      TELEPHONY_GRPC_ADDR: platform.telephonyAddr,
      KAFKA_BROKERS: stackUrls().kafkaBrokers.join(','),
      TOPIC_SUFFIX: platform.topicSuffix,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...env,
    }),
    testLogger(name),
  );
}
