import { randomUUID } from 'node:crypto';
import { AuditIngestor, AuditPublisher, AuditRepository } from '@libs/audit';
import { silentLogger } from '@libs/common';
import { AuditEvent, RawStockoutEvent, RawStockoutEventSchema, decodeEvent, HEADER } from '@libs/contracts';
import {
  createDataSource,
  initializeDataSource,
  migrate,
  MIGRATIONS,
  PostgresPayloadStore,
} from '@libs/database';
import {
  assertBrokerReachable,
  BatchConsumer,
  BrokerUnreachableError,
  ConsumedMessage,
  createKafka,
  DeadLetterPublisher,
  EventProducer,
  MessageTooLargeError,
} from '@libs/kafka';
import { createTestEnv, eventually, publishKeyed, readAll, TestEnv } from '../support/test-env';

function rawEvent(orderNo: string): RawStockoutEvent {
  return {
    eventType: 'wdt.stockout-return.raw',
    schemaVersion: 1,
    eventId: randomUUID(),
    schemeId: 'scheme-a',
    source: { system: 'wdt', sid: 'sid1', gateway: 'native', method: 'wdt.stockout.order.query.return' },
    orderNo,
    extractedAt: new Date().toISOString(),
    sourceWindow: { axis: 'consign_time', start: '2026-11-28 00:00:00', end: '2026-11-28 01:00:00' },
    fingerprint: `fp-${orderNo}`,
    trigger: 'poll',
    record: {
      order_no: orderNo,
      receiver_name: '张三',
      details_list: [{ spec_no: 'A', goods_count: '1.0000' }],
    },
  };
}

describe('foundation: real Kafka broker and real Postgres', () => {
  let t: TestEnv;
  let producer: EventProducer;
  const maxMessageBytes = 64 * 1024;

  beforeAll(async () => {
    t = await createTestEnv('foundation', { maxMessageBytes });
    producer = new EventProducer(t.kafka, maxMessageBytes);
    await producer.connect();
  });

  afterAll(async () => {
    await producer.disconnect();
    await t.cleanup();
  });

  it('produces keyed, validated events with headers and consumes them with manual commits', async () => {
    const events = ['CT001', 'CT002', 'CT001'].map(rawEvent);
    await publishKeyed(producer, t.topics.rawStockout, RawStockoutEventSchema, events, (e) => e.orderNo);
    const groupId = `g-${t.suffix}`;
    const seen: ConsumedMessage[] = [];
    const consumer = new BatchConsumer(t.kafka, {
      groupId,
      topics: [t.topics.rawStockout],
      sessionTimeoutMs: 10000,
    });
    await consumer.start(async (messages) => {
      seen.push(...messages);
    });
    await eventually('3 consumed messages', async () => seen.length >= 3);
    await consumer.stop();

    const decoded = seen.map((m) => decodeEvent(RawStockoutEventSchema, m.value, 'raw'));
    expect(decoded.map((d) => d.orderNo).sort()).toEqual(['CT001', 'CT001', 'CT002']);
    // Same key → same partition, in order.
    const ct001 = seen.filter((m) => m.key === 'CT001');
    expect(new Set(ct001.map((m) => m.partition)).size).toBe(1);
    expect(seen[0].headers[HEADER.schemaVersion]).toBe('1');
    expect(seen[0].headers[HEADER.contentType]).toBe('application/json');
    expect(seen.every((m) => m.headers[HEADER.correlationId] === m.key)).toBe(true);

    // Offsets were committed: the same group sees nothing old after a restart.
    const offsets = await t.admin.fetchOffsets({ groupId, topics: [t.topics.rawStockout] });
    const committed = offsets[0].partitions.reduce(
      (sum, p) => sum + Number(p.offset === '-1' ? 0 : p.offset),
      0,
    );
    expect(committed).toBe(3);
  });

  it('refuses to produce an event that violates its contract or exceeds the size limit', async () => {
    const bad = { ...rawEvent('CT003'), orderNo: '' };
    await expect(
      producer.publish([
        {
          topic: t.topics.rawStockout,
          key: 'CT003',
          value: bad,
          schema: RawStockoutEventSchema,
          eventType: 'x',
          correlationId: 'c',
        },
      ]),
    ).rejects.toThrow(/orderNo/);
    const big = rawEvent('CT004');
    big.record.remark = 'x'.repeat(maxMessageBytes);
    expect(() =>
      producer.encode({
        topic: t.topics.rawStockout,
        key: 'CT004',
        value: big,
        schema: RawStockoutEventSchema,
        eventType: 'x',
        correlationId: 'c',
      }),
    ).toThrow(MessageTooLargeError);
  });

  it('splits a large publish so no request exceeds the topic’s message size (a big window never wedges the producer)', async () => {
    // 120 events of ~3 KiB: ~360 KiB in all, many times the topic's 64 KiB limit.
    const events = Array.from({ length: 120 }, (_, i) => {
      const e = rawEvent(`CT-BULK-${i % 3}`); // three keys: most land on one partition
      e.record.remark = '备注'.repeat(1500);
      return e;
    });
    await publishKeyed(producer, t.topics.rawStockout, RawStockoutEventSchema, events, (e) => e.orderNo);
    const offsets = await t.admin.fetchTopicOffsets(t.topics.rawStockout);
    expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBeGreaterThanOrEqual(120 + 3);
  });

  it('parks poison messages on the dead-letter topic and in Postgres (oversize payloads by reference), with an audit row', async () => {
    const store = new PostgresPayloadStore(t.ds);
    const dlq = new DeadLetterPublisher(producer, t.topics, store, maxMessageBytes);
    const small: ConsumedMessage = {
      topic: t.topics.rawStockout,
      partition: 0,
      offset: '41',
      key: 'CT-POISON',
      value: Buffer.from('{not json'),
      headers: {},
      timestamp: '0',
    };
    const hugeBytes = Buffer.from('y'.repeat(maxMessageBytes * 2));
    const huge: ConsumedMessage = { ...small, offset: '42', key: 'CT-HUGE', value: hugeBytes };
    const [e1, e2] = await dlq.park([
      {
        message: small,
        stage: 'transformer',
        error: new Error('value is not JSON'),
        attempts: 1,
        schemeId: 'scheme-a',
      },
      {
        message: huge,
        stage: 'transformer',
        error: new Error('too large'),
        attempts: 1,
        schemeId: 'scheme-a',
      },
    ]);
    expect(e1.payload).toEqual({ storage: 'inline', encoding: 'utf8', data: '{not json' });
    expect(e2.payload).toMatchObject({ storage: 'postgres', sizeBytes: hugeBytes.length });
    expect((await store.load(e2.eventId))?.equals(hugeBytes)).toBe(true);

    // The audit writer persists both the dead letters and the audit rows, idempotently.
    const ingestor = new AuditIngestor(new AuditRepository(t.ds), dlq, t.topics, silentLogger);
    const dlqMessages = await readAll(t, t.topics.deadLetter, 2);
    const auditMessages = await readAll(t, t.topics.audit, 2);
    const asConsumed = (m: (typeof dlqMessages)[number], topic: string): ConsumedMessage => ({
      topic,
      partition: m.partition,
      offset: m.offset,
      key: m.key,
      value: Buffer.from(m.value),
      headers: m.headers,
      timestamp: '0',
    });
    const batch = [
      ...dlqMessages.map((m) => asConsumed(m, t.topics.deadLetter)),
      ...auditMessages.map((m) => asConsumed(m, t.topics.audit)),
    ];
    await ingestor.handle(batch);
    await ingestor.handle(batch); // replay: no change
    const letters = await t.ds.query(
      `SELECT source_key, state, error_message FROM dead_letters ORDER BY source_key`,
    );
    expect(letters).toEqual([
      { source_key: 'CT-HUGE', state: 'parked', error_message: 'too large' },
      { source_key: 'CT-POISON', state: 'parked', error_message: 'value is not JSON' },
    ]);
    const audit = await t.ds.query(`SELECT source_key, status, stage FROM audit_orders ORDER BY source_key`);
    expect(audit).toEqual([
      { source_key: 'CT-HUGE', status: 'dead_lettered', stage: 'transformer' },
      { source_key: 'CT-POISON', status: 'dead_lettered', stage: 'transformer' },
    ]);
    expect(Number((await t.ds.query(`SELECT count(*) AS n FROM audit_history`))[0].n)).toBe(2);
  });

  it('keeps the latest audit status per order and the full history, whatever the arrival order', async () => {
    const repo = new AuditRepository(t.ds);
    const publisher = new AuditPublisher(producer, t.topics);
    const at = (s: number) => new Date(Date.UTC(2026, 10, 28, 0, 0, s)).toISOString();
    const base = {
      eventType: 'sync.audit',
      schemaVersion: 1,
      schemeId: 'scheme-a',
      sourceKey: 'CT-ORDER',
      correlationId: 'CT-ORDER',
    } as const;
    const failed: AuditEvent = {
      ...base,
      eventId: randomUUID(),
      stage: 'loader',
      status: 'failed',
      occurredAt: at(1),
      errorMessage: '物料不存在',
    };
    const loaded: AuditEvent = {
      ...base,
      eventId: randomUUID(),
      stage: 'loader',
      status: 'loaded',
      occurredAt: at(2),
      kingdeeId: '100',
      kingdeeNumber: 'CGTL1',
    };
    await publisher.publish([loaded]); // publishing validates against the contract
    await repo.recordAuditEvents([loaded]);
    await repo.recordAuditEvents([failed, loaded]); // late older event and a replay
    const [row] = await t.ds.query(
      `SELECT status, kingdee_number FROM audit_orders WHERE source_key = 'CT-ORDER'`,
    );
    expect(row).toEqual({ status: 'loaded', kingdee_number: 'CGTL1' });
    expect(
      Number(
        (await t.ds.query(`SELECT count(*) AS n FROM audit_history WHERE source_key = 'CT-ORDER'`))[0].n,
      ),
    ).toBe(2);
  });

  it('applies migrations once when several replicas start at the same time', async () => {
    const schema = `${t.schema}_mig`;
    const sources = await Promise.all(
      [1, 2, 3].map(() =>
        initializeDataSource(createDataSource({ url: t.databaseUrl, schema, poolSize: 2 }), t.databaseUrl),
      ),
    );
    try {
      const results = await Promise.all(sources.map((ds) => migrate(ds, schema)));
      // One replica applies every migration, the others none.
      expect(results.map((r) => r.length).sort((a, b) => a - b)).toEqual([0, 0, MIGRATIONS.length]);
      const tables = await sources[0].query(
        `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1`,
        [schema],
      );
      expect(Number(tables[0].n)).toBeGreaterThanOrEqual(8);
    } finally {
      await sources[0].query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await Promise.all(sources.map((ds) => ds.destroy()));
    }
  });

  it('fails fast with the address when the broker or the database is unreachable', async () => {
    const kafka = createKafka({
      brokers: ['127.0.0.1:1'],
      clientId: 'unreachable',
      connectionTimeoutMs: 500,
    });
    await expect(assertBrokerReachable(kafka, ['127.0.0.1:1'], 3000)).rejects.toThrow(BrokerUnreachableError);
    await expect(assertBrokerReachable(kafka, ['127.0.0.1:1'], 3000)).rejects.toThrow(/127\.0\.0\.1:1/);
    const url = 'postgres://postgres:hunter2@127.0.0.1:1/nowhere';
    const err = await initializeDataSource(createDataSource({ url, connectTimeoutMs: 2000 }), url).catch(
      (e: Error) => e,
    );
    expect(String(err)).toMatch(/Postgres unreachable at 127\.0\.0\.1:1\/nowhere/);
    expect(String(err)).not.toContain('hunter2');
  });
});
