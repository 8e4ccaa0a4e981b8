/**
 * The service registry: every service of the platform as data (./services.json). `npm start`'s process
 * list (platform.ts), the Kubernetes checks (test/k8s) and the service generator
 * (tools/generators/service) read it; a new service is one more entry, appended by the generator.
 * Everything else about a service is found by convention from its name:
 *   services/<name>/src/main.ts               the process
 *   services/<name>/src/config.ts             exports `<camelName>Env`, its zod config schema
 *   tools/src/k8s/migrate/<name>.ts           its migrations job plan (when it has a store)
 */
import { join } from 'node:path';
import registry from './services.json';

/** An engine a service keeps its own data in; `npm start` gives it DATABASE_URL or CLICKHOUSE_URL(+_DATABASE). */
export type Engine = 'postgres' | 'clickhouse';

export interface ServiceEntry {
  /** kebab-case: folder, Nx project, image `crm-<name>`, OTEL_SERVICE_NAME, `@crm/<name>`. */
  name: string;
  /** gRPC port under `npm start` (the chart uses 50051 for every service). */
  grpcPort: number;
  engines: Engine[];
  /** The gateway's variable with this service's address, when the gateway calls it (e.g. INTAKE_GRPC_ADDR). */
  gatewayEnv?: string;
}

export const SERVICE_NAME_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

const ROOT = join(__dirname, '..', '..');

function validated(entries: ServiceEntry[]): ServiceEntry[] {
  const seen = new Set<string>();
  const ports = new Set<number>();
  for (const s of entries) {
    if (!SERVICE_NAME_RE.test(s.name)) throw new Error(`tools/src/services.json: "${s.name}" is not a kebab-case service name`);
    if (seen.has(s.name)) throw new Error(`tools/src/services.json: "${s.name}" is listed twice`);
    if (ports.has(s.grpcPort)) throw new Error(`tools/src/services.json: port ${s.grpcPort} is used twice`);
    for (const e of s.engines) if (e !== 'postgres' && e !== 'clickhouse') throw new Error(`tools/src/services.json: ${s.name} has an unknown engine "${e}"`);
    seen.add(s.name);
    ports.add(s.grpcPort);
  }
  return entries;
}

/** Every service, in registry order (the order `npm start` launches them). */
export const services: readonly ServiceEntry[] = validated(registry.services as ServiceEntry[]);

export const serviceNames = (): string[] => services.map((s) => s.name);

export function service(name: string): ServiceEntry {
  const s = services.find((x) => x.name === name);
  if (!s) throw new Error(`no service "${name}" in tools/src/services.json`);
  return s;
}

/** `contact-notes` → `contactNotes`: the prefix of a service's exported names (`contactNotesEnv`). */
export const camelName = (name: string): string => name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** `contact-notes` → `contact_notes`: its database names (PostgreSQL `crm_<x>`, ClickHouse `crm_<x>`). */
export const snakeName = (name: string): string => name.replace(/-/g, '_');

/** The folder of a process: services/<name>, or gateway. */
export const processDir = (name: string): string => (name === 'gateway' ? 'gateway' : `services/${name}`);

/** A process's zod config schema, found by convention: `<dir>/src/config.ts` exports `<camelName>Env`. */
export function configSchemaOf<T = unknown>(name: string, root = ROOT): T {
  const file = join(root, processDir(name), 'src', 'config');
  const exported = `${camelName(name)}Env`;
  const mod = require(file) as Record<string, unknown>;
  if (!mod[exported]) throw new Error(`${processDir(name)}/src/config.ts must export ${exported} (its zod config schema)`);
  return mod[exported] as T;
}
