/**
 * funnel against the real engines over real gRPC, for its integration tests: the service in-process
 * (startFunnel) on a fresh PostgreSQL database with per-run Kafka topics, clients of both its services,
 * and helpers every file needs (two tenants' callers, failure, SQL, the deal topic's name).
 */
import { parseConfig } from '@crm/config';
import { DealServiceService } from '@crm/contracts/crm/funnel/v1/deals';
import { PipelineServiceService } from '@crm/contracts/crm/funnel/v1/pipelines';
import { createClient, type PromiseClient, type ServiceError, type TenantContext } from '@crm/grpc';
import type { RunningService } from '@crm/service';
import { createRunTopics, createTestDatabase, kafkaFor, stackUrls, testLogger, uniqueName, type TestDatabase } from '@crm/testing';
import type { Kafka } from 'kafkajs';
import { funnelEnv, startFunnel } from '../src/app';
import { DEAL_TOPIC } from '../src/events';

export interface FunnelHarness {
  db: TestDatabase;
  kafka: Kafka;
  svc: RunningService;
  address: string;
  suffix: string;
  /** This run's deal topic. */
  dealTopic: string;
  pipelines: PromiseClient<typeof PipelineServiceService>;
  deals: PromiseClient<typeof DealServiceService>;
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

/** An admin of a fresh tenant (sees and changes everything). */
export function adminOf(tenantId = uniqueName('tenant')): TenantContext {
  return { tenantId, callerId: '01900000-0000-7000-8000-00000000a001', callerKind: 'user', roles: ['admin'] };
}

export async function startFunnelHarness(name: string, env: Record<string, string> = {}): Promise<FunnelHarness> {
  const urls = stackUrls();
  const suffix = `.${uniqueName(name)}`;
  const db = await createTestDatabase(name);
  const kafka = kafkaFor(urls.kafkaBrokers, testLogger());
  await createRunTopics(kafka, suffix);
  const svc = await startFunnel(
    parseConfig(funnelEnv, {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: urls.kafkaBrokers.join(','),
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      TOPIC_SUFFIX: suffix,
      ...env,
    }),
  );
  const address = `127.0.0.1:${svc.grpc.port}`;
  const pipelines = createClient(PipelineServiceService, { address });
  const deals = createClient(DealServiceService, { address });
  return {
    db,
    kafka,
    svc,
    address,
    suffix,
    dealTopic: `${DEAL_TOPIC}${suffix}`,
    pipelines,
    deals,
    sql: (text, params = []) => svc.orm!.em.fork().getConnection().execute(text, params as never[]) as never,
    stop: async () => {
      pipelines.close();
      deals.close();
      await svc.stop();
      await db.drop();
      const admin = kafka.admin();
      await admin.connect();
      const mine = (await admin.listTopics()).filter((t) => t.endsWith(suffix) || t.endsWith(`${suffix}.dlq`));
      if (mine.length) await admin.deleteTopics({ topics: mine });
      await admin.disconnect();
    },
  };
}

/** The gRPC error a call fails with (fails the test when the call succeeds). */
export async function failure(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}
