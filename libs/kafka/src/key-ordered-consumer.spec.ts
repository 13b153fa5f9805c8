import { EventEmitter } from 'node:events';
import { EachBatchPayload, Kafka, Offsets } from 'kafkajs';
import { KeyOrderedConsumer, KeyOrderedConsumerOptions } from './key-ordered-consumer';
import { ConsumedMessage } from './batch-consumer';

const EVENTS = { CRASH: 'crash', REBALANCING: 'rebalancing', GROUP_JOIN: 'group_join' };

/** A kafkajs consumer stand-in: records pauses and commits, lets the test deliver batches and events. */
class FakeConsumer extends EventEmitter {
  readonly events = EVENTS;
  eachBatch?: (p: EachBatchPayload) => Promise<void>;
  readonly paused = new Set<number>();
  readonly commits: Array<{ partition: number; offset: string }> = [];
  readonly resolved = new Map<number, string>();
  connect = jest.fn(async () => undefined);
  subscribe = jest.fn(async () => undefined);
  disconnect = jest.fn(async () => undefined);
  stop = jest.fn(async () => undefined);
  async run(config: { eachBatch: (p: EachBatchPayload) => Promise<void> }): Promise<void> {
    this.eachBatch = config.eachBatch;
  }
  pause(tps: Array<{ topic: string; partitions: number[] }>): void {
    for (const p of tps[0].partitions) this.paused.add(p);
  }
  resume(tps: Array<{ topic: string; partitions: number[] }>): void {
    for (const p of tps[0].partitions) this.paused.delete(p);
  }
  async deliver(partition: number, records: Array<{ key: string; offset: number }>): Promise<void> {
    await this.eachBatch?.({
      batch: {
        topic: 't',
        partition,
        highWatermark: '1000',
        messages: records.map((r) => ({
          key: Buffer.from(r.key),
          value: Buffer.from('v'),
          offset: String(r.offset),
          timestamp: '0',
          attributes: 0,
          headers: {},
        })),
      },
      resolveOffset: (o: string) => this.resolved.set(partition, o),
      heartbeat: async () => undefined,
      commitOffsetsIfNecessary: async (offsets?: Offsets) => {
        for (const t of offsets?.topics ?? []) for (const p of t.partitions) this.commits.push(p);
      },
    } as unknown as EachBatchPayload);
  }
}

/** A handler call the test finishes (or fails) by hand. */
interface Call {
  messages: ConsumedMessage[];
  signal: AbortSignal;
  isRunning: () => boolean;
  finish: () => void;
  fail: (e: Error) => void;
}

const flush = () => new Promise((r) => setImmediate(r));

function setup(options: Partial<KeyOrderedConsumerOptions> = {}) {
  const fake = new FakeConsumer();
  const kafka = { consumer: () => fake, admin: () => ({}) } as unknown as Kafka;
  const consumer = new KeyOrderedConsumer(kafka, {
    groupId: 'g',
    topics: ['t'],
    concurrency: 4,
    chunkSize: 2,
    maxUncommitted: 5,
    revokeMs: 50,
    ...options,
  });
  const calls: Call[] = [];
  const start = () =>
    consumer.start(
      (messages, ctx) =>
        new Promise<void>((resolve, reject) => {
          calls.push({
            messages,
            signal: ctx.signal,
            isRunning: ctx.isRunning,
            finish: resolve,
            fail: reject,
          });
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true });
        }),
    );
  const offsets = (c: Call) => c.messages.map((m) => Number(m.offset));
  return { fake, consumer, calls, start, offsets };
}

describe('KeyOrderedConsumer (fake kafkajs consumer)', () => {
  it('runs keys of one partition concurrently, commits the lowest unfinished offset, keeps a key waiting behind itself', async () => {
    const { fake, calls, start, offsets } = setup();
    await start();
    await fake.deliver(0, [
      { key: 'A', offset: 0 },
      { key: 'B', offset: 1 },
      { key: 'C', offset: 2 },
    ]);
    await flush();
    expect(calls.map(offsets)).toEqual([[0, 1], [2]]); // two calls at once from one partition
    expect(fake.resolved.get(0)).toBe('2'); // the fetch moves on
    await fake.deliver(0, [{ key: 'A', offset: 3 }]); // A again: waits for A@0
    await flush();
    expect(calls).toHaveLength(2);
    calls[1].finish(); // C@2 done, but 0 and 1 are not: nothing passes them
    await flush();
    expect(fake.commits.every((c) => c.offset === '0')).toBe(true);
    calls[0].finish();
    await flush();
    expect(fake.commits.at(-1)).toEqual({ partition: 0, offset: '3' }); // A@3 unfinished
    expect(calls.map(offsets)).toEqual([[0, 1], [2], [3]]); // A@3 after A@0 finished
    calls[2].finish();
    await flush();
    expect(fake.commits.at(-1)).toEqual({ partition: 0, offset: '4' });
  });

  it('with fullChunksFrom calls running, starts only full chunks; a partial one goes when a call finishes', async () => {
    const { fake, calls, start, offsets } = setup({ chunkSize: 2, concurrency: 4, fullChunksFrom: 1 });
    await start();
    await fake.deliver(0, [{ key: 'A', offset: 0 }]);
    await flush();
    expect(calls.map(offsets)).toEqual([[0]]); // idle: at once
    await fake.deliver(0, [{ key: 'B', offset: 1 }]);
    await flush();
    expect(calls).toHaveLength(1); // one call running: B waits for a full chunk
    await fake.deliver(0, [{ key: 'C', offset: 2 }]);
    await flush();
    expect(calls.map(offsets)).toEqual([[0], [1, 2]]);
    await fake.deliver(0, [{ key: 'D', offset: 3 }]);
    await flush();
    expect(calls).toHaveLength(2);
    calls[0].finish();
    calls[1].finish();
    await flush();
    expect(calls.map(offsets)).toEqual([[0], [1, 2], [3]]); // nothing running: D goes alone
  });

  it('pauses a partition at maxUncommitted records in flight and resumes it below', async () => {
    const { fake, calls, start } = setup({ maxUncommitted: 3, chunkSize: 1, concurrency: 1 });
    await start();
    await fake.deliver(
      1,
      [0, 1, 2, 3, 4].map((o) => ({ key: `K${o}`, offset: o })),
    );
    expect(fake.resolved.get(1)).toBe('2'); // took three; 3 and 4 are fetched again later
    expect(fake.paused.has(1)).toBe(true);
    await flush();
    calls[0].finish();
    await flush();
    expect(fake.paused.has(1)).toBe(false);
  });

  it('on REBALANCING: no new call starts, calls in flight finish (not aborted), and the old generation never commits', async () => {
    const { fake, calls, start, offsets } = setup({ concurrency: 1, chunkSize: 1, revokeMs: 30 });
    await start();
    await fake.deliver(0, [
      { key: 'A', offset: 0 },
      { key: 'B', offset: 1 },
    ]);
    await flush();
    expect(calls).toHaveLength(1);
    fake.emit(EVENTS.REBALANCING);
    expect(calls[0].isRunning()).toBe(false); // the handler starts no new write
    await new Promise((r) => setTimeout(r, 60));
    // A write already sent is let finish (aborting cannot undo it), even past revokeMs.
    expect(calls[0].signal.aborted).toBe(false);
    calls[0].finish();
    await flush();
    expect(calls).toHaveLength(1); // B (queued) was dropped, not started
    expect(fake.commits).toEqual([]); // the old generation's finished record is not committed
    // After the rejoin the records come again from the committed offset, as a new generation.
    fake.emit(EVENTS.GROUP_JOIN);
    await fake.deliver(0, [
      { key: 'A', offset: 0 },
      { key: 'B', offset: 1 },
    ]);
    await flush();
    expect(calls.map(offsets)).toEqual([[0], [0]]);
    calls[1].finish();
    await flush();
    expect(fake.commits.at(-1)).toEqual({ partition: 0, offset: '1' });
  });

  it('a call that fails for the infrastructure is tried again (same records, same order) without committing past them', async () => {
    const { fake, calls, start, offsets } = setup({
      concurrency: 1,
      chunkSize: 1,
      retryBackoffMs: 1,
      isTransient: () => true,
    });
    await start();
    await fake.deliver(0, [{ key: 'A', offset: 5 }]);
    await flush();
    calls[0].fail(new Error('postgres down'));
    await new Promise((r) => setTimeout(r, 20));
    expect(calls.map(offsets)).toEqual([[5], [5]]);
    expect(fake.commits).toEqual([]);
    calls[1].finish();
    await flush();
    expect(fake.commits.at(-1)).toEqual({ partition: 0, offset: '6' });
  });
});
