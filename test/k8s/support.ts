/**
 * What the Kubernetes checks compare: the processes that exist in the repository (services/* and the
 * gateway) with the config schema each parses at start, and the chart's values and skaffold.yaml as
 * data.
 */
import type { z } from '@crm/config';
import { configSchemaOf, processDir } from '../../tools/src/services';
import { CHART_DIR, ROOT } from '../../tools/src/k8s/chart';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export { ROOT, CHART_DIR };

/**
 * The config schema of every process, found by convention: `<dir>/src/config.ts` exports
 * `<camelName>Env` (tools/src/services.ts). A service folder without one fails every test that loads
 * this file, naming the file and the export, so none is skipped silently.
 */
export const configSchemas: Record<string, z.ZodObject> = Object.fromEntries(processNames().map((name) => [name, configSchemaOf<z.ZodObject>(name)]));

/** Every deployable process in the repository: each services/<name> with a package.json, and the gateway. */
export function processNames(): string[] {
  const services = readdirSync(join(ROOT, 'services'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'services', d.name, 'package.json')))
    .map((d) => d.name);
  return [...services, 'gateway'].sort();
}

/** The folder of a process (services/<name>, or gateway). */
export { processDir };

export interface ServiceValues {
  enabled?: boolean;
  protocol?: 'grpc' | 'http';
  port?: number;
  replicas?: number;
  migrations?: boolean;
  env?: Record<string, string>;
  secretEnv?: Record<string, { name: string; key: string }>;
  grpcClients?: string[];
}

export interface ChartValues {
  otel: { endpoint: string };
  serviceDefaults: Required<ServiceValues> & Record<string, unknown>;
  services: Record<string, ServiceValues>;
  devEngines: { secretName: string };
}

export function readYaml<T>(file: string): T {
  return parse(readFileSync(join(ROOT, file), 'utf8')) as T;
}

export const chartValues = (): ChartValues => readYaml<ChartValues>('charts/crm/values.yaml');

/** A service's effective setting: its own value, else serviceDefaults (as the chart's helper does). */
export function setting<K extends keyof ServiceValues>(values: ChartValues, name: string, key: K): ServiceValues[K] {
  const own = values.services[name] ?? {};
  return key in own ? own[key] : (values.serviceDefaults[key] as ServiceValues[K]);
}

export interface SkaffoldConfig {
  apiVersion: string;
  build: { artifacts: { image: string; context?: string; docker?: { dockerfile: string; buildArgs?: Record<string, string> } }[] };
  deploy: { helm: { releases: { name: string; chartPath: string; valuesFiles?: string[]; setValueTemplates?: Record<string, string> }[] } };
  profiles: { name: string; patches?: { op: string; path: string; value?: unknown }[] }[];
}

export const skaffoldConfig = (): SkaffoldConfig => readYaml<SkaffoldConfig>('skaffold.yaml');

/** Fixture values files of the failure tests. */
export const fixture = (name: string): string => join(ROOT, 'test', 'k8s', 'fixtures', name);
