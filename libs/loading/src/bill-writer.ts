import { KingdeeDocument } from '@libs/contracts';
import { KingdeeSaveOptions } from '@libs/kingdee-client';
import { observeBatchSaveSize } from '@libs/metrics';
import { durationMs, Scheme } from '@libs/scheme';
import { ClaimStore, HeldClaim } from './claim.store';
import { KingdeeConnection } from './connection-circuit';
import { LeaseKeeper } from './lease-keeper';
import { classifyReply, classifyWriteError, ModelVerdict } from './reply-classifier';
import { keyIsBillNo } from './settle-policy';

/** A document this process holds the claim of. */
export interface ClaimedDoc {
  doc: KingdeeDocument;
  claim: HeldClaim;
}

/** Per document: Kingdee's verdict, or `lost` when the claim was no longer ours to write. */
export type WriteOutcome = ModelVerdict | { kind: 'lost' };

export interface BillWriterOptions {
  /** A write starts only on leases with at least this much life left on our clock. */
  minLeaseMs: number;
}

/**
 * One fenced BatchSave of a chunk (libs/loading/README.md, rules 3–4): before each attempt the
 * claims still writable are fenced in Postgres (`last_write_at`, lease renewed), the call is bound to
 * their leases and to the caller's signal, and the reply is classified per model. Failures that
 * applied nothing are retried (each attempt fenced anew); anything else is the caller's to settle.
 */
export class BillWriter {
  constructor(
    private readonly claims: ClaimStore,
    private readonly leases: LeaseKeeper,
    private readonly options: BillWriterOptions,
  ) {}

  async write(
    connection: KingdeeConnection,
    scheme: Scheme,
    chunk: ClaimedDoc[],
    signal: AbortSignal,
  ): Promise<WriteOutcome[]> {
    const outcomes: WriteOutcome[] = chunk.map(() => ({ kind: 'lost' }));
    const retry = {
      count: scheme.retry.count,
      initialDelayMs: durationMs(scheme.retry.initialDelay),
      maxDelayMs: durationMs(scheme.retry.maxDelay),
    };
    await connection.circuit.withRetries(
      retry,
      async () => {
        if (signal.aborted) throw signal.reason;
        const writable = this.leases.writable(
          chunk.map((c) => c.claim),
          this.options.minLeaseMs,
        );
        const sentAt = this.leases.now();
        const fenced = await this.claims.fence(this.leases.owner, this.leases.leaseMs, writable);
        this.leases.granted(sentAt, fenced);
        const fencedKeys = new Set(fenced.map((c) => c.billKey));
        const sending = chunk.map((c, i) => ({ c, i })).filter(({ c }) => fencedKeys.has(c.claim.billKey));
        for (let i = 0; i < chunk.length; i++) outcomes[i] = { kind: 'lost' };
        if (sending.length === 0) return;
        const bound = this.leases.bind(fenced);
        const link = linkSignals([signal, bound.signal]);
        const callSignal = link.signal;
        observeBatchSaveSize(scheme.id, sending.length);
        try {
          const result = await connection.circuit.call(() =>
            connection.api.batchSave(
              scheme.target.formId,
              sending.map(({ c }) => c.doc.model),
              { ...saveOptions(scheme), signal: callSignal },
            ),
          );
          const verdicts = classifyReply(
            result,
            sending.map(({ c }) => c.doc.billKey),
            keyIsBillNo(scheme),
          );
          sending.forEach(({ i }, j) => (outcomes[i] = verdicts[j]));
        } catch (error) {
          const verdicts = classifyWriteError(error, sending.length);
          if (!verdicts) throw error;
          sending.forEach(({ i }, j) => (outcomes[i] = verdicts[j]));
        } finally {
          bound.done();
          link.dispose();
        }
      },
      signal,
    );
    return outcomes;
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
