import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { parse } from 'yaml';

/** One topic of the registry (`proto/topics/*.yaml`), the only place topics are declared. */
export interface TopicSpec {
  name: string;
  owner: string;
  description?: string;
  /** ce_type → fully qualified protobuf message of its payload. */
  payload: Record<string, string>;
  partitions: number;
  /** Retention like `7d`, `12h`, `30m` or `-1` (forever). */
  retention: string;
  /** Whether `<name>.dlq` exists for it (default true). */
  dlq: boolean;
}

const NAME_RE = /^crm\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.v[1-9][0-9]*$/;
const RETENTION_RE = /^(-1|\d+[smhd])$/;

export class RegistryError extends Error {}

export function retentionMs(retention: string): number {
  if (retention === '-1') return -1;
  const n = Number(retention.slice(0, -1));
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[retention.slice(-1) as 's' | 'm' | 'h' | 'd'];
  return n * unit;
}

/** Validates one parsed registry file; lists every problem at once. */
export function parseTopicSpec(raw: unknown, file: string): TopicSpec {
  const problems: string[] = [];
  const r = (raw ?? {}) as Record<string, unknown>;
  const allowed = new Set(['name', 'owner', 'description', 'payload', 'partitions', 'retention', 'dlq']);
  for (const key of Object.keys(r)) if (!allowed.has(key)) problems.push(`unknown key "${key}"`);
  if (typeof r.name !== 'string' || !NAME_RE.test(r.name)) problems.push('name must be like crm.<owner>.<entity>.v<N>');
  if (typeof r.owner !== 'string' || !r.owner) problems.push('owner is required');
  else if (typeof r.name === 'string' && r.name.split('.')[1] !== r.owner) problems.push(`owner "${r.owner}" does not match the name`);
  if (typeof r.payload !== 'object' || r.payload === null || !Object.keys(r.payload).length) problems.push('payload must map each event type to a message');
  else
    for (const [type, msg] of Object.entries(r.payload as Record<string, unknown>)) {
      if (typeof r.name === 'string' && !type.startsWith(r.name.replace(/\.v\d+$/, '.'))) problems.push(`event type "${type}" does not belong to the topic`);
      if (typeof msg !== 'string' || !/^crm\.[a-z0-9_.]+\.[A-Z][A-Za-z0-9]*$/.test(msg)) problems.push(`payload of "${type}" must be a fully qualified message name`);
    }
  if (!Number.isInteger(r.partitions) || (r.partitions as number) < 1 || (r.partitions as number) > 256) problems.push('partitions must be an integer 1..256');
  if (typeof r.retention !== 'string' || !RETENTION_RE.test(r.retention)) problems.push('retention must be like 7d, 12h, 30m, 60s or -1');
  if (r.dlq !== undefined && typeof r.dlq !== 'boolean') problems.push('dlq must be true or false');
  if (problems.length) throw new RegistryError(`${file}: ${problems.join('; ')}`);
  return {
    name: r.name as string,
    owner: r.owner as string,
    description: r.description as string | undefined,
    payload: r.payload as Record<string, string>,
    partitions: r.partitions as number,
    retention: r.retention as string,
    dlq: (r.dlq as boolean | undefined) ?? true,
  };
}

/** Reads and validates every `*.yaml` of the registry folder; the file name must be the topic name. */
export function loadRegistry(dir: string): TopicSpec[] {
  const specs = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const spec = parseTopicSpec(parse(readFileSync(join(dir, f), 'utf8')), f);
      if (`${spec.name}.yaml` !== f) throw new RegistryError(`${f}: file name must be ${spec.name}.yaml`);
      return spec;
    });
  return specs;
}

export function dlqTopic(topic: string): string {
  return `${topic}.dlq`;
}

/**
 * Creates every registry topic (and its DLQ) that does not exist yet. `rename` maps registry names to
 * real names (tests add a per-run suffix). Returns the names created.
 */
export async function createTopics(
  admin: Admin,
  specs: TopicSpec[],
  opts: { rename?: (name: string) => string; replicationFactor?: number } = {},
): Promise<string[]> {
  const rename = opts.rename ?? ((n: string) => n);
  const existing = new Set(await admin.listTopics());
  const wanted = specs.flatMap((s) => {
    const configEntries = [{ name: 'retention.ms', value: String(retentionMs(s.retention)) }];
    const topics = [{ topic: rename(s.name), numPartitions: s.partitions, replicationFactor: opts.replicationFactor ?? 1, configEntries }];
    if (s.dlq) topics.push({ topic: dlqTopic(rename(s.name)), numPartitions: 1, replicationFactor: opts.replicationFactor ?? 1, configEntries });
    return topics;
  });
  const missing = wanted.filter((t) => !existing.has(t.topic));
  if (missing.length) await admin.createTopics({ topics: missing, waitForLeaders: true });
  return missing.map((t) => t.topic);
}
