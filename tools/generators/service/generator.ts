/**
 * `npx nx g @crm/tools:service <name>` (also `npm run new:service -- <name>`): a new service in the
 * house shape of ../shared/ARCHITECTURE.md. New files come from ./files (EJS templates, `__x__` in
 * paths); the only existing files it edits are data: tools/src/services.json (npm start's process
 * list, read by the Kubernetes checks too), charts/crm/values.yaml and values-dev.yaml, skaffold.yaml
 * (through the `yaml` package, comments kept) and package-lock.json (the new workspace, as npm writes
 * it). Everything else finds the service by convention (tools/src/services.ts).
 */
import { generateFiles, readJson, updateJson, type Tree } from '@nx/devkit';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';

export interface ServiceGeneratorOptions {
  name: string;
  /** kebab-case name of its first aggregate; default: the name without a trailing `s`. */
  entity?: string;
  /** gRPC port under `npm start`; default: one above the highest in the registry. */
  port?: number;
}

interface RegistryFile {
  services: { name: string; grpcPort: number; engines: string[]; gatewayEnv?: string }[];
}

const REGISTRY = 'tools/src/services.json';
const KEBAB_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** Names that are taken by the workspace itself (packages @crm/<x>, folders, the chart's components). */
export const RESERVED = new Set([
  'gateway', 'web', 'tools', 'test', 'tests', 'testkit', 'probe', 'libs', 'lib', 'common', 'contracts', 'proto', 'charts', 'chart',
  'service', 'services', 'config', 'db', 'errors', 'grpc', 'kafka', 'logger', 'telemetry', 'testing', 'migrate', 'migrations',
  'postgres', 'clickhouse', 'dev-engines', 'ingress', 'crm', 'sales2', 'api', 'node', 'default',
]);

export class ServiceGeneratorError extends Error {}

const pascal = (kebab: string) => kebab.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());
const camel = (kebab: string) => kebab.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
const snake = (kebab: string) => kebab.replace(/-/g, '_');

/** `CallRecord` → `Call record`. */
const sentence = (p: string) => p.replace(/(?!^)([A-Z])/g, (_m, c: string) => ` ${c.toLowerCase()}`);

/** English plural of a kebab-case noun (its last word): contact → contacts, inquiry → inquiries, box → boxes. */
export function plural(word: string): string {
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(word)) return `${word}es`;
  return `${word}s`;
}

/** The default aggregate of a service: contacts → contact, funnel → funnel. */
export function defaultEntity(name: string): string {
  return /[^s]s$/.test(name) && name.length > 3 ? name.slice(0, -1) : name;
}

/** Checks the options; every problem at once, in one clear message. */
export function validateOptions(opts: ServiceGeneratorOptions, existing: string[]): Required<ServiceGeneratorOptions> {
  const problems: string[] = [];
  const name = String(opts.name ?? '').trim();
  const entity = String(opts.entity ?? defaultEntity(name)).trim();
  if (!KEBAB_RE.test(name)) problems.push(`name "${name}" must be kebab-case: lower-case letters and digits, words joined by single hyphens, starting with a letter (e.g. contacts, lead-scoring)`);
  else if (name.length < 2 || name.length > 32) problems.push(`name "${name}" must be 2..32 characters (the chart's limit for a service key)`);
  if (RESERVED.has(name)) problems.push(`name "${name}" is reserved in this workspace (${[...RESERVED].sort().join(', ')})`);
  if (existing.includes(name)) problems.push(`a service "${name}" already exists`);
  if ((opts.entity !== undefined || KEBAB_RE.test(name)) && !KEBAB_RE.test(entity)) problems.push(`entity "${entity}" must be kebab-case (e.g. contact, call-record)`);
  if (opts.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 1024 || opts.port > 65535)) problems.push(`port ${opts.port} must be an integer 1024..65535`);
  if (problems.length) throw new ServiceGeneratorError(`cannot create service: ${problems.join('; ')}`);
  return { name, entity, port: opts.port ?? 0 };
}

/** Every name the EJS templates and the `__x__` file names use. */
export function templateNames(name: string, entity: string, port: number) {
  const entities = plural(entity);
  const entitySnake = snake(entity);
  const topic = `crm.${snake(name)}.${entitySnake}.v1`;
  return {
    name,
    camel: camel(name),
    Pascal: pascal(name),
    snake: snake(name),
    SNAKE: snake(name).toUpperCase(),
    entity,
    entityCamel: camel(entity),
    Entity: pascal(entity),
    entitySnake,
    ENTITY: entitySnake.toUpperCase(),
    entityWords: entity.replace(/-/g, ' '),
    EntityWords: sentence(pascal(entity)),
    entities,
    entitiesWords: entities.replace(/-/g, ' '),
    EntitiesWords: sentence(pascal(entities)),
    entitiesCamel: camel(entities),
    Entities: pascal(entities),
    table: snake(entities),
    topic,
    createdType: `crm.${snake(name)}.${entitySnake}.created.v1`,
    port,
  };
}

function readYaml(tree: Tree, path: string): { text: string; doc: Document } {
  const text = tree.read(path, 'utf-8');
  if (text === null) throw new ServiceGeneratorError(`${path} is missing`);
  const doc = parseDocument(text);
  if (doc.errors.length) throw new ServiceGeneratorError(`${path}: ${doc.errors[0].message}`);
  return { text, doc };
}

/** A YAML scalar as these files write it: plain when that reads back the same, else double-quoted. */
function scalar(v: unknown): string {
  const s = String(v);
  return /^[A-Za-z0-9_./-][A-Za-z0-9_./ -]*$/.test(s) && !/^(true|false|null|~|yes|no|on|off|\d[\d.]*)$/i.test(s) && !s.endsWith(' ') ? s : JSON.stringify(s);
}

/**
 * Block YAML of plain data. With `flowLeaves` the innermost maps are in flow style
 * (`{ name: x, key: y }`), as the chart's values files write them; skaffold.yaml is all block style.
 */
export function yamlBlock(value: Record<string, unknown>, indent: string, flowLeaves = true): string {
  let out = '';
  for (const [k, v] of Object.entries(value)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const m = v as Record<string, unknown>;
      const leaf = flowLeaves && Object.values(m).every((x) => x === null || typeof x !== 'object');
      out += leaf ? `${indent}${k}: { ${Object.entries(m).map(([a, b]) => `${a}: ${scalar(b)}`).join(', ')} }\n` : `${indent}${k}:\n${yamlBlock(m, `${indent}  `, flowLeaves)}`;
    } else out += `${indent}${k}: ${typeof v === 'string' ? scalar(v) : String(v)}\n`;
  }
  return out;
}

/** Offset of the start of the line holding `offset`. */
const lineStart = (text: string, offset: number) => text.lastIndexOf('\n', offset - 1) + 1;
/** Offset just after the line holding the last character before `offset`. */
const afterLine = (text: string, offset: number) => {
  const nl = text.indexOf('\n', Math.max(0, offset - 1));
  return nl < 0 ? text.length : nl + 1;
};

/** Where a parsed node's value ends in the source text. */
function valueEnd(node: { range?: [number, number, number] | null }, path: string): number {
  if (!node.range) throw new ServiceGeneratorError(`${path}: the YAML parser gave no position`);
  return node.range[1];
}

/**
 * Inserts `snippet` at `at` and checks the result still parses and now has `mustHave`. Edits are
 * placed with the parser's node ranges, so every other byte of the file (comments, spacing, flow
 * style) stays exactly as it was.
 */
function insertYaml(tree: Tree, path: string, text: string, at: number, snippet: string, mustHave: (string | number)[]): void {
  const next = text.slice(0, at) + snippet + text.slice(at);
  const doc = parseDocument(next);
  if (doc.errors.length || !doc.hasIn(mustHave)) throw new ServiceGeneratorError(`${path}: could not add ${mustHave.join('.')} (${doc.errors[0]?.message ?? 'not found after the edit'})`);
  tree.write(path, next);
}

/** Adds `services.<name>` to a values file, before the gateway's entry (the services first). */
function addChartService(tree: Tree, path: string, name: string, entry: Record<string, unknown>): void {
  const { text, doc } = readYaml(tree, path);
  const services = doc.get('services', true);
  if (!isMap(services) || services.flow || !services.items.length) throw new ServiceGeneratorError(`${path}: services is not a block map`);
  if (services.has(name)) throw new ServiceGeneratorError(`${path}: services.${name} already exists`);
  const keyAt = (p: (typeof services.items)[number]) => (p.key as { range: [number, number, number] }).range[0];
  const first = keyAt(services.items[0]);
  const indent = ' '.repeat(first - lineStart(text, first));
  const gateway = services.items.find((p) => String((p.key as { value?: unknown }).value) === 'gateway');
  const at = gateway ? lineStart(text, keyAt(gateway)) : afterLine(text, valueEnd(services, path));
  insertYaml(tree, path, text, at, yamlBlock({ [name]: entry }, indent), ['services', name]);
}

/** One skaffold artifact (the root Dockerfile, the service as a build argument) and its image reference on the release. */
function addSkaffold(tree: Tree, name: string): void {
  const path = 'skaffold.yaml';
  const image = `crm-${name}`;
  {
    const { text, doc } = readYaml(tree, path);
    const artifacts = doc.getIn(['build', 'artifacts'], true);
    if (!isSeq(artifacts) || artifacts.flow || !artifacts.items.length) throw new ServiceGeneratorError(`${path}: build.artifacts is not a block list`);
    if (artifacts.items.some((a) => isMap(a) && a.get('image') === image)) throw new ServiceGeneratorError(`${path}: artifact ${image} already exists`);
    const firstItem = (artifacts.items[0] as { range: [number, number, number] }).range[0];
    const dash = ' '.repeat(firstItem - lineStart(text, firstItem) - 2);
    const body = yamlBlock({ image, context: '.', docker: { dockerfile: 'Dockerfile', buildArgs: { SERVICE: name } } }, `${dash}  `, false);
    // The first line's indent becomes the item's dash: `    - image: crm-x`.
    const item = `${dash}- ${body.slice(dash.length + 2)}`;
    insertYaml(tree, path, text, afterLine(text, valueEnd(artifacts, path)), item, ['build', 'artifacts', artifacts.items.length]);
  }
  {
    const { text, doc } = readYaml(tree, path);
    const templates = doc.getIn(['deploy', 'helm', 'releases', 0, 'setValueTemplates'], true);
    if (!isMap(templates) || templates.flow || !templates.items.length) throw new ServiceGeneratorError(`${path}: deploy.helm.releases[0].setValueTemplates is not a block map`);
    const first = (templates.items[0].key as { range: [number, number, number] }).range[0];
    const indent = ' '.repeat(first - lineStart(text, first));
    const key = `services.${name}.image.reference`;
    const line = `${indent}${key}: "{{.IMAGE_FULLY_QUALIFIED_crm_${snake(name)}}}"\n`;
    insertYaml(tree, path, text, afterLine(text, valueEnd(templates, path)), line, ['deploy', 'helm', 'releases', 0, 'setValueTemplates', key]);
  }
}

/** The new workspace in package-lock.json exactly as `npm install` records one (a link and the folder's manifest). */
function addToLockfile(tree: Tree, name: string, dir: string): void {
  const manifest = readJson(tree, `${dir}/package.json`);
  updateJson(tree, 'package-lock.json', (lock: { packages: Record<string, unknown> }) => {
    const entries = Object.entries(lock.packages);
    const { name: pkgName, version, dependencies, devDependencies } = manifest;
    // npm keeps "" (the root) first and the rest in locale order; each new entry goes where npm would put it.
    const insert = (key: string, value: unknown) => {
      const at = entries.findIndex(([k], i) => i > 0 && k.localeCompare(key, 'en') > 0);
      entries.splice(at < 0 ? entries.length : at, 0, [key, value]);
    };
    insert(`node_modules/@crm/${name}`, { resolved: dir, link: true });
    insert(dir, { name: pkgName, version, dependencies, devDependencies });
    lock.packages = Object.fromEntries(entries);
    return lock;
  });
}

export default async function serviceGenerator(tree: Tree, options: ServiceGeneratorOptions) {
  const registry = readJson<RegistryFile>(tree, REGISTRY);
  const taken = [...registry.services.map((s) => s.name), ...(tree.children('services') ?? [])];
  const opts = validateOptions(options, taken);
  const { name } = opts;
  const port = opts.port || Math.max(50060, ...registry.services.map((s) => s.grpcPort)) + 1;
  if (registry.services.some((s) => s.grpcPort === port)) throw new ServiceGeneratorError(`cannot create service: port ${port} is taken in ${REGISTRY}`);
  const names = templateNames(name, opts.entity, port);
  const dir = `services/${name}`;
  // Another service may have declared this one's events ahead of it (the funnel's deal events, consumed by
  // contacts before the funnel existed): only the files the generator writes must be new.
  const owned = [dir, `proto/crm/${names.snake}/v1`, `proto/crm/${names.snake}/events/v1/${names.entitySnake}_events.proto`, `proto/topics/${names.topic}.yaml`, `tools/src/k8s/migrate/${name}.ts`];
  for (const path of owned) {
    if (tree.exists(path)) throw new ServiceGeneratorError(`cannot create service: ${path} already exists`);
  }

  generateFiles(tree, join(__dirname, 'files'), '.', names);

  registry.services.push({ name, grpcPort: port, engines: ['postgres'] });
  tree.write(REGISTRY, formatRegistry(registry));
  addChartService(tree, 'charts/crm/values.yaml', name, { migrations: true, secretEnv: { DATABASE_URL: { name: `crm-${name}`, key: 'DATABASE_URL' } } });
  addChartService(tree, 'charts/crm/values-dev.yaml', name, { secretEnv: { DATABASE_URL: { name: 'crm-dev-engines', key: `${name}-database-url` } } });
  addSkaffold(tree, name);
  addToLockfile(tree, name, dir);

  // After the files are written: the workspace link npm would make, then the contracts from the new protos.
  return () => {
    const root = tree.root;
    const link = join(root, 'node_modules', '@crm', name);
    if (!existsSync(link) && !isDanglingLink(link)) {
      mkdirSync(join(root, 'node_modules', '@crm'), { recursive: true });
      symlinkSync(join('..', '..', dir), link);
    }
    execFileSync(process.execPath, [join(root, 'tools', 'scripts', 'generate.mjs')], { cwd: root, stdio: 'inherit' });
    process.stdout.write(
      `\nservice ${name} created (gRPC :${port} under npm start, topic ${names.topic}).\n` +
        `Next: npx jest ${dir} --selectProjects unit; node --import tsx tools/src/with-stack.ts npx jest ${dir} --selectProjects integration --runInBand; npm test.\n`,
    );
  };
}

/** The registry as it is checked in: one line per service. */
export function formatRegistry(registry: RegistryFile & { $comment?: string }): string {
  const lines = registry.services.map((s) => `    ${JSON.stringify(s).replace(/":/g, '": ').replace(/,"/g, ', "').replace(/^\{/, '{ ').replace(/\}$/, ' }')}`);
  const head = registry.$comment === undefined ? '' : `  "$comment": ${JSON.stringify(registry.$comment)},\n`;
  return `{\n${head}  "services": [\n${lines.join(',\n')}\n  ]\n}\n`;
}

function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
