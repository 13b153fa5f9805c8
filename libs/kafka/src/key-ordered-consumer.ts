import { EachBatchPayload, Kafka, Offsets } from 'kafkajs';
import { cappedExponentialDelay } from '@libs/common';
import { setConsumerLag } from '@libs/metrics';
import {
  BatchConsumer,
  BatchConsumerOptions,
  BatchContext,
  BatchHandler,
  BatchRevokedError,
  ConsumedMessage,
  toConsumed,
} from './batch-consumer';
import { KeyGroup, KeyScheduler } from './key-ordered/key-scheduler';
import { PartitionOffsets } from './key-ordered/partition-offsets';

export interface KeyOrderedConsumerOptions extends BatchConsumerOptions {
  /** Handler calls running at once, across every partition held. */
  concurrency: number;
  /** Distinct keys per handler call (e.g. the BatchSave size). */
  chunkSize: number;
  /**
   * With this many calls running, a call starts only with a full chunk (more records will come, or
   * a call finishes first), so calls stay full under load; below it, whatever is ready goes at once
   * (low latency when idle). Default: `concurrency` (always at once). The loader: its sessions.
   */
  fullChunksFrom?: number;
  /** Records per partition taken and not finished, above which the partition is paused. */
  maxUncommitted: number;
  /**
   * On stop: calls in flight get this long to finish (no new ones start), then their signal aborts
   * (the handler hands their work over, e.g. to settling). On a rebalance nothing waits for them.
   */
  revokeMs: number;
}

/** Partition state within one generation of the group membership. */
interface PartitionState {
  topic: string;
  partition: number;
  offsets: PartitionOffsets;
  paused: boolean;
  committed?: bigint;
  highWatermark: string;
}

/** The records taken between two rebalances; a revoked generation never commits again. */
class Generation {
  readonly controller = new AbortController();
  readonly partitions = new Map<string, PartitionState>();
  /** Revoked (rebalance) or stopping: no new calls start for its records. */
  draining = false;
  /** Stopping (not a rebalance): what it finished may still be committed before leaving. */
  stopping = false;
  inFlight = 0;
  abortTimer?: NodeJS.Timeout;
  constructor(readonly id: number) {}
}

interface Item {
  gen: Generation;
  part: PartitionState;
  message: ConsumedMessage;
  offset: bigint;
}

function isRebalanceError(error: unknown): boolean {
  const e = error as { type?: unknown; name?: unknown; cause?: unknown } | undefined;
  if (!e) return false;
  if (e.type === 'REBALANCE_IN_PROGRESS' || e.type === 'ILLEGAL_GENERATION' || e.type === 'UNKNOWN_MEMBER_ID')
    return true;
  return e.cause !== undefined && isRebalanceError(e.cause);
}

/**
 * Key-ordered parallel consumption (the approach of Confluent's Parallel Consumer) on kafkajs:
 * fetched records are taken into a {@link KeyScheduler}, and up to `concurrency` handler calls run at
 * once, each on up to `chunkSize` keys that are ready — from any partition held. One key's records
 * run strictly in offset order (the next only after the previous finished); records of different keys
 * run concurrently however few partitions the process holds. Per partition the committed offset is
 * that of the lowest unfinished record ({@link PartitionOffsets}); with `maxUncommitted` records taken
 * and unfinished, the partition is paused, and resumed below it.
 *
 * kafkajs rebalances eagerly only. `eachBatch` returns as soon as the records are taken (the fetch
 * position moves on; the committed offset does not), so the group never waits on a handler. On a
 * rebalance signal (the consumer's `REBALANCING` event, a heartbeat answering REBALANCE_IN_PROGRESS,
 * a new `GROUP_JOIN`) the generation is revoked: its queued records are dropped, no new call starts
 * for it, calls in flight finish (they do not hold up the rejoin), and it never commits again. What
 * it did not finish is fetched again from the committed offset by whoever holds the partition next.
 * Dead-lettering and retries (`maxAttempts`, `deadLetter`, `isTransient`) work per call as in
 * {@link BatchConsumer}; a call that fails for the infrastructure is tried again after a backoff.
 */
export class KeyOrderedConsumer extends BatchConsumer {
  private readonly scheduler = new KeyScheduler<Item>();
  private gen = new Generation(0);
  private active = 0;
  private handler?: BatchHandler;
  private heartbeatFn?: () => Promise<void>;
  private commitFn?: (offsets?: Offsets) => Promise<void>;
  private committing?: Promise<void>;
  private commitAgain = false;
  private retryTimer?: NodeJS.Timeout;
  private idleWaiters: Array<() => void> = [];
  /** Pause before a failed key's next attempt (see `retryBackoffMs`). */
  private readonly backoffMs: (failures: number) => number;

  constructor(
    kafka: Kafka,
    private readonly ko: KeyOrderedConsumerOptions,
  ) {
    super(kafka, ko);
    this.backoffMs = cappedExponentialDelay(ko.retryBackoffMs ?? 200, 5000);
  }

  /** Calls in flight and records waiting (for tests and metrics). */
  stats(): { active: number; queued: number; busyKeys: number; generation: number } {
    return {
      active: this.active,
      queued: this.scheduler.queued,
      busyKeys: this.scheduler.busyKeys,
      generation: this.gen.id,
    };
  }

  override async start(handler: BatchHandler): Promise<void> {
    this.handler = handler;
    const events = this.consumer.events;
    this.consumer.on(events.REBALANCING, () => this.revoke('the group is rebalancing'));
    this.consumer.on(events.GROUP_JOIN, () => {
      // A join not announced by REBALANCING (e.g. the member was unknown): a new generation too.
      if (this.gen.partitions.size > 0) this.revoke('joined the group again');
    });
    await this.subscribeAll();
    this.running = true;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async (payload) => this.take(payload),
    });
    this.markProgress();
    this.startLagTimer();
  }

  /** Takes a fetched batch into the scheduler (up to the partition's room) and returns at once. */
  private take(payload: EachBatchPayload): void {
    const { batch } = payload;
    this.heartbeatFn = payload.heartbeat;
    this.commitFn = payload.commitOffsetsIfNecessary;
    const gen = this.gen;
    if (!this.running || gen.draining) return;
    const id = `${batch.topic}\u0000${batch.partition}`;
    let part = gen.partitions.get(id);
    if (!part) {
      part = {
        topic: batch.topic,
        partition: batch.partition,
        offsets: new PartitionOffsets(),
        paused: false,
        highWatermark: batch.highWatermark,
      };
      gen.partitions.set(id, part);
    }
    part.highWatermark = batch.highWatermark;
    let last: string | undefined;
    for (const m of batch.messages) {
      if (part.offsets.unfinished >= this.ko.maxUncommitted) break;
      const offset = BigInt(m.offset);
      last = m.offset;
      if (!part.offsets.take(offset)) continue; // already taken (a refetch)
      const message = toConsumed(batch.topic, batch.partition, m);
      this.scheduler.add(message.key ?? `\u0000${id}@${m.offset}`, { gen, part, message, offset });
    }
    // The fetch position moves past what was taken; the committed offset only as records finish.
    if (last !== undefined) payload.resolveOffset(last);
    if (part.offsets.unfinished >= this.ko.maxUncommitted && !part.paused) {
      part.paused = true;
      this.consumer.pause([{ topic: part.topic, partitions: [part.partition] }]);
      this.logger.debug(
        { topic: part.topic, partition: part.partition, unfinished: part.offsets.unfinished },
        'partition paused: too many records in flight',
      );
    }
    this.pump();
  }

  /** Starts calls while there are free slots and ready keys. */
  private pump(): void {
    const fullFrom = this.ko.fullChunksFrom ?? this.ko.concurrency;
    while (this.running && !this.gen.draining && this.active < this.ko.concurrency) {
      if (this.active >= fullFrom && this.scheduler.readyKeys < this.ko.chunkSize) break;
      const groups = this.scheduler.take(this.ko.chunkSize);
      if (groups.length === 0) break;
      void this.call(groups);
    }
    this.armRetry();
  }

  private armRetry(): void {
    if (this.retryTimer || !this.running) return;
    const at = this.scheduler.nextRetryAt();
    if (at === undefined) return;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        this.pump();
      },
      Math.max(0, at - Date.now()),
    );
    this.retryTimer.unref();
  }

  private async call(groups: KeyGroup<Item>[]): Promise<void> {
    const gen = groups[0].items[0].gen;
    this.active += 1;
    gen.inFlight += 1;
    const ctx: BatchContext = {
      heartbeat: () => this.beat(),
      isRunning: () => this.running && !gen.draining && !gen.controller.signal.aborted,
      signal: gen.controller.signal,
    };
    let failure: { error: unknown } | undefined;
    try {
      await this.handleWithRetries(
        groups.flatMap((g) => g.items.map((i) => i.message)),
        this.handler as BatchHandler,
        ctx,
      );
      // A handler that returned after its signal aborted may not have finished everything.
      if (gen.controller.signal.aborted) failure = { error: gen.controller.signal.reason };
    } catch (error) {
      failure = { error };
    } finally {
      this.active -= 1;
      gen.inFlight -= 1;
    }
    const retry = failure && this.running && !gen.draining;
    for (const g of groups) {
      if (!failure) for (const i of g.items) i.part.offsets.finish(i.offset);
      if (retry) this.scheduler.retryLater(g.key, g.items, (n) => this.backoffMs(n));
      else this.scheduler.done(g.key); // a revoked generation's records come again from the committed offset
    }
    if (retry)
      this.logger.warn(
        { groupId: this.ko.groupId, keys: groups.length, err: (failure?.error as Error)?.message },
        'handler failed for the infrastructure; its keys are tried again',
      );
    if (!failure) {
      this.resumeBelowLimit(gen);
      this.scheduleCommit();
    }
    if (gen.draining && gen.inFlight === 0) clearTimeout(gen.abortTimer);
    if (this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
    this.pump();
  }

  private async beat(): Promise<void> {
    try {
      await this.heartbeatFn?.();
    } catch (error) {
      if (isRebalanceError(error)) this.revoke(`heartbeat: ${(error as Error).message}`);
      throw error;
    }
  }

  private resumeBelowLimit(gen: Generation): void {
    if (gen !== this.gen || gen.draining) return;
    for (const part of gen.partitions.values()) {
      if (!part.paused || part.offsets.unfinished >= this.ko.maxUncommitted) continue;
      part.paused = false;
      this.consumer.resume([{ topic: part.topic, partitions: [part.partition] }]);
    }
  }

  /**
   * Revokes the current generation: queued records dropped, no new calls, calls in flight finish
   * uncommitted; its partitions are resumed (kafkajs keeps pauses across assignments).
   */
  private revoke(why: string): void {
    const gen = this.gen;
    if (gen.draining) return;
    gen.draining = true;
    this.gen = new Generation(gen.id + 1);
    const dropped = this.scheduler.dropQueued((i) => i.gen === gen);
    for (const part of gen.partitions.values())
      if (part.paused) this.consumer.resume([{ topic: part.topic, partitions: [part.partition] }]);
    // Calls in flight are not aborted: `eachBatch` never waits for them, so they do not hold up the
    // rejoin, and a write already sent cannot be taken back — abandoning it would only leave its bill to
    // the settle window. It finishes and records its outcome; the offset is left to the next owner.
    if (gen.partitions.size > 0 || gen.inFlight > 0)
      this.logger.info(
        { groupId: this.ko.groupId, why, inFlight: gen.inFlight, dropped },
        'revoking what this member holds: no new calls; calls in flight finish and record their outcome, uncommitted',
      );
  }

  private abortLater(gen: Generation, why: string, ms: number): void {
    const abort = () => {
      if (!gen.controller.signal.aborted) gen.controller.abort(new BatchRevokedError(why));
    };
    if (gen.inFlight === 0) return abort();
    gen.abortTimer = setTimeout(abort, ms);
    gen.abortTimer.unref();
  }

  private scheduleCommit(): void {
    if (this.committing) {
      this.commitAgain = true;
      return;
    }
    this.committing = (async () => {
      do {
        this.commitAgain = false;
        await this.commit(this.gen);
      } while (this.commitAgain && this.running);
    })().finally(() => {
      this.committing = undefined;
    });
  }

  /** Commits, per partition of `gen`, the lowest unfinished offset where it moved. */
  private async commit(gen: Generation): Promise<void> {
    if (!this.commitFn || (gen.draining && !gen.stopping) || (gen !== this.gen && !gen.stopping)) return;
    const moved: Array<{ part: PartitionState; offset: bigint }> = [];
    for (const part of gen.partitions.values()) {
      const offset = part.offsets.committable();
      if (offset !== undefined && (part.committed === undefined || offset > part.committed))
        moved.push({ part, offset });
    }
    if (moved.length === 0) return;
    const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
    for (const { part, offset } of moved)
      byTopic.set(part.topic, [
        ...(byTopic.get(part.topic) ?? []),
        { partition: part.partition, offset: offset.toString() },
      ]);
    try {
      await this.commitFn({
        topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
      });
      this.markProgress();
      for (const { part, offset } of moved) {
        if (part.committed === undefined || offset > part.committed) part.committed = offset;
        setConsumerLag(
          this.ko.groupId,
          part.topic,
          part.partition,
          part.highWatermark,
          (offset - 1n).toString(),
        );
      }
    } catch (err) {
      if (isRebalanceError(err)) this.revoke(`commit: ${(err as Error).message}`);
      this.logger.warn(
        { groupId: this.ko.groupId, err: (err as Error).message },
        'offsets not committed (tried again after the next record finishes)',
      );
    }
  }

  private idle(timeoutMs: number): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Graceful stop within `graceMs`: no new calls; calls in flight get `revokeMs` (at most the grace)
   * before their signal aborts; what finished is committed; then the member leaves the group.
   */
  override async stop(graceMs = 25_000): Promise<void> {
    if (!this.running) return;
    const started = Date.now();
    this.running = false;
    clearTimeout(this.retryTimer);
    clearInterval(this.lagTimer);
    await this.lagAdmin?.disconnect().catch(() => undefined);
    const gen = this.gen;
    gen.draining = true;
    gen.stopping = true;
    this.scheduler.dropQueued(() => true);
    this.abortLater(gen, 'consumer stopping', Math.min(this.ko.revokeMs, graceMs));
    await this.idle(graceMs);
    if (this.active > 0)
      this.logger.warn(
        { groupId: this.ko.groupId, graceMs, inFlight: this.active },
        'handlers did not finish within the shutdown grace; leaving anyway (their offsets stay uncommitted)',
      );
    await this.committing?.catch(() => undefined);
    await this.commit(gen);
    let timer: NodeJS.Timeout | undefined;
    const left = Math.max(1000, graceMs - (Date.now() - started));
    await Promise.race([
      this.consumer.stop(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, left);
      }),
    ]);
    clearTimeout(timer);
    await this.consumer.disconnect().catch(() => undefined);
  }
}
