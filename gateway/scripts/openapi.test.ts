import { buildOpenApiDocument, renderSpec, sortKeys } from './openapi';

describe('sortKeys', () => {
  it('sorts object keys at every depth but keeps the declared order of a schema’s properties', () => {
    const doc = {
      paths: { '/b': { post: {}, get: {} }, '/a': {} },
      components: { schemas: { Z: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string', maxLength: 2 }, created_at: {} } }, A: {} } },
    };
    const out = sortKeys(doc) as typeof doc;
    expect(Object.keys(out)).toEqual(['components', 'paths']);
    expect(Object.keys(out.paths)).toEqual(['/a', '/b']);
    expect(Object.keys(out.paths['/b'])).toEqual(['get', 'post']);
    expect(Object.keys(out.components.schemas)).toEqual(['A', 'Z']);
    expect(Object.keys(out.components.schemas.Z)).toEqual(['properties', 'type']);
    expect(Object.keys(out.components.schemas.Z.properties)).toEqual(['id', 'name', 'created_at']);
    expect(Object.keys(out.components.schemas.Z.properties.name)).toEqual(['maxLength', 'type']);
  });

  it('treats a property named "properties" as a property, and its own "properties" as the keyword', () => {
    const schema = { type: 'object', properties: { z: {}, properties: { type: 'object', properties: { y: {}, x: {} } } } };
    const out = sortKeys(schema) as typeof schema;
    expect(Object.keys(out.properties)).toEqual(['z', 'properties']);
    expect(Object.keys(out.properties.properties)).toEqual(['properties', 'type']);
    expect(Object.keys(out.properties.properties.properties)).toEqual(['y', 'x']);
  });

  it('keeps arrays in order', () => {
    expect(sortKeys({ required: ['b', 'a'], enum: [{ b: 1, a: 2 }] })).toEqual({ enum: [{ a: 2, b: 1 }], required: ['b', 'a'] });
    expect(JSON.stringify(sortKeys([{ b: 1, a: 2 }]))).toBe('[{"a":2,"b":1}]');
  });
});

// The client generated from it (openapi-typescript, ES modules only) is checked by `npm run openapi:check`.
describe('gateway/openapi.json', () => {
  it('is the document the gateway serves, built without reaching any service, and the same on every run', async () => {
    // Two builds (each compiles every route's schemas: ~15 s here with ~150 routes): the same text twice.
    const served = await buildOpenApiDocument();
    const first = await renderSpec();
    expect(`${JSON.stringify(sortKeys(served), null, 2)}\n`).toBe(first);
    expect(first.endsWith('}\n')).toBe(true);
    expect(Object.keys(served.paths as object).length).toBeGreaterThan(0);
  }, 120_000);
});
