import { AuditPublisher } from '@libs/audit';
import { silentLogger } from '@libs/common';
import {
  AuditEventSchema,
  DeadLetterEnvelopeSchema,
  decodeEvent,
  KingdeeDocumentSchema,
  RawStockoutEvent,
} from '@libs/contracts';
import { PostgresPayloadStore } from '@libs/database';
import { BatchConsumer, DeadLetterPublisher, EventProducer } from '@libs/kafka';
import { buildRequest } from '@libs/mapping';
import { ParkedDrainer, ParkedMessageStore, SchemeHolds } from '@libs/parking';
import { SchemeRegistry, TransformProcessor } from '@libs/transform';
import { rawStockoutEvent } from '../support/service-app';
import { createTestEnv, eventually, readAll, TestEnv } from '../support/test-env';

const SCHEME = 'wdt-stockout-return-to-kingdee-pur-mrb';

const raw = (record: unknown, orderNo = 'CT-X', schemeId = SCHEME): RawStockoutEvent =>
  rawStockoutEvent(orderNo, { schemeId, record: record as Record<string, unknown> });

const good = (orderNo: string, patch: Record<string, unknown> = {}) => ({
  stockout_id: '50012',
  order_no: orderNo,
  warehouse_no: 'SH01',
  status: '110',
  consign_time: '2026-11-28 01:30:00',
  provider_no: 'GYS001',
  modified: '2026-11-28 01:31:07',
  receiver_name: '张三',
  details_list: [
    { rec_id: '100120', spec_no: 'BWB-500-W', goods_count: '2.0000' },
    { rec_id: '100121', spec_no: 'FH-L', goods_count: '0.5000' },
  ],
  ...patch,
});
const line = (patch: Record<string, unknown>) => ({
  details_list: [{ rec_id: '1', spec_no: 'BWB-500-W', goods_count: '1.0000', ...patch }],
});

/** Messages the transformer must dead-letter: bytes, envelope and record problems. */
function malformedCorpus(): Array<{ name: string; key: string; value: Buffer }> {
  const enc = (name: string, e: unknown) => ({ name, key: name, value: Buffer.from(JSON.stringify(e)) });
  const rec = (name: string, record: unknown) => enc(name, raw(record, name));
  const recPatch = (name: string, patch: Record<string, unknown>) => rec(name, good(name, patch));
  return [
    { name: 'not-json', key: 'not-json', value: Buffer.from('{"eventType": "wdt.') },
    { name: 'empty', key: 'empty', value: Buffer.alloc(0) },
    {
      name: 'latin1-bytes',
      key: 'latin1-bytes',
      value: Buffer.from([0x7b, 0x22, 0xe9, 0xff, 0xfe, 0x22, 0x7d]),
    },
    {
      name: 'utf16',
      key: 'utf16',
      value: Buffer.from(JSON.stringify(raw(good('utf16'), 'utf16')), 'utf16le'),
    },
    { name: 'json-array', key: 'json-array', value: Buffer.from('[1,2,3]') },
    { name: 'json-null', key: 'json-null', value: Buffer.from('null') },
    { name: 'json-string', key: 'json-string', value: Buffer.from('"CT1"') },
    enc('wrong-event-type', { ...raw(good('x')), eventType: 'something.else' }),
    enc('wrong-version', { ...raw(good('x')), schemaVersion: 2 }),
    enc('missing-order-no-envelope', { ...raw(good('x')), orderNo: undefined }),
    enc('bad-event-id', { ...raw(good('x')), eventId: 'not-a-uuid' }),
    enc('extra-envelope-field', { ...raw(good('x')), hacked: true }),
    enc('record-is-array', { ...raw(good('x')), record: [] }),
    enc('unknown-scheme', raw(good('unknown-scheme'), 'unknown-scheme', 'no-such-scheme')),
    recPatch('missing-order-no', { order_no: undefined }),
    recPatch('order-no-number', { order_no: 12345 }),
    recPatch('order-no-empty', { order_no: '' }),
    recPatch('order-no-object', { order_no: { a: 1 } }),
    recPatch('lines-string', { details_list: 'BWB-500-W' }),
    recPatch('lines-object', { details_list: { 0: { spec_no: 'A' } } }),
    recPatch('lines-number', { details_list: 3 }),
    recPatch('line-null', { details_list: [null] }),
    recPatch('line-string', { details_list: ['BWB-500-W'] }),
    recPatch('line-array', { details_list: [['BWB-500-W', '1']] }),
    recPatch('qty-abc', line({ goods_count: 'abc' })),
    recPatch('qty-1e400', line({ goods_count: '1e400' })),
    recPatch('qty-nan', line({ goods_count: 'NaN' })),
    recPatch('qty-infinity', line({ goods_count: 'Infinity' })),
    recPatch('qty-dash', line({ goods_count: '-' })),
    recPatch('qty-empty', line({ goods_count: '' })),
    recPatch('qty-negative', line({ goods_count: '-1.0000' })),
    recPatch('qty-zero', line({ goods_count: '0.0000' })),
    recPatch('qty-object', line({ goods_count: { v: 1 } })),
    recPatch('qty-comma', line({ goods_count: '1,000.00' })),
    recPatch('qty-huge-digits', line({ goods_count: '9'.repeat(400) })),
    recPatch('spec-missing', line({ spec_no: undefined })),
    recPatch('spec-empty', line({ spec_no: '' })),
    recPatch('spec-object', line({ spec_no: { FNumber: 'x' } })),
    recPatch('spec-too-long', line({ spec_no: 'S'.repeat(5000) })),
    recPatch('spec-lone-surrogate', line({ spec_no: 'AB\ud800C' })),
    recPatch('spec-replacement-char', line({ spec_no: 'AB\ufffdC' })),
    recPatch('spec-control-char', line({ spec_no: 'AB\u0000C' })),
    recPatch('provider-missing', { provider_no: undefined }),
    recPatch('provider-array', { provider_no: ['GYS001'] }),
    recPatch('warehouse-missing', { warehouse_no: undefined }),
    recPatch('consign-bad', { consign_time: '2026-13-45 99:00:00' }),
    recPatch('consign-garbage', { consign_time: 'yesterday' }),
    recPatch('consign-number', { consign_time: 1764264600 }),
    recPatch('details-missing', { details_list: undefined }),
    rec('record-empty', {}),
    recPatch('line-empty-object', { details_list: [{}] }),
    rec('constructor-header', {
      ...good('constructor-header'),
      constructor: { prototype: { polluted: true } },
      order_no: undefined,
    }),
    rec(
      'proto-line',
      JSON.parse(
        JSON.stringify(good('proto-line')).replace('"spec_no":"FH-L"', '"__proto__":{"spec_no":"X"}'),
      ),
    ),
  ];
}

describe('transformer: raw topic → Kingdee documents / skips / dead letters, real Kafka and Postgres', () => {
  let t: TestEnv;
  let producer: EventProducer;
  let consumer: BatchConsumer;
  const maxMessageBytes = 256 * 1024;

  beforeAll(async () => {
    t = await createTestEnv('transformer', { maxMessageBytes });
    producer = new EventProducer(t.kafka, maxMessageBytes);
    await producer.connect();
    const registry = new SchemeRegistry('schemes', silentLogger);
    registry.load();
    const processor = new TransformProcessor(
      registry,
      producer,
      new AuditPublisher(producer, t.topics),
      new DeadLetterPublisher(producer, t.topics, new PostgresPayloadStore(t.ds), maxMessageBytes),
      t.topics,
      silentLogger,
    );
    consumer = new BatchConsumer(t.kafka, {
      groupId: `transformer-${t.suffix}`,
      topics: [t.topics.rawStockout],
      sessionTimeoutMs: 10000,
    });
    await consumer.start(async (m) => {
      await processor.handle(m);
    });
  });

  afterAll(async () => {
    await consumer.stop();
    await producer.disconnect();
    await t.cleanup();
  });

  it('maps, skips and dead-letters: every input ends somewhere, with a reason, and the partition keeps flowing', async () => {
    const corpus = malformedCorpus();
    expect(corpus.length).toBeGreaterThanOrEqual(50);
    const huge = raw(
      good('HUGE', {
        remark: 'x'.repeat(70 * 1024),
        details_list: [{ spec_no: 'Y'.repeat(70 * 1024), goods_count: '1' }],
      }),
      'HUGE',
    );
    const valid = [
      raw(good('CT-OK-1'), 'CT-OK-1'),
      raw(good('CT-OK-2'), 'CT-OK-2'),
      // Odd but valid: Latin-1 mojibake is still valid Unicode; an own `__proto__` key is never walked into.
      raw(good('CT-MOJIBAKE', { provider_no: 'GYS\u00e4\u00be\u009b' }), 'CT-MOJIBAKE'),
      raw(
        JSON.parse(
          JSON.stringify(good('CT-PROTO')).replace(
            '"warehouse_no"',
            '"__proto__":{"polluted":true},"warehouse_no"',
          ),
        ),
        'CT-PROTO',
      ),
    ];
    const skipped = [
      raw(good('CT-CANCELLED', { status: '5' }), 'CT-CANCELLED'),
      raw(good('CT-REVIEWED', { status: '55' }), 'CT-REVIEWED'),
      raw(good('CT-NOLINES', { details_list: [] }), 'CT-NOLINES'),
      // A status WDT would never send fails the status precondition: skipped with the reason, not lost.
      raw(good('CT-STATUS-OBJECT', { status: { code: 110 } }), 'CT-STATUS-OBJECT'),
    ];
    const kafkaProducer = t.kafka.producer();
    await kafkaProducer.connect();
    // Interleave poison with good records on few keys so they share partitions.
    const messages = [
      ...corpus.map((c) => ({ key: c.key, value: c.value })),
      { key: 'HUGE', value: Buffer.from(JSON.stringify(huge)) },
      ...[...valid, ...skipped].map((e) => ({ key: e.orderNo, value: Buffer.from(JSON.stringify(e)) })),
    ];
    for (const message of messages)
      await kafkaProducer.send({ topic: t.topics.rawStockout, acks: -1, messages: [message] });
    await kafkaProducer.disconnect();

    const dlqCount = corpus.length + 1;
    const dlq = (await readAll(t, t.topics.deadLetter, dlqCount, 60000)).map((m) =>
      decodeEvent(DeadLetterEnvelopeSchema, m.value, 'dlq'),
    );
    const docs = (await readAll(t, t.topics.kingdeeDocument, 4)).map((m) =>
      decodeEvent(KingdeeDocumentSchema, m.value, 'doc'),
    );
    const audits = (
      await eventually('audit events', async () => {
        const a = await readAll(t, t.topics.audit, dlqCount + 4);
        return a.length >= dlqCount + 4 ? a : undefined;
      })
    ).map((m) => decodeEvent(AuditEventSchema, m.value, 'audit'));

    // Every malformed input is parked exactly once, with stage, reason and origin.
    expect(new Set(dlq.map((d) => `${d.origin.partition}/${d.origin.offset}`)).size).toBe(dlqCount);
    expect(dlq.map((d) => d.origin.key).sort()).toEqual([...corpus.map((c) => c.key), 'HUGE'].sort());
    for (const d of dlq) {
      expect(d.stage).toBe('transformer');
      expect(d.errorMessage.length).toBeGreaterThan(5);
      expect(d.origin.topic).toBe(t.topics.rawStockout);
    }
    const byKey = new Map(dlq.map((d) => [d.origin.key, d]));
    expect(byKey.get('unknown-scheme')!.errorMessage).toMatch(/no-such-scheme/);
    expect(byKey.get('qty-abc')!.errorMessage).toMatch(/FRMREALQTY/);
    expect(byKey.get('missing-order-no')!.errorMessage).toMatch(/order_no|FBillNo/);
    expect(byKey.get('latin1-bytes')!.payload).toMatchObject({ storage: 'inline', encoding: 'base64' });
    // Too large to travel on the dead-letter topic: parked in Postgres by reference, size and hash.
    const hugeDl = byKey.get('HUGE')!;
    expect(hugeDl.payload).toMatchObject({ storage: 'postgres' });
    const stored = await new PostgresPayloadStore(t.ds).load((hugeDl.payload as { ref: string }).ref);
    expect(stored!.length).toBe((hugeDl.payload as { sizeBytes: number }).sizeBytes);

    // The good ones still came through, keyed by FBillNo, exactly as the seed's mapping says.
    expect(docs.map((d) => d.billKey).sort()).toEqual(['CT-MOJIBAKE', 'CT-OK-1', 'CT-OK-2', 'CT-PROTO']);
    const request = buildRequest(
      (await import('@libs/scheme')).loadSchemeFile(`schemes/${SCHEME}.yaml`),
      docs.filter((d) => d.billKey === 'CT-OK-1').map((d) => d.model),
    );
    expect((request.data.Model as Array<Record<string, unknown>>)[0]).toMatchObject({
      FBillNo: 'CT-OK-1',
      FSupplierID: { FNumber: 'GYS001' },
      FDate: '2026-11-28 01:30:00',
    });
    expect(JSON.stringify(docs)).not.toContain('张三');

    // Skips reach the audit trail with the precondition's reason; dead letters do too.
    const skips = audits.filter((a) => a.status === 'skipped');
    expect(skips.map((a) => a.sourceKey).sort()).toEqual([
      'CT-CANCELLED',
      'CT-NOLINES',
      'CT-REVIEWED',
      'CT-STATUS-OBJECT',
    ]);
    expect(skips.every((a) => (a.reason ?? '').length > 5)).toBe(true);
    expect(audits.filter((a) => a.status === 'dead_lettered')).toHaveLength(dlqCount);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('transformer: raw events of a paused scheme wait in Postgres and are mapped, in order, on resume', () => {
  let t: TestEnv;
  let producer: EventProducer;

  beforeAll(async () => {
    t = await createTestEnv('transformer-pause');
    producer = new EventProducer(t.kafka, 1_048_576);
    await producer.connect();
  });

  afterAll(async () => {
    await producer.disconnect();
    await t.cleanup();
  });

  it('parks (audited, partition free), keeps the newest version of an order, and drains it when resumed', async () => {
    const registry = new SchemeRegistry('schemes', silentLogger);
    registry.load();
    const holds = new SchemeHolds(t.ds, 60_000, silentLogger);
    const store = new ParkedMessageStore(t.ds, 'transformer');
    const processor = new TransformProcessor(
      registry,
      producer,
      new AuditPublisher(producer, t.topics),
      new DeadLetterPublisher(producer, t.topics, new PostgresPayloadStore(t.ds), 1_048_576),
      t.topics,
      silentLogger,
      { holds, store, behindRetryMs: 0 },
    );
    let offset = 0;
    const messages = (events: RawStockoutEvent[]) =>
      events.map((e) => ({
        topic: t.topics.rawStockout,
        partition: 0,
        offset: String(offset++),
        key: e.orderNo,
        value: Buffer.from(JSON.stringify(e)),
        headers: {},
        timestamp: '0',
      }));
    await t.ds.query(
      `INSERT INTO sync_cursors (scheme_id, axis, cursor_value, paused, updated_at) VALUES ($1, 'consign_time', '2026-11-01 00:00:00', true, now())`,
      [SCHEME],
    );
    await holds.start();
    const v1 = raw(good('CT-PAUSED-1', { provider_no: 'GYS001' }), 'CT-PAUSED-1');
    const v2 = raw(good('CT-PAUSED-1', { provider_no: 'GYS002' }), 'CT-PAUSED-1');
    const first = await processor.handle(messages([v1, raw(good('CT-PAUSED-2'), 'CT-PAUSED-2')]));
    const second = await processor.handle(messages([v2]));
    expect([first.parked, first.documents, second.parked]).toEqual([2, 0, 1]);
    const parked: Array<{ message_key: string; reason: string }> = await t.ds.query(
      `SELECT message_key, reason FROM parked_messages WHERE stage = 'transformer' ORDER BY message_key`,
    );
    expect(parked).toEqual([
      { message_key: 'CT-PAUSED-1', reason: 'paused' },
      { message_key: 'CT-PAUSED-2', reason: 'paused' },
    ]);
    const audits = (await readAll(t, t.topics.audit, 2)).map((m) =>
      decodeEvent(AuditEventSchema, m.value, 'audit'),
    );
    expect(
      audits.filter((a) => a.status === 'parked' && a.stage === 'transformer').length,
    ).toBeGreaterThanOrEqual(2);

    // Resume: the drainer maps what waited (the newest version of CT-PAUSED-1) and removes it.
    await t.ds.query(`UPDATE sync_cursors SET paused = false WHERE scheme_id = $1`, [SCHEME]);
    await holds.refresh();
    const drainer = new ParkedDrainer(store, {
      owner: 'test',
      pollMs: 100,
      batch: 10,
      leaseMs: 10_000,
      runningSchemes: () => holds.running([SCHEME]),
      handle: (rows) => processor.handleParked(rows),
    });
    expect(await drainer.drainOnce()).toBe(2);
    expect(await t.ds.query(`SELECT 1 FROM parked_messages WHERE stage = 'transformer'`)).toHaveLength(0);
    const documents = (await readAll(t, t.topics.kingdeeDocument, 2)).map((m) =>
      decodeEvent(KingdeeDocumentSchema, m.value, 'doc'),
    );
    const one = documents.filter((d) => d.sourceKey === 'CT-PAUSED-1');
    expect(one).toHaveLength(1);
    expect(one[0].model.FSupplierID).toEqual({ FNumber: 'GYS002' });
    holds.stop();
  });
});
