import { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { ExponentialBackoff, handleWhen, noJitterGenerator, retry } from 'cockatiel';
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
  /**
   * Attempts at a chunk whose handler throws (CONSUMER_MAX_ATTEMPTS, default 1 = redeliver at once).
   * After them the chunk's messages are tried one by one, each up to this many times; one that still
   * fails with an error that is not an infrastructure failure goes to `deadLetter`. Infrastructure
   * failures (Kafka, Postgres or the network down) never dead-letter: the batch is redelivered.
   */
  maxAttempts?: number;
  /** Parks a message that failed `attempts` times (resolve = durable); absent: redeliver forever. */
  deadLetter?: (message: ConsumedMessage, error: unknown, attempts: number) => Promise<void>;
  /** Pause before attempt n+1 is `retryBackoffMs · 2^(n-1)`, capped at 5 s (default 200 ms; cockatiel backoff). */
  retryBackoffMs?: number;
  /**
   * Failures of the service's own outside world (e.g. the ERP down) that say nothing about the
   * message: never dead-lettered, the batch is redelivered, like Kafka or Postgres failures.
   */
  isTransient?: (error: unknown) => boolean;
  /**
   * How often the lag of the group (high watermarks − committed offsets, read from the broker) is
   * exported (the services pass CONSUMER_LAG_INTERVAL_MS, default 15 s; unset or 0 = only after each chunk). Independent of
   * progress: it keeps rising while a handler is stuck.
   */
  lagIntervalMs?: number;
  /** Called with each timed lag measurement (e.g. to keep it in Postgres for the console). */
  onLag?: (report: {
    groupId: string;
    lag: number;
    partitions: Array<{ topic: string; partition: number; lag: number }>;
  }) => Promise<void>;
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * True for failures of the infrastructure rather than of a message: kafkajs connection/retriable
 * errors, socket errors, Postgres connection/resource/shutdown errors (SQLSTATE classes 08, 53, 57),
 * our own stop. Such failures are retried by redelivery, never dead-lettered.
 */
export function isInfrastructureFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const e = error as Error & { code?: unknown; retriable?: unknown; cause?: unknown };
  if (e instanceof BatchRevokedError) return true;
  if (e.name.startsWith('KafkaJS'))
    return (
      e.retriable === true ||
      /Connection|NumberOfRetriesExceeded|RequestTimeout|NonRetriableError/.test(e.name) ||
      isInfrastructureFailure(e.cause)
    );
  if (typeof e.code === 'string') {
    if (TRANSIENT_CODES.has(e.code)) return true;
    if (/^(08|53|57)[0-9A-Z]{3}$/.test(e.code)) return true;
  }
  if (/Connection terminated|connection timeout|Client has encountered a connection error/i.test(e.message))
    return true;
  return e.cause !== undefined && isInfrastructureFailure(e.cause);
}

export function toConsumed(topic: string, partition: number, m: KafkaMessage): ConsumedMessage {
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
  protected readonly consumer: Consumer;
  protected readonly logger: AppLogger;
  protected running = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly batches = new Set<AbortController>();
  protected readonly heartbeatIntervalMs: number;
  protected lagTimer?: NodeJS.Timeout;
  protected lagAdmin?: Admin;
  /** When the consumer last moved: committed a chunk, or found itself caught up (lag 0). */
  private lastProgressAt = Date.now();
  /** The last lag measured from the broker (undefined until measured). */
  private lastLag?: number;
  private pausedAll = false;

  /** Pause between a handler's attempts (cockatiel: doubling, capped at 5 s). */
  private readonly retryBackoff: ExponentialBackoff<number>;

  constructor(
    protected readonly kafka: Kafka,
    protected readonly options: BatchConsumerOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.retryBackoff = new ExponentialBackoff({
      generator: noJitterGenerator,
      initialDelay: options.retryBackoffMs ?? 200,
      maxDelay: 5000,
    });
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

  /** Connects and subscribes to every topic (a missing topic is explained). */
  protected async subscribeAll(): Promise<void> {
    await this.consumer.connect();
    for (const topic of this.options.topics) {
      try {
        await this.consumer.subscribe({ topic, fromBeginning: this.options.fromBeginning ?? true });
      } catch (err) {
        throw explainKafkaError(err, [topic]);
      }
    }
  }

  async start(handler: BatchHandler): Promise<void> {
    await this.subscribeAll();
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
    this.markProgress();
    this.startLagTimer();
  }

  /** Exports the group's lag from the broker on a timer (see `lagIntervalMs`). */
  protected startLagTimer(): void {
    const interval = this.options.lagIntervalMs ?? 0;
    if (interval <= 0) return;
    this.lagAdmin = this.kafka.admin();
    const admin = this.lagAdmin;
    let busy = false;
    this.lagTimer = setInterval(() => {
      if (busy || !this.running) return;
      busy = true;
      void this.measureLag(admin)
        .catch((err: Error) =>
          this.logger.debug({ err: err.message, groupId: this.options.groupId }, 'consumer lag not measured'),
        )
        .finally(() => {
          busy = false;
        });
    }, interval);
    this.lagTimer.unref();
  }

  private async measureLag(admin: Admin): Promise<void> {
    await admin.connect();
    const committed = await admin.fetchOffsets({
      groupId: this.options.groupId,
      topics: this.options.topics,
    });
    const lags: Array<{ topic: string; partition: number; lag: number }> = [];
    for (const { topic, partitions } of committed) {
      const ends = new Map(
        (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, { high: p.high, low: p.low }]),
      );
      for (const p of partitions) {
        const end = ends.get(p.partition);
        if (!end) continue;
        // Nothing committed yet: everything from the start of the log is behind.
        const next = p.offset === '-1' ? end.low : p.offset;
        setConsumerLag(this.options.groupId, topic, p.partition, end.high, (BigInt(next) - 1n).toString());
        const behind = BigInt(end.high) - BigInt(next);
        lags.push({ topic, partition: p.partition, lag: Number(behind < 0n ? 0n : behind) });
      }
    }
    const total = lags.reduce((sum, l) => sum + l.lag, 0);
    this.lastLag = total;
    if (total === 0) this.markProgress();
    await this.options.onLag?.({ groupId: this.options.groupId, lag: total, partitions: lags });
  }

  /**
   * Runs the handler on a chunk with up to `maxAttempts` attempts; then message by message, parking
   * each that keeps failing (see `maxAttempts`). Throws when the batch must be redelivered.
   */
  protected async handleWithRetries(
    chunk: ConsumedMessage[],
    handler: BatchHandler,
    ctx: BatchContext,
  ): Promise<void> {
    const max = Math.max(1, this.options.maxAttempts ?? 1);
    // Retries of what may pass on a second try: never our own stop, never the infrastructure (the
    // batch is redelivered instead), at most `maxAttempts` in all.
    const policy = retry(
      handleWhen((error) => !ctx.signal.aborted && !this.notTheMessage(error)),
      { maxAttempts: max - 1, backoff: this.retryBackoff },
    );
    policy.onRetry((event) =>
      this.logger.warn(
        {
          groupId: this.options.groupId,
          attempts: event.attempt,
          maxAttempts: max,
          err: 'error' in event ? (event.error as Error).message : undefined,
        },
        'handler failed; trying again',
      ),
    );
    const attempt = async (messages: ConsumedMessage[]): Promise<{ error?: unknown; attempts: number }> => {
      let attempts = 0;
      try {
        await policy.execute(async ({ attempt: n }) => {
          attempts += 1;
          // The wait between attempts may be seconds: tell the group we are alive before the next.
          if (n > 0) await ctx.heartbeat().catch(() => undefined);
          await handler(messages, ctx);
        });
        return { attempts };
      } catch (error) {
        return { error, attempts };
      }
    };
    const whole = await attempt(chunk);
    if (whole.error === undefined) return;
    const deadLetter = this.options.deadLetter;
    if (!deadLetter || ctx.signal.aborted || this.notTheMessage(whole.error)) throw whole.error;
    // Find the message(s) at fault: the others go on, in order.
    for (const message of chunk.length === 1 ? [] : chunk) {
      if (!ctx.isRunning()) throw whole.error;
      const single = await attempt([message]);
      if (single.error === undefined) continue;
      if (ctx.signal.aborted || this.notTheMessage(single.error)) throw single.error;
      await this.park(deadLetter, message, single.error, single.attempts);
    }
    if (chunk.length === 1) await this.park(deadLetter, chunk[0], whole.error, whole.attempts);
  }

  /** A failure of the infrastructure or of the service's outside world: the message is not at fault. */
  private notTheMessage(error: unknown): boolean {
    return isInfrastructureFailure(error) || (this.options.isTransient?.(error) ?? false);
  }

  private async park(
    deadLetter: NonNullable<BatchConsumerOptions['deadLetter']>,
    message: ConsumedMessage,
    error: unknown,
    attempts: number,
  ): Promise<void> {
    this.logger.error(
      {
        groupId: this.options.groupId,
        topic: message.topic,
        partition: message.partition,
        offset: message.offset,
        attempts,
        err: (error as Error).message,
      },
      'message failed every attempt; dead-lettering it',
    );
    await deadLetter(message, error, attempts);
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
        await this.handleWithRetries(chunk, handler, ctx);
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
        this.markProgress();
        await heartbeat();
      }
    } finally {
      clearInterval(ticker);
      this.batches.delete(controller);
    }
  }

  pause(): void {
    this.pausedAll = true;
    this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
  }

  resume(): void {
    this.pausedAll = false;
    this.markProgress(); // the stall clock starts when consuming does
    this.consumer.resume(this.options.topics.map((topic) => ({ topic })));
  }

  protected markProgress(): void {
    this.lastProgressAt = Date.now();
  }

  /** What liveness judges (see libs/runtime's Liveness): last progress, last measured lag, paused. */
  progress(): { lastProgressAt: number; lag: number | undefined; paused: boolean } {
    return { lastProgressAt: this.lastProgressAt, lag: this.lastLag, paused: this.pausedAll };
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
    clearInterval(this.lagTimer);
    await this.lagAdmin?.disconnect().catch(() => undefined);
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
