import { randomBytes } from 'node:crypto';
import { Kafka } from 'kafkajs';
import { BatchHandler, ConsumedMessage } from './batch-consumer';
import { assertTopicsExist } from './missing-topic.error';

/** Where a replay starts or ends: a point in time (ms) or one offset applied to every partition. */
export type RangeBound = { timestamp: number } | { offset: bigint };

export interface RangeProgress {
  done: number;
  total: number;
}

/**
 * Reads a slice of a topic's history — every partition from `from` up to `to` (exclusive; default:
 * the end as it is when the read starts) — with a fresh consumer group, so the live consumers'
 * offsets are never touched. Used to replay history into a downstream stage.
 */
export class TopicRangeReader {
  constructor(private readonly kafka: Kafka) {}

  async plan(
    topic: string,
    from: RangeBound,
    to?: RangeBound,
  ): Promise<Map<number, { start: bigint; end: bigint }>> {
    // kafkajs would answer a missing topic with "does not host this topic-partition", or retry.
    await assertTopicsExist(this.kafka, [topic]);
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const latest = await admin.fetchTopicOffsets(topic);
      const resolve = async (bound: RangeBound): Promise<Map<number, bigint>> => {
        if ('offset' in bound) return new Map(latest.map((p) => [p.partition, bound.offset]));
        const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, bound.timestamp);
        return new Map(byTime.map((p) => [p.partition, BigInt(p.offset)]));
      };
      const starts = await resolve(from);
      const ends = to ? await resolve(to) : new Map(latest.map((p) => [p.partition, BigInt(p.high)]));
      const plan = new Map<number, { start: bigint; end: bigint }>();
      for (const p of latest) {
        const low = BigInt(p.low);
        const high = BigInt(p.high);
        const clamp = (v: bigint) => (v < low ? low : v > high ? high : v);
        const start = clamp(starts.get(p.partition) ?? high);
        const end = clamp(ends.get(p.partition) ?? high);
        plan.set(p.partition, { start, end: end < start ? start : end });
      }
      return plan;
    } finally {
      await admin.disconnect();
    }
  }

  async read(
    topic: string,
    from: RangeBound,
    to: RangeBound | undefined,
    handler: BatchHandler,
    onProgress?: (p: RangeProgress) => void,
  ): Promise<RangeProgress> {
    const plan = await this.plan(topic, from, to);
    const total = [...plan.values()].reduce((sum, p) => sum + Number(p.end - p.start), 0);
    const progress: RangeProgress = { done: 0, total };
    onProgress?.(progress);
    const pending = new Set(
      [...plan.entries()].filter(([, p]) => p.end > p.start).map(([partition]) => partition),
    );
    if (pending.size === 0) return progress;
    const consumer = this.kafka.consumer({
      groupId: `replay-${topic}-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`,
      sessionTimeout: 30000,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
    });
    let finish!: () => void;
    let fail!: (err: Error) => void;
    const stopped = new AbortController();
    const finished = new Promise<void>((res, rej) => {
      finish = res;
      fail = (err) => {
        stopped.abort(err);
        rej(err);
      };
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, heartbeat, isRunning }) => {
        const range = plan.get(batch.partition);
        if (!range || !pending.has(batch.partition)) return;
        const messages: ConsumedMessage[] = batch.messages
          .filter((m) => BigInt(m.offset) >= range.start && BigInt(m.offset) < range.end)
          .map((m) => ({
            topic,
            partition: batch.partition,
            offset: m.offset,
            key: m.key ? m.key.toString('utf8') : null,
            value: m.value,
            headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)])),
            timestamp: m.timestamp,
          }));
        // Long handlers (a replayed load waits on Kingdee) keep the one-member group alive.
        const ticker = setInterval(() => heartbeat().catch(() => undefined), 3000);
        try {
          if (messages.length > 0) await handler(messages, { heartbeat, isRunning, signal: stopped.signal });
        } catch (err) {
          fail(err as Error);
          return;
        } finally {
          clearInterval(ticker);
        }
        progress.done += messages.length;
        onProgress?.(progress);
        const last = BigInt(batch.messages[batch.messages.length - 1]?.offset ?? '-1');
        if (last + 1n >= range.end) {
          pending.delete(batch.partition);
          if (pending.size === 0) finish();
        }
      },
    });
    for (const [partition, range] of plan) {
      if (pending.has(partition)) consumer.seek({ topic, partition, offset: range.start.toString() });
    }
    try {
      await finished;
    } finally {
      await consumer.disconnect();
    }
    return progress;
  }
}
