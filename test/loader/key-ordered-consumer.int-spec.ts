import { Producer } from 'kafkajs';
import { ConsumedMessage, KeyOrderedConsumer } from '@libs/kafka';
import { createTestEnv, eventually, TestEnv } from '../support/test-env';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * KeyOrderedConsumer on the real broker with a handler of its own (no Kingdee): calls overlap on one
 * partition, one key's records strictly in offset order and never two at once, at most
 * `maxUncommitted` records of a partition in flight, and the committed offset never passes a record
 * whose call did not finish.
 */
describe('KeyOrderedConsumer (real broker)', () => {
  let t: TestEnv;
  let producer: Producer;
  const consumers: KeyOrderedConsumer[] = [];

  beforeAll(async () => {
    t = await createTestEnv('key-ordered', { partitions: 1 });
    producer = t.kafka.producer();
    await producer.connect();
  });
  afterEach(async () => {
    for (const c of consumers.splice(0)) await c.stop(2000);
  });
  afterAll(async () => {
    await producer.disconnect();
    await t.cleanup();
  });

  const send = async (topic: string, keys: string[]) => {
    await producer.send({
      topic,
      messages: keys.map((key, i) => ({ key, value: Buffer.from(`${key}#${i}`) })),
    });
  };
  const committed = async (groupId: string, topic: string): Promise<bigint> => {
    const admin = t.kafka.admin();
    await admin.connect();
    try {
      const [{ partitions }] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return BigInt(partitions[0].offset);
    } finally {
      await admin.disconnect();
    }
  };

  it('runs calls of different keys at once from one partition, each key in offset order, within the uncommitted bound', async () => {
    const topic = t.topics.kingdeeDocument;
    const groupId = `ko-order-${t.suffix}`;
    // 12 keys, 10 records each, interleaved: one partition.
    const keys = Array.from({ length: 120 }, (_, i) => `K${i % 12}`);
    await send(topic, keys);
    const seen = new Map<string, bigint[]>();
    const running = new Set<string>();
    let overlapSameKey = 0;
    let concurrent = 0;
    let maxConcurrent = 0;
    let inCalls = 0;
    let maxTaken = 0;
    const maxUncommitted = 10;
    const consumer = new KeyOrderedConsumer(t.kafka, {
      groupId,
      topics: [topic],
      sessionTimeoutMs: 10000,
      concurrency: 4,
      chunkSize: 2,
      maxUncommitted,
      revokeMs: 500,
      maxWaitTimeMs: 50,
    });
    consumers.push(consumer);
    const handle = async (messages: ConsumedMessage[]) => {
      concurrent += 1;
      inCalls += messages.length;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      maxTaken = Math.max(maxTaken, inCalls + consumer.stats().queued);
      const keysHere = [...new Set(messages.map((m) => m.key as string))];
      for (const k of keysHere) {
        if (running.has(k)) overlapSameKey += 1;
        running.add(k);
      }
      await delay(20 + Math.floor(Math.random() * 40));
      for (const m of messages)
        seen.set(m.key as string, [...(seen.get(m.key as string) ?? []), BigInt(m.offset)]);
      for (const k of keysHere) running.delete(k);
      inCalls -= messages.length;
      concurrent -= 1;
    };
    await consumer.start(handle);
    await eventually('every record handled', async () => [...seen.values()].flat().length >= 120, 60_000);
    expect(maxConcurrent).toBeGreaterThan(1); // one partition, several calls at once
    expect(overlapSameKey).toBe(0); // never two calls of one key at once
    for (const [, offsets] of seen) {
      expect(offsets).toHaveLength(10);
      expect([...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(offsets); // in offset order
    }
    expect(maxTaken).toBeLessThanOrEqual(maxUncommitted);
    await eventually('all committed', async () => (await committed(groupId, topic)) === 120n, 30_000);
  });

  it('stopped with a call stuck: the committed offset stays at the lowest unfinished record, which comes again', async () => {
    const topic = t.topics.rawStockout;
    const groupId = `ko-stop-${t.suffix}`;
    await send(
      topic,
      Array.from({ length: 30 }, (_, i) => `S${i}`),
    );
    const stuck = 7n; // the record whose call never finishes before the stop
    const done = new Set<bigint>();
    const first = new KeyOrderedConsumer(t.kafka, {
      groupId,
      topics: [topic],
      sessionTimeoutMs: 10000,
      concurrency: 3,
      chunkSize: 1,
      maxUncommitted: 100,
      revokeMs: 200,
      maxWaitTimeMs: 50,
    });
    consumers.push(first);
    await first.start(async (messages, ctx) => {
      for (const m of messages) {
        if (BigInt(m.offset) === stuck) {
          await new Promise<void>((_, reject) =>
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true }),
          );
        }
        done.add(BigInt(m.offset));
      }
    });
    await eventually('the records after the stuck one done', async () => done.size >= 29, 30_000);
    expect(done.has(stuck)).toBe(false);
    await first.stop(5000);
    expect(await committed(groupId, topic)).toBe(stuck);
    // The next member gets the stuck record (and those after it, already done: at least once).
    const again: bigint[] = [];
    const second = new KeyOrderedConsumer(t.kafka, {
      groupId,
      topics: [topic],
      sessionTimeoutMs: 10000,
      concurrency: 3,
      chunkSize: 5,
      maxUncommitted: 100,
      revokeMs: 200,
      maxWaitTimeMs: 50,
    });
    consumers.push(second);
    await second.start(async (messages) => {
      for (const m of messages) again.push(BigInt(m.offset));
    });
    await eventually('the stuck record delivered again', async () => again.includes(stuck), 30_000);
    expect(Math.min(...again.map(Number))).toBe(Number(stuck));
    await eventually('all committed', async () => (await committed(groupId, topic)) === 30n, 30_000);
  });
});
