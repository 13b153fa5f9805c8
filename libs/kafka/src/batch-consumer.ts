import { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { AppLogger, silentLogger } from '@libs/common';
import { setConsumerLag } from '@libs/metrics';

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
  isRunning(): boolean;
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

  constructor(
    kafka: Kafka,
    private readonly options: BatchConsumerOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
    const sessionTimeout = options.sessionTimeoutMs ?? 30000;
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout,
      rebalanceTimeout: Math.max(sessionTimeout * 2, 10000),
      heartbeatInterval: Math.max(Math.floor(sessionTimeout / 10), 500),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: options.maxWaitTimeMs ?? 250,
      minBytes: options.minBytes ?? 1,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10000 },
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload as { error: Error; restart: boolean };
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
      await this.consumer.subscribe({ topic, fromBeginning: this.options.fromBeginning ?? true });
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
    const all = batch.messages.map((m) => toConsumed(batch.topic, batch.partition, m));
    for (let i = 0; i < all.length; i += chunkSize) {
      if (!isRunning() || isStale()) return;
      const chunk = all.slice(i, i + chunkSize);
      await handler(chunk, { heartbeat, isRunning: () => isRunning() && !isStale() });
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

  /** Graceful stop: lets in-flight handlers finish (their offsets get committed), then leaves the group. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await Promise.allSettled([...this.inFlight]);
    await this.consumer.stop();
    await this.consumer.disconnect();
  }
}
