/**
 * identity for one test file: the service in-process on a fresh database and its own run topics, with
 * gRPC clients of its three services and the helpers every file needs (tenants, users, SQL, failures).
 */
import { IdentityServiceService, Role, type Tenant, type User } from '@crm/contracts/crm/identity/v1/identity';
import { SecurityServiceService } from '@crm/contracts/crm/identity/v1/security';
import { TeamServiceService } from '@crm/contracts/crm/identity/v1/team';
import { parseConfig } from '@crm/config';
import { createClient, type PromiseClient, type ServiceError, type TenantContext } from '@crm/grpc';
import type { RunningService } from '@crm/service';
import { createRunTopics, createTestDatabase, kafkaFor, stackUrls, testLogger, uniqueName, type TestDatabase } from '@crm/testing';
import { identityEnv, startIdentity } from '../src/app';

/** The gateway's context for pre-authentication calls (identity ignores their tenant). */
export const platform: TenantContext = { tenantId: 'platform', callerId: 'gateway', callerKind: 'service' };
export const serviceFor = (tenant: Tenant): TenantContext => ({ tenantId: tenant.id, callerId: 'bootstrap', callerKind: 'service' });
export const userFor = (tenant: Tenant, user: { id: string }): TenantContext => ({ tenantId: tenant.id, callerId: user.id, callerKind: 'user' });
export const PASSWORD = 's3cret-passw0rd';
/** A well-formed id nobody has. */
export const MISSING = '0193a4b2-0000-7000-8000-000000000001';

export interface IdentityHarness {
  svc: RunningService;
  db: TestDatabase;
  identity: PromiseClient<typeof IdentityServiceService>;
  security: PromiseClient<typeof SecurityServiceService>;
  team: PromiseClient<typeof TeamServiceService>;
  sql<T = Record<string, unknown>>(query: string, params?: unknown[]): Promise<T[]>;
  newTenant(opts?: { locale?: 'ru' | 'en'; timeZone?: string }): Promise<Tenant>;
  newUser(tenant: Tenant, roles?: Role[], opts?: { displayName?: string }): Promise<User>;
  stop(): Promise<void>;
}

/** Starts identity with these variables on top of the test defaults (each file names only what it tests). */
export async function startIdentityHarness(name: string, env: Record<string, string> = {}, clientOpts: { maxInFlight?: number } = {}): Promise<IdentityHarness> {
  const db = await createTestDatabase(`identity_${name}`);
  const suffix = `.${uniqueName(name.slice(0, 4))}`;
  await createRunTopics(kafkaFor(stackUrls().kafkaBrokers, testLogger(name)), suffix);
  const svc = await startIdentity(
    parseConfig(identityEnv, {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: stackUrls().kafkaBrokers.join(','),
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      TOPIC_SUFFIX: suffix,
      ...env,
    }),
  );
  const address = `127.0.0.1:${svc.grpc.port}`;
  const identity = createClient(IdentityServiceService, { address, ...clientOpts });
  const security = createClient(SecurityServiceService, { address, ...clientOpts });
  const team = createClient(TeamServiceService, { address, ...clientOpts });
  return {
    svc,
    db,
    identity,
    security,
    team,
    sql: <T>(query: string, params: unknown[] = []) => svc.orm!.em.getConnection().execute<T[]>(query, params),
    newTenant: async (opts = {}) => {
      const slug = uniqueName('t').replace(/_/g, '-');
      return (await identity.createTenant({ name: `Tenant ${slug}`, slug, locale: opts.locale ?? 'en', timeZone: opts.timeZone }, platform)).tenant!;
    },
    newUser: async (tenant, roles = [Role.ROLE_SELLER], opts = {}) => {
      const email = `${uniqueName('u')}@example.com`;
      return (await identity.createUser({ email, displayName: opts.displayName ?? 'Anna Smirnova', password: PASSWORD, roles }, serviceFor(tenant))).user!;
    },
    stop: async () => {
      identity.close();
      security.close();
      team.close();
      await svc.stop();
      await db.drop();
    },
  };
}

/** The error a call failed with (the test fails if it succeeded). */
export async function failure(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

/** The fields an INVALID_ARGUMENT named (x-error-violations). */
export function violationFields(err: ServiceError): string[] {
  const raw = err.metadata.get('x-error-violations')[0];
  return raw ? (JSON.parse(raw.toString()) as { field: string }[]).map((v) => v.field) : [];
}
