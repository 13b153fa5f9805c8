import { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { AppLogger, silentLogger } from '@libs/common';
import { setConsumerLag } from '@libs/metrics';
import { explainKafkaError } from './missing-topic.error';

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  timestamp: string;
}

export interface BatchContext {
  /** Keeps the group membership alive during long handlers. */
  heartbeat(): Promise<void>;
  /** False once the batch must stop (see `signal`). */
  isRunning(): boolean;
  /**
   * Aborts when the batch must stop: the consumer is stopping, a rebalance took the partition (a
   * heartbeat said so) or the batch went stale. Handlers start nothing new after it and bind their
   * calls to it; they return promptly and their unfinished work is redelivered.
   */
  signal: AbortSignal;
}

/** Why a batch's signal aborted. */
export class BatchRevokedError extends Error {
  override readonly name = 'BatchRevokedError';
}

/**
 * Handles one batch from one partition. It must leave every message durable — output produced and
 * acknowledged, or the message dead-lettered — before it resolves; only then are offsets committed.
 * Throwing means "nothing of this batch is done": the offsets stay, the batch is redelivered.
 */
export type BatchHandler = (messages: ConsumedMessage[], ctx: BatchContext) => Promise<void>;

export interface BatchConsumerOptions {
  groupId: string;
  topics: string[];
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  /** Partitions processed at once (e.g. loader sessions). */
  concurrency?: number;
  /** Messages per handler call; a large fetched batch is cut into chunks of this size. */
  chunkSize?: number;
  /** Linger: how long a fetch may wait for `minBytes` to gather (default 250 ms, 1 byte). */
  maxWaitTimeMs?: number;
  minBytes?: number;
  logger?: AppLogger;
  /** Called when kafkajs gives up (non-retriable crash); default: exit the process non-zero. */
  onFatal?: (error: Error) => void;
  /** How often a running handler's heartbeat is sent (default a tenth of the session timeout). */
  heartbeatIntervalMs?: number;
}

function toConsumed(topic: string, partition: number, m: KafkaMessage): ConsumedMessage {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v === undefined) continue;
    headers[k] = Array.isArray(v)
      ? String(v[v.length - 1])
      : Buffer.isBuffer(v)
        ? v.toString('utf8')
        : String(v);
  }
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ? m.key.toString('utf8') : null,
    value: m.value,
    headers,
    timestamp: m.timestamp,
  };
}

/**
 * kafkajs consumer with manual offset control: `eachBatch`, no auto-resolve, offsets resolved and
 * committed only after the handler made the batch durable. The only consumer abstraction the
 * services use, so the client library can be swapped here.
 */
export class BatchConsumer {
  private readonly consumer: Consumer;
  private readonly logger: AppLogger;
  private running = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly batches = new Set<AbortController>();
  private readonly heartbeatIntervalMs: number;

  constructor(
    kafka: Kafka,
    private readonly options: BatchConsumerOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
    const sessionTimeout = options.sessionTimeoutMs ?? 30000;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? Math.max(Math.floor(sessionTimeout / 10), 500);
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout,
      rebalanceTimeout: Math.max(sessionTimeout * 2, 10000),
      heartbeatInterval: this.heartbeatIntervalMs,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: options.maxWaitTimeMs ?? 250,
      minBytes: options.minBytes ?? 1,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10000 },
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      const payload = event.payload as { error: Error; restart: boolean };
      const error = explainKafkaError(payload.error, options.topics) as Error;
      const { restart } = payload;
      this.logger.error({ err: error.message, restart, groupId: options.groupId }, 'kafka consumer crashed');
      if (!restart) (options.onFatal ?? BatchConsumer.exitProcess)(error);
    });
  }

  private static exitProcess(error: Error): void {
    // Leave restarting to the supervisor (Kubernetes, the demo runner): hanging helps nobody.
    console.error(`fatal: kafka consumer stopped: ${error.message}`);
    process.exit(1);
  }

  async start(handler: BatchHandler): Promise<void> {
    await this.consumer.connect();
    for (const topic of this.options.topics) {
      try {
        await this.consumer.subscribe({ topic, fromBeginning: this.options.fromBeginning ?? true });
      } catch (err) {
        throw explainKafkaError(err, [topic]);
      }
    }
    this.running = true;
    const chunkSize = this.options.chunkSize ?? 100;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.concurrency ?? 1,
      eachBatch: async (payload: EachBatchPayload) => {
        const work = this.processBatch(payload, handler, chunkSize);
        this.inFlight.add(work);
        try {
          await work;
        } finally {
          this.inFlight.delete(work);
        }
      },
    });
  }

  private async processBatch(
    payload: EachBatchPayload,
    handler: BatchHandler,
    chunkSize: number,
  ): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload;
    const controller = new AbortController();
    const live = () => this.running && isRunning() && !isStale() && !controller.signal.aborted;
    const revoke = (why: string) => {
      if (!controller.signal.aborted) controller.abort(new BatchRevokedError(why));
    };
    // kafkajs heartbeats only when asked: while a handler waits on a slow call, a timer asks, and
    // learns of a rebalance (the heartbeat fails) before the group evicts us.
    const ticker = setInterval(() => {
      if (!this.running || !isRunning()) return revoke('consumer stopping');
      if (isStale()) return revoke('batch went stale (partition reassigned or seeked)');
      heartbeat().catch((err: Error) => revoke(`heartbeat failed: ${err.message}`));
    }, this.heartbeatIntervalMs);
    this.batches.add(controller);
    try {
      const all = batch.messages.map((m) => toConsumed(batch.topic, batch.partition, m));
      const ctx: BatchContext = { heartbeat, isRunning: live, signal: controller.signal };
      for (let i = 0; i < all.length; i += chunkSize) {
        if (!live()) return;
        const chunk = all.slice(i, i + chunkSize);
        await handler(chunk, ctx);
        // A handler that returned after its batch was revoked may not have finished everything.
        if (controller.signal.aborted) return;
        resolveOffset(chunk[chunk.length - 1].offset);
        await commitOffsetsIfNecessary({
          topics: [
            {
              topic: batch.topic,
              partitions: [
                {
                  partition: batch.partition,
                  offset: (BigInt(chunk[chunk.length - 1].offset) + 1n).toString(),
                },
              ],
            },
          ],
        });
        setConsumerLag(
          this.options.groupId,
          batch.topic,
          batch.partition,
          batch.highWatermark,
          chunk[chunk.length - 1].offset,
        );
        await heartbeat();
      }
    } finally {
      clearInterval(ticker);
      this.batches.delete(controller);
    }
  }

  pause(): void {
    this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
  }

  resume(): void {
    this.consumer.resume(this.options.topics.map((topic) => ({ topic })));
  }

  isRunning(): boolean {
    return this.running;
  }

  /**
   * Graceful stop within `graceMs`: running batches are revoked (their handlers start nothing new,
   * return promptly and leave unfinished work uncommitted for redelivery), then the consumer leaves
   * the group. Past the grace it disconnects anyway.
   */
  async stop(graceMs = 25_000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const c of this.batches) c.abort(new BatchRevokedError('consumer stopping'));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const stopped = this.consumer.stop().then(() => 'stopped' as const);
    const first = await Promise.race([stopped, grace]);
    clearTimeout(timer);
    if (first === 'timeout')
      this.logger.warn(
        { groupId: this.options.groupId, graceMs, inFlight: this.inFlight.size },
        'handlers did not finish within the shutdown grace; leaving anyway (their offsets stay uncommitted)',
      );
    await this.consumer.disconnect().catch(() => undefined);
  }
}
