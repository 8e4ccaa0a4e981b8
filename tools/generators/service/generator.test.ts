/**
 * The service generator on the real workspace's files, in memory (Nx's FsTree reads the checkout and
 * keeps every change to itself, so nothing is written): what it creates, the data files it edits and
 * how, and what it refuses. test/generator/ runs it for real in a copy and tests the result.
 */
import { FsTree } from 'nx/src/generators/tree';
import { join } from 'node:path';
import { parse } from 'yaml';
import serviceGenerator, { defaultEntity, plural, RESERVED, ServiceGeneratorError, validateOptions, yamlBlock } from './generator';

const ROOT = join(__dirname, '..', '..', '..');
const NAME = 'lead-scoring';

function generate(tree = new FsTree(ROOT, false), name = NAME, entity?: string) {
  return serviceGenerator(tree, { name, entity }).then(() => tree);
}

const text = (tree: FsTree, path: string) => tree.read(path, 'utf-8') ?? '';
const original = (path: string) => new FsTree(ROOT, false).read(path, 'utf-8') ?? '';

describe('the options', () => {
  it('take a kebab-case name and default the aggregate to its singular', () => {
    expect(validateOptions({ name: 'contacts' }, [])).toEqual({ name: 'contacts', entity: 'contact', port: 0 });
    expect(validateOptions({ name: 'lead-scoring', entity: 'score-card', port: 50100 }, [])).toEqual({ name: 'lead-scoring', entity: 'score-card', port: 50100 });
  });

  it.each(['Contacts', 'contacts_v2', '-contacts', 'contacts-', 'lead--scoring', '9lives', 'x', 'a'.repeat(33), ''])('refuse the name %p with a clear message', (name) => {
    expect(() => validateOptions({ name }, [])).toThrow(/^cannot create service: name ".*" must be/);
  });

  it('refuse a reserved or existing name, and list every problem at once', () => {
    expect(() => validateOptions({ name: 'gateway' }, [])).toThrow(/"gateway" is reserved/);
    expect(() => validateOptions({ name: 'kafka' }, [])).toThrow(/reserved/);
    expect(() => validateOptions({ name: 'intake' }, ['identity', 'intake'])).toThrow('a service "intake" already exists');
    let message = '';
    try {
      validateOptions({ name: 'intake', entity: 'Bad_Entity', port: 80 }, ['intake']);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('; ')).toHaveLength(3);
    expect(RESERVED.has('testkit')).toBe(true);
  });

  it('name the aggregate in English', () => {
    expect([defaultEntity('contacts'), defaultEntity('segments'), defaultEntity('funnel'), defaultEntity('chat'), defaultEntity('address')]).toEqual(['contact', 'segment', 'funnel', 'chat', 'address']);
    expect([plural('contact'), plural('inquiry'), plural('box'), plural('day'), plural('match')]).toEqual(['contacts', 'inquiries', 'boxes', 'days', 'matches']);
  });
});

describe('yamlBlock', () => {
  it('writes nested maps in block style with flow leaves, quoting only what needs it', () => {
    expect(yamlBlock({ a: { b: { name: 'crm-x', key: 'DATABASE_URL' } }, m: true, n: '1000', s: 'x: y' }, '  ')).toBe(
      '  a:\n    b: { name: crm-x, key: DATABASE_URL }\n  m: true\n  n: "1000"\n  s: "x: y"\n',
    );
    expect(yamlBlock({ a: { b: { c: 'd' } } }, '', false)).toBe('a:\n  b:\n    c: d\n');
  });
});

describe(`nx g @crm/tools:service ${NAME} (in memory)`, () => {
  let tree: FsTree;
  beforeAll(async () => {
    tree = await generate();
  });

  it('creates the house shape and nothing half-filled', () => {
    const created = tree.listChanges().filter((c) => c.type === 'CREATE').map((c) => c.path).sort();
    expect(created).toEqual(
      [
        'proto/crm/lead_scoring/events/v1/lead_scoring_events.proto',
        'proto/crm/lead_scoring/v1/lead_scoring.proto',
        'proto/topics/crm.lead_scoring.lead_scoring.v1.yaml',
        'services/lead-scoring/README.md',
        'services/lead-scoring/package.json',
        'services/lead-scoring/project.json',
        'services/lead-scoring/src/app.ts',
        'services/lead-scoring/src/config.ts',
        'services/lead-scoring/src/db/entities/lead-scoring.entity.ts',
        'services/lead-scoring/src/db/index.ts',
        'services/lead-scoring/src/db/migrations/lead_scoring_0001_init.ts',
        'services/lead-scoring/src/domain/lead-scoring.test.ts',
        'services/lead-scoring/src/domain/lead-scoring.ts',
        'services/lead-scoring/src/events.ts',
        'services/lead-scoring/src/grpc/lead-scoring.server.ts',
        'services/lead-scoring/src/lead-scorings.service.ts',
        'services/lead-scoring/src/main.ts',
        'services/lead-scoring/test/lead-scoring.integration.test.ts',
        'tools/src/k8s/migrate/lead-scoring.ts',
      ].sort(),
    );
    for (const path of created) expect({ path, leftover: /<%|%>|__[a-zA-Z]+__/.test(text(tree, path)) }).toEqual({ path, leftover: false });
    expect(JSON.parse(text(tree, 'services/lead-scoring/project.json'))).toMatchObject({ name: 'lead-scoring', projectType: 'application', tags: ['type:service'] });
    expect(JSON.parse(text(tree, 'services/lead-scoring/package.json'))).toMatchObject({ name: '@crm/lead-scoring', main: './src/main.ts' });
    expect(text(tree, 'services/lead-scoring/src/config.ts')).toContain('export const leadScoringEnv = baseServiceEnv;');
    expect(parse(text(tree, 'proto/topics/crm.lead_scoring.lead_scoring.v1.yaml'))).toMatchObject({
      name: 'crm.lead_scoring.lead_scoring.v1',
      owner: 'lead_scoring',
      payload: { 'crm.lead_scoring.lead_scoring.created.v1': 'crm.lead_scoring.events.v1.LeadScoringCreated' },
    });
  });

  it('edits only data files, and only by adding the new service', () => {
    const updated = tree.listChanges().filter((c) => c.type === 'UPDATE').map((c) => c.path).sort();
    expect(updated).toEqual(['charts/crm/values-dev.yaml', 'charts/crm/values.yaml', 'package-lock.json', 'skaffold.yaml', 'tools/src/services.json']);

    const registry = JSON.parse(text(tree, 'tools/src/services.json')) as { services: { name: string; grpcPort: number }[] };
    const before = JSON.parse(original('tools/src/services.json')) as { services: { name: string; grpcPort: number }[] };
    expect(registry.services.slice(0, -1)).toEqual(before.services);
    expect(registry.services.at(-1)).toEqual({ name: NAME, grpcPort: Math.max(...before.services.map((s) => s.grpcPort)) + 1, engines: ['postgres'] });

    // Every line of each YAML file is kept, in order (comments, flow style): the edit only inserts lines.
    const inserted = (path: string): string[] => {
      const now = text(tree, path).split('\n');
      const was = original(path).split('\n');
      const extra: string[] = [];
      let i = 0;
      for (const line of now) {
        if (i < was.length && line === was[i]) i += 1;
        else extra.push(line);
      }
      expect(i).toBe(was.length);
      return extra;
    };
    expect(inserted('charts/crm/values.yaml')).toEqual([`  ${NAME}:`, '    migrations: true', '    secretEnv:', `      DATABASE_URL: { name: crm-${NAME}, key: DATABASE_URL }`]);
    expect(inserted('charts/crm/values-dev.yaml')).toEqual([`  ${NAME}:`, '    secretEnv:', `      DATABASE_URL: { name: crm-dev-engines, key: ${NAME}-database-url }`]);
    expect(inserted('skaffold.yaml')).toEqual([
      `    - image: crm-${NAME}`,
      '      context: .',
      '      docker:',
      '        dockerfile: Dockerfile',
      '        buildArgs:',
      `          SERVICE: ${NAME}`,
      `          services.${NAME}.image.reference: "{{.IMAGE_FULLY_QUALIFIED_crm_lead_scoring}}"`,
    ]);
    const values = parse(text(tree, 'charts/crm/values.yaml'));
    expect(values.services[NAME]).toEqual({ migrations: true, secretEnv: { DATABASE_URL: { name: `crm-${NAME}`, key: 'DATABASE_URL' } } });
    expect(Object.keys(values.services).at(-1)).toBe('gateway');
    expect(parse(text(tree, 'charts/crm/values-dev.yaml')).services[NAME]).toEqual({ secretEnv: { DATABASE_URL: { name: 'crm-dev-engines', key: `${NAME}-database-url` } } });
    const skaffold = parse(text(tree, 'skaffold.yaml'));
    expect(skaffold.build.artifacts.at(-1)).toEqual({ image: `crm-${NAME}`, context: '.', docker: { dockerfile: 'Dockerfile', buildArgs: { SERVICE: NAME } } });
    expect(skaffold.deploy.helm.releases[0].setValueTemplates[`services.${NAME}.image.reference`]).toBe('{{.IMAGE_FULLY_QUALIFIED_crm_lead_scoring}}');

    const lock = JSON.parse(text(tree, 'package-lock.json')) as { packages: Record<string, unknown> };
    expect(lock.packages[`node_modules/@crm/${NAME}`]).toEqual({ resolved: `services/${NAME}`, link: true });
    expect(lock.packages[`services/${NAME}`]).toMatchObject({ name: `@crm/${NAME}`, version: '0.1.0' });
    expect(Object.keys(lock.packages)[0]).toBe('');
  });

  it('refuses to run twice for the same name, and leaves the workspace as it was', async () => {
    await expect(generate(tree)).rejects.toThrow(ServiceGeneratorError);
    await expect(generate(tree)).rejects.toThrow(`a service "${NAME}" already exists`);
    const fresh = new FsTree(ROOT, false);
    await expect(generate(fresh, 'intake')).rejects.toThrow('a service "intake" already exists');
    await expect(generate(fresh, 'Bad Name')).rejects.toThrow(/must be kebab-case/);
    expect(fresh.listChanges()).toEqual([]);
  });
});
