import { ProbeServiceService } from '@crm/contracts/crm/testkit/v1/probe';
import { createOrm, migrate, type MikroORM } from '@crm/db';
import { createClient, startGrpcServer, status, type PromiseClient, type RunningGrpcServer, type TenantContext } from '@crm/grpc';
import { createTestDatabase, testLogger, type TestDatabase } from '@crm/testing';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { createServer, type Socket } from 'node:net';
import { createItem, probeEntities, probeMigrations, probeService } from '../support/probe';

const logger = testLogger('grpc-test');
const tenant: TenantContext = { tenantId: 't1', callerId: 'tester', callerKind: 'service' };
let db: TestDatabase;
let orm: MikroORM;
let server: RunningGrpcServer;
let client: PromiseClient<typeof ProbeServiceService>;

beforeAll(async () => {
  db = await createTestDatabase('grpc');
  orm = await createOrm({ clientUrl: db.url, entities: probeEntities, migrations: probeMigrations });
  await migrate(orm);
  server = await startGrpcServer({ services: [probeService(orm)], logger, host: '127.0.0.1', port: 0 });
  client = createClient(ProbeServiceService, { address: `127.0.0.1:${server.port}`, idempotent: ['getItem', 'echo'] });
});

afterAll(async () => {
  client?.close();
  await server?.shutdown(1000);
  await orm?.close(true);
  await db?.drop();
});

function rawCall(method: string, request: unknown, md: grpc.Metadata): Promise<unknown> {
  const Ctor = grpc.makeGenericClientConstructor(ProbeServiceService, 'raw');
  const raw = new Ctor(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as Record<string, (...a: unknown[]) => void> & grpc.Client;
  return new Promise((resolve, reject) =>
    raw[method](request, md, { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null, res: unknown) => {
      raw.close();
      return err ? reject(err) : resolve(res);
    }),
  );
}

describe('gRPC runtime', () => {
  it('serves grpc.health.v1 SERVING for the server and the service, NOT_SERVING when draining', async () => {
    const Health = grpc.makeGenericClientConstructor(healthService, 'health');
    const health = new Health(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      check(req: { service: string }, cb: (e: grpc.ServiceError | null, r: { status: string }) => void): void;
    };
    const check = (service: string) => new Promise<string>((res, rej) => health.check({ service }, (e, r) => (e ? rej(e) : res(r.status))));
    expect(await check('')).toBe('SERVING');
    expect(await check('crm.testkit.v1.ProbeService')).toBe('SERVING');
    server.setServing(false);
    expect(await check('')).toBe('NOT_SERVING');
    server.setServing(true);
    await expect(check('no.such.Service')).rejects.toMatchObject({ code: status.NOT_FOUND });
    health.close();
  });

  it('answers a call with the tenant from metadata', async () => {
    await expect(client.echo({ message: 'hi' }, tenant)).resolves.toEqual({ message: 'hi', tenantId: 't1' });
  });

  it('rejects a call without tenant metadata as UNAUTHENTICATED, and malformed metadata as INVALID_ARGUMENT', async () => {
    await expect(rawCall('echo', { message: 'x' }, new grpc.Metadata())).rejects.toMatchObject({ code: status.UNAUTHENTICATED, details: expect.stringMatching(/x-tenant-id/) });
    const noCaller = new grpc.Metadata();
    noCaller.set('x-tenant-id', 't1');
    await expect(rawCall('echo', { message: 'x' }, noCaller)).rejects.toMatchObject({ code: status.UNAUTHENTICATED, details: expect.stringMatching(/x-caller-id/) });
    const bad = new grpc.Metadata();
    bad.set('x-tenant-id', 't1; DROP TABLE');
    bad.set('x-caller-id', 'me');
    await expect(rawCall('echo', { message: 'x' }, bad)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('maps a domain not-found to NOT_FOUND, also for another tenant’s item', async () => {
    const item = await createItem(orm, 't1', 'mine');
    await expect(client.getItem({ id: item.id }, tenant)).resolves.toEqual({ item: { id: item.id, tenantId: 't1', name: 'mine' } });
    await expect(client.getItem({ id: '01936f5e-0000-7000-8000-00000000dead' }, tenant)).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(client.getItem({ id: item.id }, { ...tenant, tenantId: 't2' })).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('maps a validation error to INVALID_ARGUMENT with the field violations', async () => {
    const err = await client.createItem({ name: '' }, tenant).catch((e) => e);
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(JSON.parse(err.metadata.get('x-error-violations')[0].toString())).toEqual([{ field: 'name', message: 'length 1..200' }]);
  });

  it('maps an exceeded deadline to DEADLINE_EXCEEDED and frees the server', async () => {
    const started = Date.now();
    await expect(client.sleep({ delayMs: 3000 }, tenant, { deadlineMs: 200 })).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
    expect(Date.now() - started).toBeLessThan(2000);
    // An already-expired deadline never reaches the handler.
    await expect(client.echo({ message: 'late' }, tenant, { deadline: new Date(Date.now() - 1) })).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
  });

  it('retries idempotent calls on UNAVAILABLE, never the others', async () => {
    const down = createClient(ProbeServiceService, { address: '127.0.0.1:1', idempotent: ['echo'], maxAttempts: 3, retryBackoffMs: 20 });
    const t0 = Date.now();
    await expect(down.echo({ message: 'x' }, tenant, { deadlineMs: 3000 })).rejects.toMatchObject({ code: status.UNAVAILABLE });
    const retried = Date.now() - t0;
    const t1 = Date.now();
    await expect(down.createItem({ name: 'x' }, tenant, { deadlineMs: 3000 })).rejects.toMatchObject({ code: status.UNAVAILABLE });
    const once = Date.now() - t1;
    expect(retried).toBeGreaterThanOrEqual(60); // 20 ms + 40 ms of backoff at least
    expect(once).toBeLessThan(retried);
    down.close();
  });

  it('answers UNAVAILABLE within about a second when the peer accepts TCP but never speaks gRPC', async () => {
    // A tarpit on loopback: it takes the connection and says nothing, like a hung process.
    const held: Socket[] = [];
    const tarpit = createServer((socket) => void held.push(socket));
    await new Promise<void>((r) => tarpit.listen(0, '127.0.0.1', r));
    const port = (tarpit.address() as { port: number }).port;
    const hung = createClient(ProbeServiceService, { address: `127.0.0.1:${port}`, idempotent: ['echo'], connectTimeoutMs: 800 });
    try {
      const t0 = Date.now();
      await expect(hung.echo({ message: 'x' }, tenant, { deadlineMs: 10_000 })).rejects.toMatchObject({ code: status.UNAVAILABLE });
      const took = Date.now() - t0;
      expect(took).toBeGreaterThanOrEqual(700);
      expect(took).toBeLessThan(2_000); // not retried, and nowhere near the 10 s deadline
    } finally {
      hung.close();
      for (const s of held) s.destroy();
      await new Promise((r) => tarpit.close(r));
    }
  });

  it('bounds the calls in flight: one more fails at once with UNAVAILABLE, the others are served', async () => {
    const bounded = createClient(ProbeServiceService, { address: `127.0.0.1:${server.port}`, maxInFlight: 2 });
    try {
      const slow = [bounded.sleep({ delayMs: 300 }, tenant), bounded.sleep({ delayMs: 300 }, tenant)];
      const t0 = Date.now();
      await expect(bounded.sleep({ delayMs: 300 }, tenant)).rejects.toMatchObject({ code: status.UNAVAILABLE });
      expect(Date.now() - t0).toBeLessThan(100);
      await expect(Promise.all(slow)).resolves.toEqual([{ sleptMs: 300 }, { sleptMs: 300 }]);
      // The slots are free again.
      await expect(bounded.echo({ message: 'again' }, tenant)).resolves.toMatchObject({ message: 'again' });
    } finally {
      bounded.close();
    }
  });
});
