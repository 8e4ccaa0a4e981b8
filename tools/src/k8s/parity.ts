/**
 * Does the chart give each process the environment its code asks for? The code's side is the zod
 * schema each service parses at start (`loadConfig`); the chart's side is the container's environment
 * in the rendered manifests: `env` values, `valueFrom` references, and `envFrom` ConfigMaps resolved
 * to their keys.
 */
import type { z } from '@crm/config';
import type { K8sObject } from './chart';

/** Where a variable of a container comes from. */
export type EnvSource = { kind: 'value'; value: string } | { kind: 'secret'; name: string; key: string } | { kind: 'ref'; from: string };

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } } & Record<string, unknown>;
}
interface Container {
  name: string;
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
}
interface PodTemplate {
  spec: { template: { spec: { containers: Container[] } } };
}

/** Variables the process cannot start without: no default, not optional (undefined does not parse). */
export function requiredEnv(schema: z.ZodObject): string[] {
  return Object.entries(schema.shape)
    .filter(([, field]) => !(field as z.ZodType).safeParse(undefined).success)
    .map(([name]) => name)
    .sort();
}

/** Every variable the schema reads. */
export function knownEnv(schema: z.ZodObject): string[] {
  return Object.keys(schema.shape).sort();
}

/**
 * The environment of a container of a workload (Deployment, Job, StatefulSet) in `objects`.
 * Throws when the workload, the container or a referenced ConfigMap is not rendered: a reference to
 * nothing is a chart bug, not an absent variable.
 */
export function containerEnv(objects: K8sObject[], kind: string, name: string, container?: string): Map<string, EnvSource> {
  const workload = objects.find((o) => o.kind === kind && o.metadata.name === name) as (K8sObject & PodTemplate) | undefined;
  if (!workload) throw new Error(`${kind}/${name} is not rendered`);
  const containers = workload.spec.template.spec.containers;
  const c = container ? containers.find((x) => x.name === container) : containers[0];
  if (!c) throw new Error(`${kind}/${name} has no container ${container ?? ''}`);
  const env = new Map<string, EnvSource>();
  // envFrom first: an `env` entry of the same name wins, as in Kubernetes.
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef!.name) as (K8sObject & { data?: Record<string, string> }) | undefined;
      if (!cm) throw new Error(`${kind}/${name} reads ConfigMap ${from.configMapRef.name}, which is not rendered`);
      for (const [k, v] of Object.entries(cm.data ?? {})) env.set(k, { kind: 'value', value: v });
    } else {
      throw new Error(`${kind}/${name}: envFrom other than a ConfigMap hides which variables are set; use env with secretKeyRef`);
    }
  }
  for (const v of c.env ?? []) {
    if (v.value !== undefined) env.set(v.name, { kind: 'value', value: String(v.value) });
    else if (v.valueFrom?.secretKeyRef) env.set(v.name, { kind: 'secret', name: v.valueFrom.secretKeyRef.name, key: v.valueFrom.secretKeyRef.key });
    else if (v.valueFrom) env.set(v.name, { kind: 'ref', from: Object.keys(v.valueFrom).join(',') });
    else env.set(v.name, { kind: 'value', value: '' });
  }
  return env;
}

export interface ParityOptions {
  /** Variables the chart may set although the schema does not read them (e.g. OTEL_SERVICE_NAME). */
  extraAllowed?: string[];
}

/**
 * Every problem between a service's config schema and the environment the chart gives it:
 * a required variable not set; a variable set that the service does not read (a typo, or a leftover);
 * a literal value the schema rejects (variables from Secrets are not known here and are skipped).
 */
export function envParityProblems(schema: z.ZodObject, env: Map<string, EnvSource>, opts: ParityOptions = {}): string[] {
  const problems: string[] = [];
  for (const name of requiredEnv(schema)) if (!env.has(name)) problems.push(`${name} is required by the service but not set`);
  const known = new Set([...knownEnv(schema), ...(opts.extraAllowed ?? [])]);
  for (const name of env.keys()) if (!known.has(name)) problems.push(`${name} is set but the service does not read it`);
  const literal: Record<string, string> = {};
  const fromElsewhere: Record<string, true> = {};
  for (const [name, source] of env) {
    if (!(name in schema.shape)) continue;
    if (source.kind === 'value') literal[name] = source.value;
    else fromElsewhere[name] = true;
  }
  const parsed = schema.omit(fromElsewhere).safeParse(literal);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '(root)');
      if (env.has(name)) problems.push(`${name}=${JSON.stringify(literal[name])} is rejected by the service: ${issue.message}`);
    }
  }
  return problems;
}
