/**
 * Reporting against the real engines: events produced to Kafka exactly as intake publishes them,
 * the sink writing ClickHouse (18.16 here), RequestsPerDay called over real gRPC.
 */
import { Channel } from '@crm/contracts/crm/intake/v1/request';
import { ReportingServiceService, type RequestsPerDayRow } from '@crm/contracts/crm/reporting/v1/reporting';
import { parseConfig } from '@crm/config';
import { uuidv7 } from '@crm/db';
import { createClient, status, type PromiseClient, type ServiceError, type TenantContext } from '@crm/grpc';
import { createKafka, encodeEvent, type Kafka } from '@crm/kafka';
import { eventually, runId, stackUrls, testLogger, uniqueName } from '@crm/testing';
import type { Producer } from 'kafkajs';
import { startReporting, type RunningReporting } from '../src/app';
import { ClickHouse, dropDatabase, ensureDatabase } from '../src/clickhouse/client';
import { migrate, recordedMigrations } from '../src/clickhouse/migrate';
import { ident, sql, str, type Sql } from '../src/clickhouse/sql';
import { reportingEnv } from '../src/config';
import { requestsPerDay } from '../src/reports/requests-per-day';
import { REPORTING_GROUP, RequestEventsSink } from '../src/kafka/crm.intake.request.v1.consumer';
import { collect, createdEvent, createRequestTopic, deleteTopics, header, lag } from './support';

const logger = testLogger('reporting-test');
const urls = stackUrls();
const suffix = `.${uniqueName('reporting')}`;
const database = uniqueName('reporting');
const REPORT_MAX_ROWS = 20;
const group = `${REPORTING_GROUP}${suffix}`;

let kafka: Kafka;
let producer: Producer;
let topic: string;
let service: RunningReporting;
let client: PromiseClient<typeof ReportingServiceService>;
const extraTopics: string[] = [];
const extraDatabases: string[] = [];

const as = (tenantId: string): TenantContext => ({ tenantId, callerId: 'reporting-test', callerKind: 'service' });
const report = async (tenantId: string, dateFrom: string, dateTo: string, timeZone?: string): Promise<RequestsPerDayRow[]> =>
  (await client.requestsPerDay({ dateFrom, dateTo, timeZone }, as(tenantId))).rows;
/** Requests per day only (channels and sources summed), for the time-zone cases. */
const perDay = async (tenantId: string, dateFrom: string, dateTo: string, timeZone?: string): Promise<Record<string, number>> => {
  const out: Record<string, number> = {};
  for (const r of await report(tenantId, dateFrom, dateTo, timeZone)) out[r.day] = (out[r.day] ?? 0) + r.requests;
  return out;
};
const failure = (p: Promise<unknown>): Promise<ServiceError> =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: ServiceError) => e,
  );
const violatedFields = (err: ServiceError) => (JSON.parse(err.metadata.get('x-error-violations')[0].toString()) as { field: string }[]).map((v) => v.field);
const caughtUp = (groupId = group, t = topic) => eventually(() => lag(kafka, groupId, t), { until: (n) => n === 0, message: `${groupId} committed everything on ${t}` });
const chQuery = <T>(q: Sql) => service.clickhouse.query<T>(q);

beforeAll(async () => {
  kafka = createKafka({ clientId: 'reporting-test', brokers: urls.kafkaBrokers, logger });
  topic = await createRequestTopic(kafka, suffix);
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const env = parseConfig(reportingEnv, {
    CLICKHOUSE_URL: urls.clickhouseUrl,
    CLICKHOUSE_DATABASE: database,
    KAFKA_BROKERS: urls.kafkaBrokers.join(','),
    GRPC_PORT: '0',
    GRPC_HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    TOPIC_SUFFIX: suffix,
    REPORTING_BATCH_MS: '150',
  });
  service = await startReporting(env, { logger, sink: { retryInitialMs: 50, retryMaxMs: 200 }, reportMaxRows: REPORT_MAX_ROWS });
  // Keep replays physically unmerged, so the count-once assertions exercise FINAL / uniqExact and
  // cannot pass thanks to a lucky background merge.
  await service.clickhouse.command(sql`SYSTEM STOP MERGES ${ident(database)}.${ident('requests')}`);
  client = createClient(ReportingServiceService, { address: `127.0.0.1:${service.grpc.port}`, defaultDeadlineMs: 10_000 });
});

afterAll(async () => {
  client?.close();
  await service?.stop();
  await producer?.disconnect();
  for (const db of [database, ...extraDatabases]) await dropDatabase(urls.clickhouseUrl, db).catch(() => undefined);
  if (topic) await deleteTopics(kafka, [topic, `${topic}.dlq`, ...extraTopics]).catch(() => undefined);
});

describe('RequestsPerDay', () => {
  it('counts requests per day, channel and UTM source for the calling tenant only', async () => {
    const [a, b, nobody] = [uuidv7(), uuidv7(), uuidv7()];
    const events = [
      createdEvent({ tenantId: a, day: '2026-03-01', channel: Channel.CHANNEL_WEB_FORM, utmSource: 'google' }),
      createdEvent({ tenantId: a, day: '2026-03-01', channel: Channel.CHANNEL_WEB_FORM, utmSource: 'google' }),
      createdEvent({ tenantId: a, day: '2026-03-01', channel: Channel.CHANNEL_WEB_FORM }),
      createdEvent({ tenantId: a, day: '2026-03-01', channel: Channel.CHANNEL_PHONE }),
      createdEvent({ tenantId: a, day: '2026-03-02', channel: Channel.CHANNEL_CHAT, utmSource: 'yandex' }),
      createdEvent({ tenantId: a, day: '2026-03-03', channel: Channel.CHANNEL_WEB_FORM, utmSource: 'google' }), // outside the range asked
      createdEvent({ tenantId: b, day: '2026-03-01', channel: Channel.CHANNEL_WEB_FORM, utmSource: 'google' }),
      createdEvent({ tenantId: b, day: '2026-03-02', channel: Channel.CHANNEL_EMAIL, utmSource: "o'reilly \\ news" }),
    ];
    await producer.send({ topic, acks: -1, messages: events.map(encodeEvent) });
    // Offsets are committed only after the insert: once the lag is 0 the rows must be readable.
    await caughtUp();

    expect(await report(a, '2026-03-01', '2026-03-02')).toEqual([
      { day: '2026-03-01', channel: 'phone', utmSource: '', requests: 1 },
      { day: '2026-03-01', channel: 'web_form', utmSource: '', requests: 1 },
      { day: '2026-03-01', channel: 'web_form', utmSource: 'google', requests: 2 },
      { day: '2026-03-02', channel: 'chat', utmSource: 'yandex', requests: 1 },
    ]);
    expect(await report(b, '2026-03-01', '2026-03-31')).toEqual([
      { day: '2026-03-01', channel: 'web_form', utmSource: 'google', requests: 1 },
      { day: '2026-03-02', channel: 'email', utmSource: "o'reilly \\ news", requests: 1 },
    ]);
    expect(await report(nobody, '2026-03-01', '2026-03-31')).toEqual([]);
  });

  it('counts an event delivered twice and a replayed request once', async () => {
    const tenant = uuidv7();
    const first = createdEvent({ tenantId: tenant, day: '2026-04-01', utmSource: 'google' });
    // The same event twice in one batch...
    await producer.send({ topic, acks: -1, messages: [encodeEvent(first), encodeEvent(first)] });
    await caughtUp();
    // ...the same event again later (another insert), and the same request re-published with a new ce_id.
    await producer.send({ topic, acks: -1, messages: [encodeEvent(first)] });
    await caughtUp();
    const replay = createdEvent({ tenantId: tenant, day: '2026-04-01', utmSource: 'google', requestId: first.subject });
    await producer.send({ topic, acks: -1, messages: [encodeEvent(replay)] });
    await caughtUp();

    // Physically there are several rows (merges are stopped)...
    const [raw] = await chQuery<{ n: string }>(sql`SELECT count() AS n FROM requests WHERE tenant_id = ${str(tenant)}`);
    expect(Number(raw.n)).toBeGreaterThanOrEqual(2);
    // ...and the report counts the request once.
    expect(await report(tenant, '2026-04-01', '2026-04-01')).toEqual([{ day: '2026-04-01', channel: 'web_form', utmSource: 'google', requests: 1 }]);
  });

  it('dead-letters poison messages and still counts the events behind them', async () => {
    const tenant = uuidv7();
    const key = `${tenant}:poison`; // one key: one partition, so the order below is the order of offsets
    const good1 = createdEvent({ tenantId: tenant, day: '2026-05-01' });
    const noId = encodeEvent(createdEvent({ tenantId: tenant, day: '2026-05-01' }));
    delete (noId.headers as Record<string, unknown>).ce_id;
    const notProtobuf = encodeEvent({ ...createdEvent({ tenantId: tenant, day: '2026-05-01' }), data: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]) });
    const otherTenant = createdEvent({ tenantId: uuidv7(), day: '2026-05-01' });
    const tenantMismatch = encodeEvent({ ...otherTenant, tenantId: tenant }); // payload names another tenant
    const unknownType = encodeEvent({ ...createdEvent({ tenantId: tenant, day: '2026-05-01' }), type: 'crm.intake.request.assigned.v1' });
    const good2 = createdEvent({ tenantId: tenant, day: '2026-05-01' });
    const dlq = await collect(kafka, `${topic}.dlq`, `dlq-watch-${runId}`);
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: [encodeEvent(good1), noId, notProtobuf, tenantMismatch, unknownType, encodeEvent(good2)].map((m) => ({ ...m, key })),
      });
      await caughtUp();
      expect(await report(tenant, '2026-05-01', '2026-05-01')).toEqual([{ day: '2026-05-01', channel: 'web_form', utmSource: '', requests: 2 }]);

      await eventually(() => dlq.messages.length, { until: (n) => n === 3, message: 'three messages in the DLQ' });
      const [m1, m2, m3] = dlq.messages;
      expect([header(m1, 'dlq-error-type'), header(m2, 'dlq-error-type'), header(m3, 'dlq-error-type')]).toEqual(['EnvelopeError', 'EnvelopeError', 'InvalidEventError']);
      expect(header(m1, 'dlq-error-message')).toMatch(/ce_id is missing/);
      expect(header(m2, 'dlq-error-message')).toMatch(/not valid protobuf/);
      expect(header(m3, 'dlq-error-message')).toMatch(/differs from ce_tenantid/);
      expect(header(m1, 'dlq-original-topic')).toBe(topic);
      expect(header(m1, 'dlq-consumer-group')).toBe(group);
      expect(Number(header(m2, 'dlq-original-offset'))).toBe(Number(header(m1, 'dlq-original-offset')) + 1);
      expect(m2.value?.equals(notProtobuf.value as Buffer)).toBe(true);
      // The unknown type was skipped, not dead-lettered, and its offset is committed (lag 0 above).
      expect(dlq.messages.some((m) => header(m, 'ce_type') === 'crm.intake.request.assigned.v1')).toBe(false);
    } finally {
      await dlq.stop();
    }
  });

  it('commits nothing while ClickHouse rejects the insert, and catches up when it recovers', async () => {
    const tenant = uuidv7();
    await service.clickhouse.command(sql`RENAME TABLE ${ident('requests')} TO ${ident('requests_parked')}`);
    try {
      await producer.send({ topic, acks: -1, messages: [encodeEvent(createdEvent({ tenantId: tenant, day: '2026-06-01' }))] });
      await eventually(() => service.sink.pendingRows(), { until: (n) => n === 1, message: 'the event is buffered' });
      // Several insert attempts fail meanwhile (batch 150 ms, retries every ≤ 200 ms).
      await new Promise((r) => setTimeout(r, 1000));
      expect(await lag(kafka, group, topic)).toBe(1);
      expect(service.sink.pendingRows()).toBe(1);
    } finally {
      await service.clickhouse.command(sql`RENAME TABLE ${ident('requests_parked')} TO ${ident('requests')}`);
    }
    await caughtUp();
    expect(await report(tenant, '2026-06-01', '2026-06-01')).toEqual([{ day: '2026-06-01', channel: 'web_form', utmSource: '', requests: 1 }]);
  });

  it('rejects bad date ranges with INVALID_ARGUMENT and names the field', async () => {
    const tenant = uuidv7();
    const cases: [string, string, string][] = [
      ['2026-03-02', '2026-03-01', 'date_to'],
      ['2025-01-01', '2026-01-02', 'date_to'], // 367 days
      ['2026-02-30', '2026-03-01', 'date_from'],
      ['', '2026-03-01', 'date_from'],
      ['2026-03-01', "2026-03-01') OR 1=1 --", 'date_to'],
    ];
    for (const [from, to, field] of cases) {
      const err = (await report(tenant, from, to).then(
        () => undefined,
        (e: ServiceError) => e,
      )) as ServiceError;
      expect(err?.code).toBe(status.INVALID_ARGUMENT);
      const violations = JSON.parse(err.metadata.get('x-error-violations')[0].toString()) as { field: string }[];
      expect(violations.map((v) => v.field)).toContain(field);
    }
    // The widest allowed range is fine.
    expect(await report(tenant, '2024-01-01', '2024-12-31')).toEqual([]);
  });

  it('refuses a report larger than the row cap with RESOURCE_EXHAUSTED', async () => {
    const tenant = uuidv7();
    const days = Array.from({ length: REPORT_MAX_ROWS + 1 }, (_, i) => `2026-07-${String(i + 1).padStart(2, '0')}`);
    await producer.send({ topic, acks: -1, messages: days.map((day) => encodeEvent(createdEvent({ tenantId: tenant, day }))) });
    await caughtUp();
    await expect(report(tenant, days[0], days[days.length - 1])).rejects.toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    expect(await report(tenant, days[0], days[days.length - 2])).toHaveLength(REPORT_MAX_ROWS);
  });

  it('counts days in the requested time zone: 23:30 and 00:30 Moscow time are two Moscow days and one UTC day', async () => {
    const tenant = uuidv7();
    // Moscow is UTC+3 all year: 23:30 MSK on March 1st is 20:30 UTC, 00:30 MSK on March 2nd is 21:30 UTC.
    const events = [createdEvent({ tenantId: tenant, createdAt: '2026-03-01T20:30:00Z' }), createdEvent({ tenantId: tenant, createdAt: '2026-03-01T21:30:00Z' })];
    await producer.send({ topic, acks: -1, messages: events.map(encodeEvent) });
    await caughtUp();

    const moscow = await client.requestsPerDay({ dateFrom: '2026-03-01', dateTo: '2026-03-02', timeZone: 'Europe/Moscow' }, as(tenant));
    expect(moscow.timeZone).toBe('Europe/Moscow');
    expect(moscow.rows).toEqual([
      { day: '2026-03-01', channel: 'web_form', utmSource: '', requests: 1 },
      { day: '2026-03-02', channel: 'web_form', utmSource: '', requests: 1 },
    ]);
    const utc = await client.requestsPerDay({ dateFrom: '2026-03-01', dateTo: '2026-03-02' }, as(tenant));
    expect(utc.timeZone).toBe('UTC');
    expect(utc.rows).toEqual([{ day: '2026-03-01', channel: 'web_form', utmSource: '', requests: 2 }]);
    // The bounds are local days too: March 2nd alone in Moscow holds the 00:30 request only.
    expect(await perDay(tenant, '2026-03-02', '2026-03-02', 'Europe/Moscow')).toEqual({ '2026-03-02': 1 });
    expect(await perDay(tenant, '2026-03-02', '2026-03-02', 'UTC')).toEqual({});
    // A zone east of UTC+12 pulls both into March 2nd; one far west keeps both on March 1st.
    expect(await perDay(tenant, '2026-03-01', '2026-03-02', 'Pacific/Kiritimati')).toEqual({ '2026-03-02': 2 });
    expect(await perDay(tenant, '2026-03-01', '2026-03-02', 'Etc/GMT+12')).toEqual({ '2026-03-01': 2 });
  });

  it('counts a 23-hour and a 25-hour DST day whole, without leaking into its neighbours (Europe/Berlin)', async () => {
    const tenant = uuidv7();
    // 2026-03-29: clocks go 02:00 CET → 03:00 CEST (23 hours). 2026-10-25: 03:00 CEST → 02:00 CET (25 hours).
    const at = [
      '2026-03-28T22:30:00Z', // 23:30 CET on 03-28 (the day before)
      '2026-03-28T23:30:00Z', // 00:30 CET on 03-29
      '2026-03-29T21:30:00Z', // 23:30 CEST on 03-29
      '2026-03-29T22:30:00Z', // 00:30 CEST on 03-30 (the day after)
      '2026-10-24T21:30:00Z', // 23:30 CEST on 10-24 (the day before)
      '2026-10-24T22:30:00Z', // 00:30 CEST on 10-25
      '2026-10-25T22:30:00Z', // 23:30 CET on 10-25
      '2026-10-25T23:30:00Z', // 00:30 CET on 10-26 (the day after)
    ];
    await producer.send({ topic, acks: -1, messages: at.map((createdAt) => encodeEvent(createdEvent({ tenantId: tenant, createdAt }))) });
    await caughtUp();

    expect(await perDay(tenant, '2026-03-28', '2026-03-30', 'Europe/Berlin')).toEqual({ '2026-03-28': 1, '2026-03-29': 2, '2026-03-30': 1 });
    expect(await perDay(tenant, '2026-03-29', '2026-03-29', 'Europe/Berlin')).toEqual({ '2026-03-29': 2 });
    expect(await perDay(tenant, '2026-10-24', '2026-10-26', 'Europe/Berlin')).toEqual({ '2026-10-24': 1, '2026-10-25': 2, '2026-10-26': 1 });
    expect(await perDay(tenant, '2026-10-25', '2026-10-25', 'Europe/Berlin')).toEqual({ '2026-10-25': 2 });
    // The same rows in UTC fall differently, so the Berlin figures above come from the zone's rules.
    expect(await perDay(tenant, '2026-03-28', '2026-03-30', 'UTC')).toEqual({ '2026-03-28': 2, '2026-03-29': 2 });
    expect(await perDay(tenant, '2026-10-24', '2026-10-26', 'UTC')).toEqual({ '2026-10-24': 2, '2026-10-25': 2 });
  });

  it('keeps tenants apart whatever zone each asks in', async () => {
    const [a, b] = [uuidv7(), uuidv7()];
    await producer.send({
      topic,
      acks: -1,
      messages: [createdEvent({ tenantId: a, createdAt: '2026-03-01T21:30:00Z' }), createdEvent({ tenantId: b, createdAt: '2026-03-01T21:30:00Z' })].map(encodeEvent),
    });
    await caughtUp();
    expect(await perDay(a, '2026-03-01', '2026-03-02', 'Europe/Moscow')).toEqual({ '2026-03-02': 1 });
    expect(await perDay(b, '2026-03-01', '2026-03-02')).toEqual({ '2026-03-01': 1 });
  });

  it('rejects a time zone that is not an IANA name with INVALID_ARGUMENT on time_zone', async () => {
    const tenant = uuidv7();
    for (const timeZone of ['Mars/Olympus', '+03:00', "Europe/Moscow') OR 1=1 --", 'x'.repeat(65)]) {
      const err = await failure(client.requestsPerDay({ dateFrom: '2026-03-01', dateTo: '2026-03-01', timeZone }, as(tenant)));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(violatedFields(err)).toEqual(['time_zone']);
    }
    // Case and aliases are forgiven and answered in the canonical spelling.
    expect((await client.requestsPerDay({ dateFrom: '2026-03-01', dateTo: '2026-03-01', timeZone: 'europe/moscow' }, as(tenant))).timeZone).toBe('Europe/Moscow');
    expect((await client.requestsPerDay({ dateFrom: '2026-03-01', dateTo: '2026-03-01', timeZone: 'Etc/UTC' }, as(tenant))).timeZone).toBe('UTC');
  });

  it("answers a zone missing from ClickHouse's zone database with INVALID_ARGUMENT, not an internal error", async () => {
    // Past validation (as a zone newer than the server's tzdata would be): ClickHouse has the last word.
    await expect(requestsPerDay(service.clickhouse, uuidv7(), { from: '2026-03-01', to: '2026-03-01' }, 'Nowhere/Atlantis')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      violations: [{ field: 'time_zone', message: 'the analytics store does not know the time zone Nowhere/Atlantis' }],
    });
  });

  it('refuses calls without tenant metadata', async () => {
    await expect(client.requestsPerDay({ dateFrom: '2026-01-01', dateTo: '2026-01-01' }, as(''))).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });
});

describe('ClickHouse schema and literals', () => {
  it('runs migrations twice as a no-op', async () => {
    const before = await recordedMigrations(service.clickhouse);
    const [rowsBefore] = await chQuery<{ n: string }>(sql`SELECT count() AS n FROM requests`);
    expect(before).toBe(2);
    expect(await migrate(service.clickhouse)).toEqual([]);
    expect(await migrate(service.clickhouse)).toEqual([]);
    expect(await recordedMigrations(service.clickhouse)).toBe(before);
    const [rowsAfter] = await chQuery<{ n: string }>(sql`SELECT count() AS n FROM requests`);
    expect(rowsAfter.n).toBe(rowsBefore.n);
  });

  it('reads back every hostile string exactly as written', async () => {
    let allLow = '';
    for (let c = 1; c < 0x80; c++) allLow += String.fromCharCode(c);
    const values = ["' OR 1=1 --", "x'; DROP TABLE requests; --", "\\'", '\\', "a\\'b", 'line\nbreak\r\n', 'nul\0byte', 'Привет 😀 עברית', '{tenant:String}', allLow];
    for (const value of values) {
      const [row] = await chQuery<{ s: string }>(sql`SELECT ${str(value)} AS s`);
      expect(row.s).toBe(value);
    }
    // The table survived the attempts above.
    await chQuery(sql`SELECT count() FROM requests`);
  });
});

describe('the sink on its own', () => {
  /** A sink with its own topic, group and (optionally) database, for stop() behaviour. */
  async function ownSink(opts: { clickhouseUrl: string; database: string }) {
    const ownTopic = await createRequestTopic(kafka, `${suffix}.${uniqueName('own')}`);
    extraTopics.push(ownTopic, `${ownTopic}.dlq`);
    const groupId = `reporting-test-${uniqueName('g')}`;
    const clickhouse = new ClickHouse({ url: opts.clickhouseUrl, database: opts.database });
    const sink = new RequestEventsSink({ kafka, clickhouse, logger, topic: ownTopic, groupId, batchMs: 60_000, batchRows: 1000, retryInitialMs: 20, retryMaxMs: 50, stopAttempts: 2 });
    await sink.start();
    return { sink, clickhouse, topic: ownTopic, groupId };
  }

  it('flushes the buffer and commits on stop', async () => {
    const db = uniqueName('reporting_stop');
    extraDatabases.push(db);
    await ensureDatabase(urls.clickhouseUrl, db);
    const { sink, clickhouse, topic: t, groupId } = await ownSink({ clickhouseUrl: urls.clickhouseUrl, database: db });
    try {
      await migrate(clickhouse);
      const tenant = uuidv7();
      await producer.send({ topic: t, acks: -1, messages: [1, 2, 3].map(() => encodeEvent(createdEvent({ tenantId: tenant, day: '2026-08-01' }))) });
      await eventually(() => sink.pendingRows(), { until: (n) => n === 3, message: 'three rows buffered' });
      // Buffered (the batch is not due for a minute), so nothing is committed yet.
      expect(await lag(kafka, groupId, t)).toBe(3);
      await sink.stop();
      expect(await lag(kafka, groupId, t)).toBe(0);
      const [row] = await clickhouse.query<{ n: string }>(sql`SELECT count() AS n FROM requests WHERE tenant_id = ${str(tenant)}`);
      expect(Number(row.n)).toBe(3);
    } finally {
      await sink.stop();
      await clickhouse.close();
    }
  });

  it('commits nothing when ClickHouse is unreachable, even on stop', async () => {
    // Port 1 on loopback: connection refused, as when the server is down.
    const { sink, clickhouse, topic: t, groupId } = await ownSink({ clickhouseUrl: 'http://127.0.0.1:1', database: 'default' });
    try {
      await producer.send({ topic: t, acks: -1, messages: [encodeEvent(createdEvent({ tenantId: uuidv7(), day: '2026-08-02' }))] });
      await eventually(() => sink.pendingRows(), { until: (n) => n === 1, message: 'the row is buffered' });
      await sink.stop(); // the final flush fails: the offset must stay uncommitted
      expect(await lag(kafka, groupId, t)).toBe(1);
    } finally {
      await sink.stop();
      await clickhouse.close();
    }
  });
});
