import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { GRPC_CLIENTS, ROOT, startOrder } from './platform';
import { services, type ServiceEntry } from './services';

const entry = (name: string): ServiceEntry => ({ name, grpcPort: 1, engines: [] });

describe('startOrder', () => {
  it('puts each service after the services it calls, otherwise keeps the registry order', () => {
    expect(startOrder([entry('identity'), entry('intake'), entry('reporting'), entry('contacts')], { intake: ['contacts'] }).map((s) => s.name)).toEqual(['identity', 'reporting', 'contacts', 'intake']);
    expect(startOrder([entry('a'), entry('b')], { a: ['b'], b: [] }).map((s) => s.name)).toEqual(['b', 'a']);
    // A client of a service that is not in the list does not hold it back.
    expect(startOrder([entry('a')], { a: ['gone'] }).map((s) => s.name)).toEqual(['a']);
  });

  it('refuses a cycle', () => {
    expect(() => startOrder([entry('a'), entry('b')], { a: ['b'], b: ['a'] })).toThrow('GRPC_CLIENTS has a cycle among a, b');
  });

  it('the registry starts contacts before intake', () => {
    const order = startOrder(services).map((s) => s.name);
    expect(order.indexOf('contacts')).toBeLessThan(order.indexOf('intake'));
  });
});

describe('GRPC_CLIENTS', () => {
  it("is the chart's grpcClients of every service (npm start wires what Kubernetes wires)", () => {
    const values = parse(readFileSync(join(ROOT, 'charts', 'crm', 'values.yaml'), 'utf8')) as { services: Record<string, { grpcClients?: string[] }> };
    const fromChart = Object.fromEntries(
      services.filter((s) => values.services[s.name]?.grpcClients?.length).map((s) => [s.name, values.services[s.name].grpcClients]),
    );
    expect(GRPC_CLIENTS).toEqual(fromChart);
  });
});
