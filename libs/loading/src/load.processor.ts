import { AppLogger, silentLogger } from '@libs/common';
import {
  AuditEvent,
  ContractViolationError,
  decodeEvent,
  KingdeeDocument,
  KingdeeDocumentSchema,
} from '@libs/contracts';
import { AuditPublisher } from '@libs/audit';
import { ConsumedMessage, DeadLetterPublisher, deterministicUuid, ParkRequest } from '@libs/kafka';
import {
  buildBillNoFilter,
  isKingdeeError,
  KingdeeApi,
  KingdeeError,
  KingdeeSaveOptions,
} from '@libs/kingdee-client';
import {
  countError,
  countErrorClass,
  countRecords,
  isDebugEnabled,
  observeBatchSaveSize,
  observeBatchSize,
  orderLogger,
} from '@libs/metrics';
import { Scheme } from '@libs/scheme';
import { ClaimStore } from './claim.store';
import { LoaderCircuit, SystemicFailureError } from './loader-circuit';

export interface LoaderOptions {
  /** This replica's id: owner of its claims. */
  owner: string;
  /** Claim lease; longer than a Kingdee call can take (its timeout) with room to spare. */
  leaseMs: number;
  /** Cap on models per BatchSave (the scheme's batchSize applies below it). */
  maxBatchSize: number;
  /** Pause between retries of transient failures; grows exponentially, capped at the scheme's maxDelay. */
  sleep?: (ms: number) => Promise<void>;
}

export interface LoadContext {
  heartbeat(): Promise<void>;
  isRunning(): boolean;
}

export class LoaderStoppedError extends Error {
  override readonly name = 'LoaderStoppedError';
}

interface Pending {
  doc: KingdeeDocument;
  attempts: number;
  started: number;
}

type Outcome =
  | { kind: 'loaded'; id: string | null; number: string | null; how: 'created' | 'found' }
  | { kind: 'failed'; message: string; field?: string; errorClass: string };

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The loader's work on one batch of Kingdee-ready documents. The promise it keeps: one bill per
 * source order, whatever fails.
 *  1. A document whose bill is already loaded is not sent again (audited as duplicate, or as
 *     changed_after_load when its content differs and the scheme says `record`).
 *  2. Every write is preceded by a claim in Postgres; a replica finding another's live claim waits.
 *  3. Any previous attempt of unknown outcome (expired claim, lost response, timeout) is looked up
 *     in Kingdee by the idempotency field before writing again; so are models a failed batch
 *     reported as saved (partial-batch atomicity is unconfirmed).
 *  4. Per-model validation errors are failures with Kingdee's message; call-level transient errors
 *     are retried up to the scheme's retry count and then treated as systemic: the circuit opens,
 *     the batch waits (nothing is marked failed) and is retried when a probe succeeds.
 */
export class LoadProcessor {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly schemes: (schemeId: string) => Scheme | undefined,
    private readonly kingdee: KingdeeApi,
    private readonly claims: ClaimStore,
    private readonly audit: AuditPublisher,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly circuit: LoaderCircuit,
    private readonly options: LoaderOptions,
    private readonly logger: AppLogger = silentLogger,
  ) {
    this.sleep = options.sleep ?? defaultSleep;
  }

  async handle(messages: ConsumedMessage[], ctx: LoadContext): Promise<void> {
    const parked: ParkRequest[] = [];
    const latest = new Map<string, { doc: KingdeeDocument; message: ConsumedMessage }>();
    for (const message of messages) {
      try {
        const doc = decodeEvent(
          KingdeeDocumentSchema,
          message.value,
          `Kingdee document at ${message.topic}/${message.partition}@${message.offset}`,
        );
        if (!this.schemes(doc.schemeId))
          throw new ContractViolationError(`no scheme "${doc.schemeId}" is loaded (order ${doc.sourceKey})`);
        // Several versions of one order in a batch: only the newest matters (same partition, in order).
        latest.set(`${doc.schemeId}\u0000${doc.billKey}`, { doc, message });
      } catch (error) {
        parked.push({ message, stage: 'loader', error, attempts: 1, sourceKey: message.key ?? undefined });
      }
    }
    if (parked.length > 0) {
      await this.deadLetters.park(parked);
      countRecords('loader', 'dead_lettered', parked.length);
      for (const p of parked) countError('loader', p.error);
    }

    const bySchemes = new Map<string, KingdeeDocument[]>();
    for (const { doc } of latest.values())
      bySchemes.set(doc.schemeId, [...(bySchemes.get(doc.schemeId) ?? []), doc]);
    for (const [schemeId, docs] of bySchemes) await this.loadScheme(this.schemes(schemeId)!, docs, ctx);
    // Counted once the batch is done: one that throws is redelivered and counted then.
    observeBatchSize('loader', messages.length);
    countRecords('loader', 'in', messages.length);
  }

  private async loadScheme(scheme: Scheme, docs: KingdeeDocument[], ctx: LoadContext): Promise<void> {
    let remaining = docs;
    while (remaining.length > 0) {
      this.ensureRunning(ctx);
      remaining = await this.settleAlreadyLoaded(scheme, remaining);
      const claimed = await this.claims.claim(
        scheme.id,
        this.options.owner,
        this.options.leaseMs,
        remaining.map((d) => ({ billKey: d.billKey, contentHash: d.contentHash })),
      );
      const claimedKeys = new Set(claimed.map((c) => c.billKey));
      const mine = remaining.filter((d) => claimedKeys.has(d.billKey));
      const unsure = new Set(claimed.filter((c) => c.hadPrevious).map((c) => c.billKey));
      // Bills someone else is writing right now: wait for their outcome, then look again.
      remaining = remaining.filter((d) => !claimedKeys.has(d.billKey));
      if (mine.length > 0) await this.loadClaimed(scheme, mine, unsure, ctx);
      if (remaining.length > 0) {
        await ctx.heartbeat();
        await this.sleep(500);
      }
    }
  }

  /** Documents whose bill is already loaded are audited and dropped; the rest are returned. */
  private async settleAlreadyLoaded(scheme: Scheme, docs: KingdeeDocument[]): Promise<KingdeeDocument[]> {
    const rows = await this.claims.read(
      scheme.id,
      docs.map((d) => d.billKey),
    );
    const rest: KingdeeDocument[] = [];
    const events: AuditEvent[] = [];
    const settled = { duplicate: 0, changed_after_load: 0 };
    for (const doc of docs) {
      const row = rows.get(doc.billKey);
      if (row?.state !== 'loaded') {
        rest.push(doc);
        continue;
      }
      // Re-announce the original "loaded" outcome under its own (deterministic) event id: if a crash
      // lost it between settling the claim and publishing, the audit trail still gets it; if not,
      // the audit writer drops the copy.
      events.push(
        this.auditEvent({ ...doc, contentHash: row.contentHash ?? doc.contentHash }, 'loaded', {
          kingdeeId: row.kingdeeId ?? undefined,
          kingdeeNumber: row.kingdeeNumber ?? undefined,
        }),
      );
      const changed = row.contentHash !== null && row.contentHash !== doc.contentHash;
      const status =
        changed && scheme.target.onChangedAfterLoad === 'record' ? 'changed_after_load' : 'duplicate';
      settled[status] += 1;
      events.push(
        this.auditEvent(doc, status, {
          kingdeeId: row.kingdeeId ?? undefined,
          kingdeeNumber: row.kingdeeNumber ?? undefined,
          reason: changed
            ? `order changed after its bill ${row.kingdeeNumber ?? ''} was loaded; ${status === 'changed_after_load' ? 'needs a person' : 'ignored by scheme policy'}`
            : `already loaded as ${row.kingdeeNumber ?? row.kingdeeId ?? 'a bill'}; not sent again`,
        }),
      );
    }
    await this.audit.publish(events);
    countRecords('loader', 'duplicate', settled.duplicate);
    countRecords('loader', 'changed_after_load', settled.changed_after_load);
    return rest;
  }

  private async loadClaimed(
    scheme: Scheme,
    docs: KingdeeDocument[],
    unsure: Set<string>,
    ctx: LoadContext,
  ): Promise<void> {
    const pending: Pending[] = docs.map((doc) => ({ doc, attempts: 0, started: Date.now() }));
    const outcomes = new Map<string, Outcome>();
    try {
      // Look before writing again wherever an earlier attempt's outcome is unknown.
      const toCheck = pending.filter((p) => unsure.has(p.doc.billKey));
      if (toCheck.length > 0) {
        for (const [key, found] of await this.lookup(
          scheme,
          toCheck.map((p) => p.doc),
          ctx,
        ))
          outcomes.set(key, found);
      }
      let toWrite = pending.filter((p) => !outcomes.has(p.doc.billKey));
      const batchSize = Math.min(scheme.target.batchSize, this.options.maxBatchSize);
      while (toWrite.length > 0) {
        this.ensureRunning(ctx);
        const chunk = toWrite.slice(0, batchSize);
        toWrite = toWrite.slice(batchSize);
        const retry = await this.writeChunk(scheme, chunk, outcomes, ctx);
        toWrite = [...retry, ...toWrite];
      }
    } catch (error) {
      if (!(error instanceof LoaderStoppedError)) countError('loader', error);
      // Systemic failure or shutdown: record what is known, give back what was not written.
      await this.settle(scheme, pending, outcomes);
      const undecided = pending.filter((p) => !outcomes.has(p.doc.billKey)).map((p) => p.doc.billKey);
      // Their outcome may be unknown (a write may have happened): leave the claims in flight with
      // expired leases would block; mark them retryable — the next attempt looks them up first.
      await this.claims.release(scheme.id, this.options.owner, undecided);
      throw error;
    }
    await this.settle(scheme, pending, outcomes);
  }

  /** One BatchSave (with retries); returns the documents to try again. */
  private async writeChunk(
    scheme: Scheme,
    chunk: Pending[],
    outcomes: Map<string, Outcome>,
    ctx: LoadContext,
  ): Promise<Pending[]> {
    for (const p of chunk) p.attempts += 1;
    const auto = scheme.target.submitMode === 'auto';
    const options = this.saveOptions(scheme, auto);
    observeBatchSaveSize(scheme.id, chunk.length);
    let result;
    try {
      result = await this.circuit.call(
        () =>
          this.kingdee.batchSave(
            scheme.target.formId,
            chunk.map((p) => p.doc.model),
            options,
          ),
        ctx,
      );
    } catch (error) {
      if (isKingdeeError(error) && error.kind === 'ambiguous') {
        this.logger.warn(
          {
            scheme: scheme.id,
            bills: chunk.length,
            orderNos: chunk.map((p) => p.doc.correlationId),
            err: error.message,
          },
          'ambiguous BatchSave outcome; looking the bills up',
        );
        for (const [key, found] of await this.lookup(
          scheme,
          chunk.map((p) => p.doc),
          ctx,
        ))
          outcomes.set(key, found);
        return this.retryable(scheme, chunk, outcomes, error);
      }
      if (isKingdeeError(error) && error.kind === 'permanent') {
        for (const p of chunk)
          outcomes.set(
            p.doc.billKey,
            failure(error.message, error.errors[0]?.fieldName ?? undefined, error.code),
          );
        return [];
      }
      throw error;
    }
    const saved: Array<{ p: Pending; id: string | null; number: string | null }> = [];
    const anyFailure = result.outcomes.some((o) => o.status !== 'saved');
    for (const o of result.outcomes) {
      const p = chunk[o.dIndex];
      if (!p) continue;
      if (o.status === 'saved') saved.push({ p, id: o.id, number: o.number });
      else if (o.status === 'failed') {
        const first = o.errors[0];
        outcomes.set(
          p.doc.billKey,
          failure(
            o.errors.map((e) => e.message).join('; ') || 'rejected by Kingdee',
            first?.fieldName ?? undefined,
            `KD_MSGCODE_${result.status.msgCode}`,
          ),
        );
      }
    }
    if (anyFailure && saved.length > 0) {
      // Whether successes survive a partly failed BatchSave is unconfirmed: believe Kingdee's data, not its reply.
      const found = await this.lookup(
        scheme,
        saved.map((s) => s.p.doc),
        ctx,
      );
      for (const s of saved) {
        const hit = found.get(s.p.doc.billKey);
        if (hit) outcomes.set(s.p.doc.billKey, hit);
      }
    } else {
      for (const s of saved)
        outcomes.set(s.p.doc.billKey, { kind: 'loaded', id: s.id, number: s.number, how: 'created' });
    }
    if (!auto) await this.submitAndAudit(scheme, chunk, outcomes, ctx);
    return this.retryable(scheme, chunk, outcomes);
  }

  /** Unresolved documents of a chunk go round again, unless they ran out of attempts. */
  private retryable(
    scheme: Scheme,
    chunk: Pending[],
    outcomes: Map<string, Outcome>,
    cause?: KingdeeError,
  ): Pending[] {
    const again: Pending[] = [];
    for (const p of chunk) {
      if (outcomes.has(p.doc.billKey)) continue;
      if (p.attempts > scheme.retry.count) {
        if (cause)
          throw new SystemicFailureError(
            `Kingdee kept failing for ${chunk.length} bills: ${cause.message}`,
            cause,
          );
        // Neither saved nor rejected after every attempt (e.g. always rolled back with others).
        outcomes.set(
          p.doc.billKey,
          failure(
            'not saved after all attempts (Kingdee rolled the model back each time)',
            undefined,
            'NotSaved',
          ),
        );
        continue;
      }
      again.push(p);
    }
    return again;
  }

  private async submitAndAudit(
    scheme: Scheme,
    chunk: Pending[],
    outcomes: Map<string, Outcome>,
    ctx: LoadContext,
  ): Promise<void> {
    const created = chunk.filter((p) => {
      const o = outcomes.get(p.doc.billKey);
      return o?.kind === 'loaded' && o.how === 'created' && o.id;
    });
    if (created.length === 0) return;
    const ids = created.map((p) => (outcomes.get(p.doc.billKey) as { id: string }).id);
    for (const step of ['submit', 'audit'] as const) {
      try {
        const res = await this.circuit.call(() => this.kingdee[step](scheme.target.formId, { ids }), ctx);
        if (!res.status.isSuccess)
          this.logger.warn(
            {
              scheme: scheme.id,
              step,
              orderNos: created.map((p) => p.doc.correlationId),
              errors: res.status.errors.slice(0, 3),
            },
            `Kingdee ${step} reported errors`,
          );
      } catch (error) {
        if (!isKingdeeError(error) || error.kind !== 'permanent') throw error;
        this.logger.warn(
          { scheme: scheme.id, step, orderNos: created.map((p) => p.doc.correlationId), err: error.message },
          `Kingdee ${step} failed; bills stay saved`,
        );
      }
    }
  }

  /** Finds bills in Kingdee by the idempotency field; completes submit/audit of found drafts. */
  private async lookup(
    scheme: Scheme,
    docs: KingdeeDocument[],
    ctx: LoadContext,
  ): Promise<Map<string, Outcome>> {
    const field = scheme.target.idempotencyKey.field;
    const found = new Map<string, Outcome>();
    for (let i = 0; i < docs.length; i += 100) {
      const slice = docs.slice(i, i + 100);
      const rows = await this.circuit.call(
        () =>
          this.kingdee.executeBillQueryObjects({
            FormId: scheme.target.formId,
            FieldKeys: ['FID', 'FBillNo', 'FDocumentStatus', ...(field === 'FBillNo' ? [] : [field])],
            FilterString: buildBillNoFilter(
              field,
              slice.map((d) => d.billKey),
            ),
            Limit: 2000,
          }),
        ctx,
      );
      for (const row of rows) {
        const key = String(row[field] ?? '');
        if (!slice.some((d) => d.billKey === key) || found.has(key)) continue;
        found.set(key, {
          kind: 'loaded',
          id: row.FID == null ? null : String(row.FID),
          number: row.FBillNo == null ? null : String(row.FBillNo),
          how: 'found',
        });
        const status = String(row.FDocumentStatus ?? '');
        if (status === 'A' || status === 'B' || status === 'D') {
          // Saved but not audited (the lost reply hid a half-done auto submit, or separate mode).
          for (const step of status === 'B' ? (['audit'] as const) : (['submit', 'audit'] as const)) {
            await this.circuit
              .call(() => this.kingdee[step](scheme.target.formId, { ids: [String(row.FID)] }), ctx)
              .catch((err: Error) =>
                orderLogger(this.logger, slice.find((d) => d.billKey === key)?.correlationId).warn(
                  { bill: key, step, err: err.message },
                  `completing ${step} failed`,
                ),
              );
          }
        }
      }
    }
    return found;
  }

  private async settle(scheme: Scheme, pending: Pending[], outcomes: Map<string, Outcome>): Promise<void> {
    const loaded: Array<{
      billKey: string;
      kingdeeId: string | null;
      kingdeeNumber: string | null;
      contentHash: string;
    }> = [];
    const failed: string[] = [];
    const events: AuditEvent[] = [];
    for (const p of pending) {
      const o = outcomes.get(p.doc.billKey);
      if (!o) continue;
      const latencyMs = Date.now() - p.started;
      if (o.kind === 'loaded') {
        loaded.push({
          billKey: p.doc.billKey,
          kingdeeId: o.id,
          kingdeeNumber: o.number,
          contentHash: p.doc.contentHash,
        });
        events.push(
          this.auditEvent(p.doc, 'loaded', {
            kingdeeId: o.id ?? undefined,
            kingdeeNumber: o.number ?? undefined,
            attempts: p.attempts,
            latencyMs,
            reason:
              o.how === 'found'
                ? 'found in Kingdee after an attempt of unknown outcome; not written again'
                : undefined,
          }),
        );
      } else {
        failed.push(p.doc.billKey);
        events.push(
          this.auditEvent(p.doc, 'failed', {
            errorMessage: o.message,
            errorField: o.field,
            errorClass: o.errorClass,
            attempts: p.attempts,
            latencyMs,
          }),
        );
      }
    }
    // Claims first: once settled, a redelivery can never write the bill again.
    await this.claims.settleLoaded(scheme.id, this.options.owner, loaded);
    await this.claims.settleFailed(scheme.id, this.options.owner, failed);
    await this.audit.publish(events);
    countRecords('loader', 'loaded', loaded.length);
    countRecords('loader', 'failed', failed.length);
    const debug = isDebugEnabled(this.logger);
    for (const p of pending) {
      const o = outcomes.get(p.doc.billKey);
      if (o?.kind === 'failed') {
        countErrorClass('loader', o.errorClass);
        orderLogger(this.logger, p.doc.correlationId).warn(
          {
            scheme: scheme.id,
            bill: p.doc.billKey,
            errorClass: o.errorClass,
            field: o.field,
            attempts: p.attempts,
          },
          'bill failed',
        );
      } else if (o && debug) {
        orderLogger(this.logger, p.doc.correlationId).debug(
          { scheme: scheme.id, bill: p.doc.billKey, kingdeeNumber: o.number, how: o.how },
          'bill loaded',
        );
      }
    }
  }

  private saveOptions(scheme: Scheme, auto: boolean): KingdeeSaveOptions {
    const o = scheme.target.requestOptions;
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

  private auditEvent(
    doc: KingdeeDocument,
    status: AuditEvent['status'],
    extra: Partial<AuditEvent>,
  ): AuditEvent {
    return {
      eventType: 'sync.audit',
      schemaVersion: 1,
      eventId: deterministicUuid(
        'load',
        doc.schemeId,
        doc.billKey,
        doc.contentHash,
        status,
        extra.kingdeeId ?? extra.errorMessage ?? '',
      ),
      schemeId: doc.schemeId,
      sourceKey: doc.sourceKey,
      stage: 'loader',
      status,
      occurredAt: new Date().toISOString(),
      correlationId: doc.correlationId,
      billKey: doc.billKey,
      sourceEventId: doc.sourceEventId,
      sourceFingerprint: doc.sourceFingerprint,
      contentHash: doc.contentHash,
      ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)),
    };
  }

  private ensureRunning(ctx: LoadContext): void {
    if (!ctx.isRunning())
      throw new LoaderStoppedError('loader stopping; batch left uncommitted for redelivery');
  }
}

function failure(message: string, field: string | undefined, errorClass: string): Outcome {
  return { kind: 'failed', message, field, errorClass };
}
