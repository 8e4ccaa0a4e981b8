/**
 * charts/crm as data: `helm template` and `helm lint` through the bundled helm (./helm.ts), the rendered
 * manifests parsed into objects, and their validation against the Kubernetes API schemas
 * (`kubernetes-models`, offline: the validators are precompiled in the package).
 */
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runHelm, type HelmResult } from './helm';

export const ROOT = join(__dirname, '..', '..', '..');
export const CHART_DIR = join(ROOT, 'charts', 'crm');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface RenderOptions {
  /** Values files (absolute, or relative to the repository root), applied in order. */
  valuesFiles?: string[];
  /** `--set` pairs. */
  set?: Record<string, string>;
  release?: string;
  namespace?: string;
}

export interface RenderResult extends HelmResult {
  ok: boolean;
  objects: K8sObject[];
}

function valueArgs(opts: RenderOptions): string[] {
  const args: string[] = [];
  for (const f of opts.valuesFiles ?? []) args.push('--values', f);
  for (const [k, v] of Object.entries(opts.set ?? {})) args.push('--set', `${k}=${v}`);
  return args;
}

/** Parses a multi-document YAML stream (empty documents skipped); throws on a YAML error. */
export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`rendered YAML is invalid: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as K8sObject | null;
    if (value) objects.push(value);
  }
  return objects;
}

/** `helm template` of charts/crm; `ok` is false (and `objects` empty) when helm refuses the values. */
export function renderChart(opts: RenderOptions = {}): RenderResult {
  const r = runHelm(['template', opts.release ?? 'crm', CHART_DIR, '--namespace', opts.namespace ?? 'sales2', ...valueArgs(opts)], { cwd: ROOT });
  const ok = r.status === 0;
  return { ...r, ok, objects: ok ? parseManifests(r.stdout) : [] };
}

/** `helm lint --strict` of charts/crm (schema, templates, and warnings treated as errors). */
export function lintChart(opts: RenderOptions = {}): HelmResult & { ok: boolean } {
  const r = runHelm(['lint', '--strict', CHART_DIR, '--namespace', opts.namespace ?? 'sales2', ...valueArgs(opts)], { cwd: ROOT });
  return { ...r, ok: r.status === 0 };
}

export function findObject(objects: K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

type Model = new (data: unknown) => { validate(): void };

/**
 * Problems of one object against the Kubernetes OpenAPI schema of its kind (types, required fields,
 * enums, formats). Like the API server without strict field validation, the schemas accept unknown
 * fields; the chart tests assert the fields that matter by name.
 */
export function validateObject(obj: K8sObject): string[] {
  const where = `${obj.kind ?? '?'}/${obj.metadata?.name ?? '?'}`;
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') return [`${where}: apiVersion and kind are required`];
  // The package lays its models out as kubernetes-models/<group>/<version>/<Kind> ("v1" for the core group).
  let Model: Model | undefined;
  try {
    Model = (require(`kubernetes-models/${obj.apiVersion}/${obj.kind}`) as Record<string, Model>)[obj.kind];
  } catch {
    Model = undefined;
  }
  if (!Model) return [`${where}: no schema for ${obj.apiVersion} ${obj.kind}`];
  try {
    new Model(obj).validate();
    return [];
  } catch (err) {
    return [`${where}: ${(err as Error).message}`];
  }
}
