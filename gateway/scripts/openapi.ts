/**
 * Writes the gateway's OpenAPI document and the web UI's client types generated from it:
 *
 *   gateway/openapi.json   the document the gateway serves at /openapi.json (keys sorted, so diffs stay small)
 *   web/src/gen/api.ts     openapi-typescript's `paths` / `components` types, used by web/src/api.ts
 *
 * `npm run openapi` regenerates both (commit them). `npm run openapi:check` (a step of `npm test`)
 * regenerates them into a temporary folder and fails, naming the file, when a committed one differs.
 *
 * The Fastify app is built with inert dependencies: no gRPC client, Kafka consumer or listener is
 * created, and anything that would reach a service throws instead.
 */
import { createLogger } from '@crm/logger';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { buildGateway } from '../src/app';
import { gatewayEnv } from '../src/config';

type Deps = Parameters<typeof buildGateway>[0];

const root = resolve(__dirname, '..', '..');

/** The generated files, relative to the repository root. */
export const OUTPUTS = { spec: 'gateway/openapi.json', client: 'web/src/gen/api.ts' } as const;

/** An object whose every property access throws: the document must not depend on a live service. */
function inert<T>(what: string): T {
  return new Proxy(
    {},
    {
      get(_target, prop) {
        if (prop === 'then') return undefined; // not a thenable
        throw new Error(`openapi: ${what}.${String(prop)} was used while writing the OpenAPI document`);
      },
    },
  ) as T;
}

/** The OpenAPI document as the gateway serves it. */
export async function buildOpenApiDocument(): Promise<Record<string, unknown>> {
  const unreachable = '127.0.0.1:9';
  const env = gatewayEnv.parse({
    IDENTITY_GRPC_ADDR: unreachable,
    INTAKE_GRPC_ADDR: unreachable,
    REPORTING_GRPC_ADDR: unreachable,
    CONTACTS_GRPC_ADDR: unreachable,
    FUNNEL_GRPC_ADDR: unreachable,
    TELEPHONY_GRPC_ADDR: unreachable,
    KAFKA_BROKERS: unreachable,
    WEB_DIST_DIR: '',
  });
  const deps: Deps = {
    env,
    clients: inert<Deps['clients']>('clients'),
    auth: inert<Deps['auth']>('auth'),
    logger: createLogger({ service: 'openapi', level: 'silent' }),
  };
  const app = await buildGateway(deps);
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}

/**
 * Object keys sorted (paths, methods, status codes, component names, keywords), except the members of
 * a schema's `properties`, which keep the order the gateway declares them in; arrays keep their order.
 */
export function sortKeys(value: unknown, keepOrder = false): unknown {
  if (Array.isArray(value)) return value.map((v) => sortKeys(v));
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  if (!keepOrder) keys.sort();
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = sortKeys((value as Record<string, unknown>)[k], !keepOrder && k === 'properties');
  return out;
}

/** `gateway/openapi.json`: the served document, keys sorted, two-space indent, a final newline. */
export async function renderSpec(): Promise<string> {
  return `${JSON.stringify(sortKeys(await buildOpenApiDocument()), null, 2)}\n`;
}

/** `web/src/gen/api.ts`: openapi-typescript's types for the document. */
export async function renderClient(spec: string): Promise<string> {
  // Loaded on use: its CommonJS build requires ES-module-only packages, which Jest (CommonJS) cannot load.
  const { default: openapiTS, astToString, COMMENT_HEADER } = await import('openapi-typescript');
  const ast = await openapiTS(JSON.parse(spec), { silent: true });
  const banner = `${COMMENT_HEADER.trimEnd()}\n// Generated from ${OUTPUTS.spec} by \`npm run openapi\` (gateway/scripts/openapi.ts).\n\n`;
  return `${banner}${astToString(ast).trimEnd()}\n`;
}

/** The two files' contents, from the gateway as it is now. */
export async function render(): Promise<Record<keyof typeof OUTPUTS, string>> {
  const spec = await renderSpec();
  return { spec, client: await renderClient(spec) };
}

function write(dir: string, files: Record<string, string>): void {
  for (const [key, text] of Object.entries(files)) {
    const file = join(dir, OUTPUTS[key as keyof typeof OUTPUTS]);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

async function main(argv: string[]): Promise<number> {
  const files = await render();
  if (!argv.includes('--check')) {
    write(root, files);
    for (const f of Object.values(OUTPUTS)) console.log(`openapi: wrote ${f}`);
    return 0;
  }
  // Regenerate into a temporary folder and compare with what is committed.
  const tmp = mkdtempSync(join(tmpdir(), 'crm-openapi-'));
  write(tmp, files);
  const stale = Object.values(OUTPUTS).filter((f) => read(join(root, f)) !== read(join(tmp, f)));
  if (stale.length === 0) {
    rmSync(tmp, { recursive: true, force: true });
    console.log(`openapi: ${Object.values(OUTPUTS).join(' and ')} match the gateway`);
    return 0;
  }
  for (const f of stale) {
    const committed = read(join(root, f));
    if (committed === undefined) {
      console.error(`openapi: ${f} is missing`);
      continue;
    }
    const a = committed.split('\n');
    const b = read(join(tmp, f))!.split('\n');
    let line = 0;
    while (line < a.length && a[line] === b[line]) line++;
    console.error(`openapi: ${f} is out of date with the gateway (first difference at line ${line + 1}; fresh copy in ${join(tmp, f)})`);
    console.error(`  committed: ${a[line] ?? '(end of file)'}`);
    console.error(`  gateway:   ${b[line] ?? '(end of file)'}`);
  }
  console.error('openapi: run `npm run openapi` and commit the result');
  return 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
