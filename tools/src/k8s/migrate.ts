/**
 * The migrations job of the Helm chart. Each service image carries `dist/<name>/migrate.js`, bundled by
 * tools/scripts/k8s-bundle.mjs from the service's plan in ./migrate/<name>.ts and `runMigrationJob`
 * below. It prepares what the service needs and exits: its PostgreSQL database (created when missing,
 * then the same migrations `startService` applies: the runtime's outbox tables first, then the
 * service's), its ClickHouse migrations, and the Kafka topics it owns in the registry (proto/topics).
 * Services still migrate on start; run as a pre-install/pre-upgrade hook, the job makes that a no-op,
 * so new replicas never race each other over a schema change.
 */
import { ConfigError, parseConfig, z } from '@crm/config';
import { createOrm, ensureDatabase, migrate, type NamedMigration } from '@crm/db';
import { createKafka, createTopics, eventingEntities, eventingMigrations, loadRegistry } from '@crm/kafka';
import { createLogger, type Logger } from '@crm/logger';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Variables the job reads besides the service's own (the chart sets them on the job only). */
export const migrationJobEnv = z.object({
  /** Replication factor of the topics created (1 on a single-broker cluster). */
  TOPIC_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(16).default(1),
  /** The topic registry folder; found next to the bundle (image) or in the repository when unset. */
  TOPIC_REGISTRY_DIR: z.string().optional(),
});

/** The environment every plan needs from its service's config (all services read these). */
export interface ServiceEnvCommon {
  LOG_LEVEL: string;
  KAFKA_BROKERS?: string[];
  TOPIC_SUFFIX?: string;
}

/** What one service's job does; `./migrate/<name>.ts` exports one. */
export interface MigrationPlan<S extends z.ZodObject = z.ZodObject> {
  /** The service's name: the registry `owner` of its topics, the database name when the URL has none. */
  service: string;
  /** The service's own config schema: the job fails on the same variables the service would. */
  envSchema: S;
  /** PostgreSQL: the service's database URL and its migrations (the runtime's are put in front). */
  postgres?: (env: z.infer<S>) => { url: string; migrations: NamedMigration[] };
  /** Anything else to migrate (reporting: ClickHouse); returns the names applied. */
  other?: (env: z.infer<S>, logger: Logger) => Promise<string[]>;
  /**
   * Registry topics this service consumes whose owner has no service yet (contacts reads the funnel's
   * deals before the funnel exists): created here so that its consumers can start; the owner's job later
   * finds them in place.
   */
  aheadOfOwner?: string[];
}

export interface MigrationResult {
  applied: string[];
  topicsCreated: string[];
}

/** Finds `rel` in `from` or one of its parents (the registry sits at /app/proto/topics in an image). */
export function findUp(rel: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, rel))) return join(dir, rel);
    if (dirname(dir) === dir) return undefined;
  }
}

/** Migrates a PostgreSQL database exactly as `startService` does before it serves. */
export async function migratePostgres(service: string, url: string, migrations: NamedMigration[]): Promise<string[]> {
  const database = new URL(url).pathname.replace(/^\//, '') || service.replace(/-/g, '_');
  await ensureDatabase(url, database);
  const orm = await createOrm({ clientUrl: url, entities: eventingEntities, migrations: [...eventingMigrations, ...migrations], poolMax: 1 });
  try {
    return await migrate(orm);
  } finally {
    await orm.close(true);
  }
}

/** Runs a plan against `rawEnv` (process.env in the job). Throws on the first failure (ConfigError first). */
export async function runMigrationJob<S extends z.ZodObject>(plan: MigrationPlan<S>, rawEnv: NodeJS.ProcessEnv = process.env): Promise<MigrationResult> {
  // One parse of both schemas, so a ConfigError lists every problem at once.
  const env = parseConfig(plan.envSchema.extend(migrationJobEnv.shape), rawEnv) as z.infer<S> & ServiceEnvCommon & z.infer<typeof migrationJobEnv>;
  const logger = createLogger({ service: `${plan.service}-migrate`, level: env.LOG_LEVEL });
  const applied: string[] = [];
  if (plan.postgres) {
    const { url, migrations } = plan.postgres(env);
    applied.push(...(await migratePostgres(plan.service, url, migrations)));
  }
  if (plan.other) applied.push(...(await plan.other(env, logger)));

  const registryDir = env.TOPIC_REGISTRY_DIR ?? findUp(join('proto', 'topics'), __dirname);
  if (!registryDir) throw new Error('topic registry not found: set TOPIC_REGISTRY_DIR');
  // Topic names (and so their owner) use snake_case: crm.<owner>.<entity>.v<N> (the lead-scoring service owns crm.lead_scoring.*).
  const owned = loadRegistry(registryDir).filter((t) => t.owner === plan.service.replace(/-/g, '_') || plan.aheadOfOwner?.includes(t.name));
  let topicsCreated: string[] = [];
  if (owned.length) {
    if (!env.KAFKA_BROKERS?.length) throw new Error(`${plan.service} owns topics but its config has no KAFKA_BROKERS`);
    const kafka = createKafka({ clientId: `${plan.service}-migrate`, brokers: env.KAFKA_BROKERS, logger });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const suffix = env.TOPIC_SUFFIX ?? '';
      topicsCreated = await createTopics(admin, owned, { rename: (n) => `${n}${suffix}`, replicationFactor: env.TOPIC_REPLICATION_FACTOR });
    } finally {
      await admin.disconnect();
    }
  }
  logger.info({ applied, topicsCreated }, 'migrations done');
  return { applied, topicsCreated };
}

/**
 * The job's process: exit 0 when done; 78 (EX_CONFIG, like the services) listing every missing or
 * invalid variable; 1 with the error on stderr otherwise (the Job retries).
 */
export function runMigrationJobMain<S extends z.ZodObject>(plan: MigrationPlan<S>): void {
  runMigrationJob(plan).then(
    () => process.exit(0),
    (err: unknown) => {
      if (err instanceof ConfigError) {
        process.stderr.write(`${err.message}\n`);
        process.exit(78);
      }
      process.stderr.write(`${plan.service} migrations failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
