import { randomUUID } from 'node:crypto';
import { AttemptLog } from '@libs/audit';
import { AppLogger, silentLogger } from '@libs/common';
import { KingdeeDocument } from '@libs/contracts';
import { KingdeeSaveOptions } from '@libs/kingdee-client';
import { observeBatchSaveSize } from '@libs/metrics';
import { durationMs, Scheme } from '@libs/scheme';
import { errorReply, replySlice } from './attempt-bodies.util';
import { ClaimStore, claimKey, HeldClaim } from './claim.store';
import { KingdeeConnection } from './connection-circuit';
import { LeaseKeeper } from './lease-keeper';
import { classifyReply, classifyWriteError, ModelVerdict } from './reply-classifier';
import { keyIsBillNo } from './settle-policy';
import { WriteSlots } from './write-slots';

/** A document this process holds the claim of. */
export interface ClaimedDoc {
  doc: KingdeeDocument;
  claim: HeldClaim;
  /** The last call to Kingdee made for it (its request and reply are in the attempt log). */
  attemptId?: string;
}

/** Per document: Kingdee's verdict, or `lost` when the claim was no longer ours to write. */
export type WriteOutcome = ModelVerdict | { kind: 'lost' };

export interface BillWriterOptions {
  /** A write starts only on leases with at least this much life left on our clock. */
  minLeaseMs: number;
  /** A chunk fenced ahead (while the previous call is in flight) must be sent within this. */
  fenceHorizonMs: number;
  /** Bounds the process's writes in flight (taken before the fence, given back at the reply). */
  slots?: WriteSlots;
}

/**
 * One fenced BatchSave of a chunk (libs/loading/README.md, rules 3–4): before each attempt the
 * claims still writable are fenced in Postgres (`last_write_at`, lease renewed), the call is bound to
 * their leases and to the caller's signal, and the reply is classified per model. Failures that
 * applied nothing are retried (each attempt fenced anew); anything else is the caller's to settle.
 *
 * Fences cost a round-trip each, so they are taken ahead where it is safe: the claim statement fences
 * the first chunk, and the next chunk is fenced while the current call is in flight. A fence taken
 * ahead records `last_write_at` = now + horizon, a time the write must be sent before (checked on our
 * monotonic clock minus the skew margin), so the settle deadline still covers the write.
 */
export class BillWriter {
  /** Fences taken ahead: claim key → epoch and the last moment (our clock) its write may be sent. */
  private readonly ahead = new Map<string, { epoch: string; sendBy: number }>();
  /** Attempt-log writes under way (kept off the write path; see {@link attemptsKept}). */
  private readonly keeping = new Set<Promise<void>>();
  /** Claims (key + epoch) a request has been sent for. */
  private readonly sentFor = new Map<string, string>();

  constructor(
    private readonly claims: ClaimStore,
    private readonly leases: LeaseKeeper,
    private readonly options: BillWriterOptions,
    private readonly attempts?: AttemptLog,
    private readonly logger: AppLogger = silentLogger,
  ) {}

  get horizonMs(): number {
    return this.options.fenceHorizonMs;
  }

  /** Claims a statement sent at `sentAt` fenced ahead with this writer's horizon. */
  fencedAhead(sentAt: number, claims: HeldClaim[]): void {
    const sendBy = sentAt + this.options.fenceHorizonMs - this.leases.skewMs;
    for (const c of claims) this.ahead.set(claimKey(c), { epoch: c.epoch, sendBy });
  }

  /** Whether a write request has been sent under this claim (epoch) by this process. */
  sent(claim: HeldClaim): boolean {
    return this.sentFor.get(claimKey(claim)) === claim.epoch;
  }

  async write(
    connection: KingdeeConnection,
    scheme: Scheme,
    chunk: ClaimedDoc[],
    signal: AbortSignal,
    next: ClaimedDoc[] = [],
  ): Promise<WriteOutcome[]> {
    const outcomes: WriteOutcome[] = chunk.map(() => ({ kind: 'lost' }));
    const retry = {
      count: scheme.retry.count,
      initialDelayMs: durationMs(scheme.retry.initialDelay),
      maxDelayMs: durationMs(scheme.retry.maxDelay),
    };
    let fencingNext: Promise<void> | undefined;
    try {
      await connection.circuit.withRetries(
        retry,
        async () => {
          if (signal.aborted) throw signal.reason;
          // The slot comes first: a fence is taken only when the write can be sent at once.
          const release = await this.options.slots?.acquire(signal);
          try {
            const fenced = await this.fence(chunk.map((c) => c.claim));
            const fencedKeys = new Set(fenced.map((c) => c.billKey));
            const sending = chunk
              .map((c, i) => ({ c, i }))
              .filter(({ c }) => fencedKeys.has(c.claim.billKey));
            for (let i = 0; i < chunk.length; i++) outcomes[i] = { kind: 'lost' };
            if (sending.length === 0) return;
            // The next chunk's fence overlaps this call.
            fencingNext ??= next.length > 0 ? this.fenceAhead(next.map((c) => c.claim)) : undefined;
            const bound = this.leases.bind(fenced);
            const link = linkSignals([signal, bound.signal]);
            observeBatchSaveSize(scheme.id, sending.length);
            for (const { c } of sending) this.sentFor.set(claimKey(c.claim), c.claim.epoch);
            const attemptId = randomUUID();
            for (const { c } of sending) c.attemptId = attemptId;
            let replies: (j: number) => { outcome: string; reply: unknown } = () => ({
              outcome: 'no_reply',
              reply: null,
            });
            try {
              const result = await connection.circuit.call(() =>
                connection.api.batchSave(
                  scheme.target.formId,
                  sending.map(({ c }) => c.doc.model),
                  { ...saveOptions(scheme), signal: link.signal },
                ),
              );
              const verdicts = classifyReply(
                result,
                sending.map(({ c }) => c.doc.billKey),
                keyIsBillNo(scheme),
              );
              sending.forEach(({ i }, j) => (outcomes[i] = verdicts[j]));
              replies = (j) => ({ outcome: verdicts[j].kind, reply: replySlice(result, j) });
            } catch (error) {
              const verdicts = classifyWriteError(error, sending.length);
              replies = (j) => ({ outcome: verdicts?.[j].kind ?? 'not_applied', reply: errorReply(error) });
              if (!verdicts) throw error;
              sending.forEach(({ i }, j) => (outcomes[i] = verdicts[j]));
            } finally {
              bound.done();
              link.dispose();
              this.keep(
                this.recordAttempt(
                  attemptId,
                  scheme,
                  sending.map(({ c }) => c),
                  replies,
                ),
              );
            }
          } finally {
            release?.();
          }
        },
        signal,
      );
    } finally {
      await fencingNext;
      for (const c of chunk) {
        this.ahead.delete(claimKey(c.claim));
        if (this.sentFor.get(claimKey(c.claim)) !== c.claim.epoch) this.sentFor.delete(claimKey(c.claim));
      }
    }
    return outcomes;
  }

  /** Waits for the bodies of the calls made so far to be kept. */
  async attemptsKept(): Promise<void> {
    await this.attempts?.flush?.();
    while (this.keeping.size > 0) await Promise.all([...this.keeping]);
  }

  /**
   * Waits for the bodies of the calls made before now (not those of calls that start meanwhile: with
   * handler calls running concurrently, waiting until none is being kept could wait forever).
   */
  async attemptsKeptSoFar(): Promise<void> {
    const pending = [...this.keeping];
    await this.attempts?.flush?.();
    await Promise.all(pending);
  }

  private keep(p: Promise<void>): void {
    this.keeping.add(p);
    void p.finally(() => this.keeping.delete(p));
  }

  /** Every call is kept with what was sent and what came back, per order; losing a body never fails a load. */
  private async recordAttempt(
    attemptId: string,
    scheme: Scheme,
    sent: ClaimedDoc[],
    replies: (j: number) => { outcome: string; reply: unknown },
  ): Promise<void> {
    if (!this.attempts) return;
    try {
      await this.attempts.record(
        sent.map((c, j) => ({
          attemptId,
          schemeId: scheme.id,
          sourceKey: c.doc.sourceKey,
          billKey: c.doc.billKey,
          operation: 'BatchSave',
          request: c.doc.model,
          ...replies(j),
        })),
      );
    } catch (err) {
      this.logger.warn(
        { err: (err as Error).message, attemptId },
        'could not keep the bodies of a BatchSave',
      );
    }
  }

  /** Forgets what it knows of claims that reached an outcome or were given back. */
  forget(claims: HeldClaim[]): void {
    for (const c of claims) {
      this.ahead.delete(claimKey(c));
      this.sentFor.delete(claimKey(c));
    }
  }

  /**
   * The claims of `claims` fenced for a write sent now: fences taken ahead are used while their
   * horizon lasts (our clock); the others are fenced now. Only claims on a live lease qualify.
   */
  private async fence(claims: HeldClaim[]): Promise<HeldClaim[]> {
    const writable = this.leases.writable(claims, this.options.minLeaseMs);
    const now = this.leases.now();
    const ready = writable.filter((c) => {
      const a = this.ahead.get(claimKey(c));
      return a !== undefined && a.epoch === c.epoch && now < a.sendBy;
    });
    const rest = writable.filter((c) => !ready.includes(c));
    if (rest.length === 0) return ready;
    const sentAt = this.leases.now();
    const fenced = await this.claims.fence(this.leases.owner, this.leases.leaseMs, rest);
    this.leases.granted(sentAt, fenced);
    return [...ready, ...fenced];
  }

  private async fenceAhead(claims: HeldClaim[]): Promise<void> {
    const writable = this.leases.writable(claims, this.options.minLeaseMs);
    if (writable.length === 0) return;
    const sentAt = this.leases.now();
    try {
      const fenced = await this.claims.fence(
        this.leases.owner,
        this.leases.leaseMs,
        writable,
        this.options.fenceHorizonMs,
      );
      this.leases.granted(sentAt, fenced);
      this.fencedAhead(sentAt, fenced);
    } catch {
      // Not fenced ahead: the write fences them itself.
    }
  }
}

export function saveOptions(scheme: Scheme): KingdeeSaveOptions {
  const o = scheme.target.requestOptions;
  const auto = scheme.target.submitMode === 'auto';
  return {
    isAutoSubmitAndAudit: auto ? (o.IsAutoSubmitAndAudit ?? true) : false,
    isVerifyBaseDataField: o.IsVerifyBaseDataField,
    subSystemId: o.SubSystemId,
    needUpDateFields: o.NeedUpDateFields,
    needReturnFields: o.NeedReturnFields,
    isDeleteEntry: o.IsDeleteEntry,
    isEntryBatchFill: o.IsEntryBatchFill,
    validateFlag: o.ValidateFlag,
    numberSearch: o.NumberSearch,
    isAutoAdjustField: o.IsAutoAdjustField,
    interationFlags: o.InterationFlags,
    ignoreInterationFlag: o.IgnoreInterationFlag,
    isControlPrecision: o.IsControlPrecision,
    validateRepeatJson: o.ValidateRepeatJson,
    batchCount: o.BatchCount,
  };
}

/**
 * One signal that aborts when any of `signals` does, and lets go of them afterwards (AbortSignal.any
 * would keep piling listeners on a long-lived batch or settler signal).
 */
function linkSignals(signals: AbortSignal[]): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const listeners = signals.map((s) => {
    const onAbort = () => controller.abort(s.reason);
    if (s.aborted) controller.abort(s.reason);
    else s.addEventListener('abort', onAbort, { once: true });
    return { s, onAbort };
  });
  return {
    signal: controller.signal,
    dispose: () => listeners.forEach(({ s, onAbort }) => s.removeEventListener('abort', onAbort)),
  };
}
