import { randomUUID } from 'node:crypto';
import { AppLogger, silentLogger } from '@libs/common';
import { AuditEvent, KingdeeDocument } from '@libs/contracts';
import { isKingdeeError, KingdeeFieldError, KingdeeOperationResult } from '@libs/kingdee-client';
import { countErrorClass, countRecords, orderLogger, RecordOutcome } from '@libs/metrics';
import { SchemeHolds } from '@libs/parking';
import { Scheme } from '@libs/scheme';
import { AttemptLog, AuditPublisher } from '@libs/audit';
import { errorReply, replySlice } from './attempt-bodies.util';
import { BaseDataTriage, BaseDataVerdict, Refusal } from './base-data/base-data-triage';
import { BillLookup, contentDifferences, contentOfModel, FoundBill } from './bill-lookup.service';
import { WriteOutcome } from './bill-writer';
import { ClaimState, ClaimStore, claimKey, ClaimTransition, HeldClaim } from './claim.store';
import { KingdeeConnection } from './connection-circuit';
import { LeaseKeeper } from './lease-keeper';
import { loadAuditEvent } from './load-audit.util';
import { SettlePolicy, wantsAudit } from './settle-policy';

/** A document whose claim this process holds, on its way to an outcome. */
export interface Pending {
  doc: KingdeeDocument;
  claim: HeldClaim;
  /** When this process started on it (latency in the audit trail). */
  startedAt: number;
  /** Writes of it by this process. */
  attempts: number;
  /** The last call to Kingdee for it (request and reply in the attempt log). */
  attemptId?: string;
}

/** What happened to one bill, as recorded in its claim and the audit trail. */
export type Decision =
  | { state: 'loaded'; id: string | null; number: string | null; reason?: string }
  | { state: 'saved_not_audited'; id: string | null; number: string | null; reason: string }
  | { state: 'failed'; message: string; field?: string; errorClass: string; errors?: KingdeeFieldError[] }
  /** Refused only for base data: the claim is `failed` (nothing written), the order waits parked. */
  | { state: 'waiting_base_data'; message: string; errorClass: string; verdict: BaseDataVerdict }
  | { state: 'settling'; reason: string }
  | { state: 'conflict_in_erp'; reason: string; number: string | null; detail: Record<string, unknown> }
  | { state: 'duplicate_in_erp'; numbers: string[]; reason: string };

export interface BillResolverOptions {
  owner: string;
  /** How soon a settling bill is looked up again. */
  recheckMs: number;
  /** How soon Submit/Audit of a saved-not-audited bill is tried again. */
  auditRetryMs: number;
}

const READ_RETRY = { count: 2, initialDelayMs: 200, maxDelayMs: 2000 };
const CONFIRMED = 'found in Kingdee by the look-up that checks a partly failed or refused write';
const FOUND = 'found in Kingdee by look-up after an attempt of unknown outcome; not written again';

/**
 * Turns what Kingdee said (a write's verdicts, or bills found by look-up) into outcomes: confirms
 * partly failed batches and duplicate-number refusals by look-up, completes Submit/Audit of bills
 * that are not yet as the scheme asked, and records each outcome — the claim first (conditional on
 * owner and epoch), then the audit event, only for claims that really changed.
 */
export class BillResolver {
  readonly lookup = new BillLookup(READ_RETRY);
  /** Turns refusals only about base data into waits (libs/loading/src/base-data). */
  baseData?: BaseDataTriage;
  /** Where Submit/Audit calls are kept with their bodies (set by the processor). */
  attemptLog?: AttemptLog;
  private readonly logger: AppLogger;

  constructor(
    private readonly claims: ClaimStore,
    private readonly leases: LeaseKeeper,
    private readonly holds: SchemeHolds,
    private readonly audit: AuditPublisher,
    private readonly settle: SettlePolicy,
    private readonly options: BillResolverOptions,
    logger: AppLogger = silentLogger,
  ) {
    this.logger = logger;
  }

  /**
   * What a write's outcomes mean (confirming by look-up where needed), to be recorded with
   * {@link record}; also returns what must be written again (rolled back with a failed batch).
   */
  async resolveWrite(
    connection: KingdeeConnection,
    scheme: Scheme,
    items: Array<{ p: Pending; outcome: WriteOutcome }>,
    signal: AbortSignal,
  ): Promise<{ decisions: Map<Pending, Decision>; again: Pending[] }> {
    const decisions = new Map<Pending, Decision>();
    const found: Array<{ p: Pending; bill: FoundBill }> = [];
    const toLookUp: Array<{ p: Pending; outcome: WriteOutcome }> = [];
    const again: Pending[] = [];
    const confirmed = new Set<Pending>();
    let replaced: { sent: string; number: string } | undefined;
    for (const { p, outcome } of items) {
      switch (outcome.kind) {
        case 'lost':
          this.leases.forget([p.claim]);
          break;
        case 'applied':
          found.push({
            p,
            bill: { id: outcome.id ?? '', number: outcome.number, status: createdStatus(scheme) },
          });
          break;
        case 'number_replaced':
          replaced ??= { sent: outcome.sent, number: outcome.number };
          decisions.set(p, {
            state: 'loaded',
            id: outcome.id,
            number: outcome.number,
            reason: `Kingdee's numbering rule replaced FBillNo ${outcome.sent} by ${outcome.number}; the scheme is stopped`,
          });
          break;
        case 'rejected':
          decisions.set(p, {
            state: 'failed',
            message: outcome.message,
            field: outcome.field,
            errorClass: outcome.errorClass,
            errors: outcome.errors,
          });
          break;
        case 'ambiguous':
          decisions.set(p, { state: 'settling', reason: outcome.reason });
          break;
        default:
          toLookUp.push({ p, outcome });
      }
    }
    if (toLookUp.length > 0) {
      let bills: Map<string, FoundBill[]> | undefined;
      try {
        bills = await this.lookup.find(
          connection,
          scheme,
          toLookUp.map((t) => t.p.doc.billKey),
          signal,
        );
      } catch (error) {
        // Cannot confirm now: settle them (the settler looks again) rather than guess.
        for (const { p } of toLookUp)
          decisions.set(p, {
            state: 'settling',
            reason: `look-up after the reply failed: ${message(error)}`,
          });
      }
      if (bills) {
        const duplicates: Array<{ p: Pending; bill: FoundBill }> = [];
        for (const { p, outcome } of toLookUp) {
          const hits = bills.get(p.doc.billKey) ?? [];
          if (hits.length > 1) decisions.set(p, duplicateDecision(scheme, p.doc, hits));
          else if (hits.length === 1) {
            if (outcome.kind === 'duplicate_number') duplicates.push({ p, bill: hits[0] });
            else {
              found.push({ p, bill: hits[0] });
              confirmed.add(p);
            }
          } else if (outcome.kind === 'duplicate_number') {
            decisions.set(
              p,
              p.attempts > scheme.retry.count
                ? {
                    state: 'conflict_in_erp',
                    number: null,
                    reason: `Kingdee refuses the number as existing (${outcome.message}) but no bill carries ${scheme.target.idempotencyKey.field} = ${p.doc.billKey}`,
                    detail: { kingdeeMessage: outcome.message },
                  }
                : {
                    state: 'settling',
                    reason: `Kingdee says the number exists (${outcome.message}); looking for the bill`,
                  },
            );
          } else if (outcome.kind === 'verify' && outcome.reported === 'failed')
            decisions.set(p, {
              state: 'failed',
              message: outcome.message ?? 'rejected by Kingdee',
              field: outcome.field,
              errorClass: outcome.errorClass,
              errors: outcome.errors,
            });
          else if (p.attempts <= scheme.retry.count) again.push(p);
          else
            decisions.set(p, {
              state: 'failed',
              message:
                'not saved after every attempt: Kingdee rolled it back with other models of its batch each time',
              errorClass: 'NotSaved',
            });
        }
        for (const [p, d] of await this.compare(connection, scheme, duplicates, signal)) decisions.set(p, d);
        for (const d of duplicates)
          if (!decisions.has(d.p)) {
            found.push(d);
            confirmed.add(d.p);
          }
      }
    }
    await this.reviewBaseData(connection, decisions, signal);
    for (const [p, d] of await this.complete(connection, scheme, found, signal))
      decisions.set(
        p,
        d.state === 'loaded' && confirmed.has(p) ? { ...d, reason: d.reason ?? CONFIRMED } : d,
      );
    // Stopped at once (before any further write); the outcomes are recorded by the caller.
    if (replaced) await this.stopForNumbering(scheme, replaced);
    return { decisions, again };
  }

  /** Refusals (confirmed: nothing written) only about base data wait instead of failing. */
  private async reviewBaseData(
    connection: KingdeeConnection,
    decisions: Map<Pending, Decision>,
    signal: AbortSignal,
  ): Promise<void> {
    if (!this.baseData) return;
    const refused = new Map<Pending, Refusal>();
    for (const [p, d] of decisions)
      if (d.state === 'failed' && d.errors && d.errors.length > 0)
        refused.set(p, { doc: p.doc, message: d.message, field: d.field, errors: d.errors });
    if (refused.size === 0) return;
    for (const [p, verdict] of await this.baseData.review(connection, refused, signal)) {
      const d = decisions.get(p) as Extract<Decision, { state: 'failed' }>;
      decisions.set(p, { state: 'waiting_base_data', message: d.message, errorClass: d.errorClass, verdict });
    }
  }

  /** Records bills found by a look-up (settling, saved-not-audited, look-up before write). */
  async resolveFound(
    connection: KingdeeConnection,
    scheme: Scheme,
    items: Array<{ p: Pending; bills: FoundBill[] }>,
    signal: AbortSignal,
  ): Promise<void> {
    const decisions = new Map<Pending, Decision>();
    const single: Array<{ p: Pending; bill: FoundBill }> = [];
    for (const { p, bills } of items) {
      if (bills.length > 1) decisions.set(p, duplicateDecision(scheme, p.doc, bills));
      else if (bills.length === 1) single.push({ p, bill: bills[0] });
    }
    for (const [p, d] of await this.complete(connection, scheme, single, signal))
      decisions.set(p, d.state === 'loaded' ? { ...d, reason: d.reason ?? FOUND } : d);
    await this.record(scheme, decisions);
  }

  /**
   * "Loaded" means what the scheme asked for: bills not yet audited where it asked for audit get
   * Submit and Audit (by id, never a new save); what Kingdee refuses stays `saved_not_audited`.
   */
  async complete(
    connection: KingdeeConnection,
    scheme: Scheme,
    items: Array<{ p: Pending; bill: FoundBill }>,
    signal: AbortSignal,
  ): Promise<Map<Pending, Decision>> {
    const out = new Map<Pending, Decision>();
    const open: Array<{ p: Pending; bill: FoundBill }> = [];
    for (const item of items) {
      if (!wantsAudit(scheme) || item.bill.status === 'C')
        out.set(item.p, { state: 'loaded', id: item.bill.id || null, number: item.bill.number });
      else open.push(item);
    }
    if (open.length === 0) return out;
    const problems = new Map<string, string>();
    const status = new Map(open.map((o) => [o.bill.id, o.bill.status]));
    for (const step of ['submit', 'audit'] as const) {
      const ids = open
        .map((o) => o.bill.id)
        .filter((id) => !problems.has(id) && (step === 'submit' ? status.get(id) !== 'B' : true))
        .filter((id) => status.get(id) !== 'C');
      if (ids.length === 0) continue;
      const attemptId = randomUUID();
      const operation = step === 'submit' ? 'Submit' : 'Audit';
      const called = open.filter((o) => ids.includes(o.bill.id));
      for (const { p } of called) p.attemptId = attemptId;
      try {
        const res = await connection.circuit.withRetries(
          READ_RETRY,
          () => connection.circuit.call(() => connection.api[step](scheme.target.formId, { ids, signal })),
          signal,
        );
        const refused = refusedIds(res, ids);
        for (const id of ids) {
          if (refused.has(id)) problems.set(id, `${step} refused by Kingdee: ${refused.get(id)}`);
          else status.set(id, step === 'submit' ? 'B' : 'C');
        }
        // Off the Submit/Audit path: a body kept a moment later is as good.
        void this.keepAttempt(
          attemptId,
          scheme,
          operation,
          called,
          ids,
          (id) => (refused.has(id) ? 'refused' : 'done'),
          replySlice(res),
        );
      } catch (error) {
        for (const id of ids) problems.set(id, `${step} did not complete: ${message(error)}`);
        // Off the Submit/Audit path: a body kept a moment later is as good.
        void this.keepAttempt(attemptId, scheme, operation, called, ids, () => 'not_done', errorReply(error));
      }
    }
    for (const { p, bill } of open) {
      const problem = problems.get(bill.id);
      out.set(
        p,
        problem
          ? {
              state: 'saved_not_audited',
              id: bill.id,
              number: bill.number,
              reason: `bill ${bill.number ?? bill.id} is saved but not audited (status ${status.get(bill.id)}): ${problem}; Submit/Audit will be retried`,
            }
          : { state: 'loaded', id: bill.id, number: bill.number },
      );
    }
    return out;
  }

  /** Keeps a Submit/Audit call in the attempt log, per bill it named (losing it never fails a load). */
  private async keepAttempt(
    attemptId: string,
    scheme: Scheme,
    operation: string,
    called: Array<{ p: Pending; bill: FoundBill }>,
    ids: string[],
    outcomeOf: (id: string) => string,
    reply: unknown,
  ): Promise<void> {
    if (!this.attemptLog) return;
    try {
      await this.attemptLog.record(
        called.map(({ p, bill }) => ({
          attemptId,
          schemeId: scheme.id,
          sourceKey: p.doc.sourceKey,
          billKey: p.doc.billKey,
          operation,
          outcome: outcomeOf(bill.id),
          request: { formid: scheme.target.formId, data: { Ids: ids.join(',') } },
          reply,
        })),
      );
    } catch (err) {
      this.logger.warn(
        { err: (err as Error).message, attemptId },
        `could not keep the bodies of a ${operation}`,
      );
    }
  }

  /** Applies decisions: claims first (owner + epoch), then audit events for the ones that changed. */
  async record(scheme: Scheme, decisions: Map<Pending, Decision>): Promise<void> {
    if (decisions.size === 0) return;
    const window = this.settle.windowFor(scheme);
    const changes: ClaimTransition[] = [];
    for (const [p, d] of decisions) changes.push(this.transitionOf(p, d, window));
    const changed = await this.claims.transition(this.options.owner, changes);
    this.leases.forget([...decisions.keys()].map((p) => p.claim));
    const waiting = [...decisions].flatMap(([p, d]) =>
      d.state === 'waiting_base_data' && changed.has(claimKey(p.claim))
        ? [{ doc: p.doc, verdict: d.verdict }]
        : [],
    );
    // Parked before the audit says it waits (and before the offset moves on).
    if (waiting.length > 0) await this.baseData?.wait(scheme, waiting);
    const events: AuditEvent[] = [];
    const counts: Partial<Record<Decision['state'], number>> = {};
    for (const [p, d] of decisions) {
      if (!changed.has(claimKey(p.claim))) continue;
      counts[d.state] = (counts[d.state] ?? 0) + 1;
      events.push(this.eventOf(p, d));
      this.log(scheme, p, d);
    }
    await this.audit.publish(events);
    for (const [state, n] of Object.entries(counts)) countRecords('loader', state as RecordOutcome, n);
  }

  private transitionOf(p: Pending, d: Decision, window: number): ClaimTransition {
    // Unresolved claims carry their document: whoever settles them can write it.
    const base = {
      claim: p.claim,
      state: (d.state === 'waiting_base_data' ? 'failed' : d.state) as ClaimState,
      contentHash: p.doc.contentHash,
      document: d.state === 'loaded' || d.state === 'failed' ? undefined : p.doc,
    };
    if (d.state === 'waiting_base_data')
      // Nothing was written: the claim is free to take again (its document waits in parking).
      return {
        ...base,
        state: 'failed',
        document: undefined,
        reason: `${d.verdict.diagnosis} — Kingdee: ${d.message}`,
        detail: { field: d.verdict.field, errorClass: d.errorClass, waitingBaseData: true },
      };
    switch (d.state) {
      case 'loaded':
        return { ...base, kingdeeId: d.id, kingdeeNumber: d.number, reason: d.reason ?? null };
      case 'saved_not_audited':
        return {
          ...base,
          kingdeeId: d.id,
          kingdeeNumber: d.number,
          reason: d.reason,
          recheckInMs: this.options.auditRetryMs,
        };
      case 'failed':
        return { ...base, reason: d.message, detail: { field: d.field ?? null, errorClass: d.errorClass } };
      case 'settling':
        return { ...base, reason: d.reason, settleWindowMs: window, recheckInMs: this.options.recheckMs };
      case 'conflict_in_erp':
        return { ...base, kingdeeNumber: d.number, reason: d.reason, detail: d.detail };
      case 'duplicate_in_erp':
        return { ...base, reason: d.reason, detail: { numbers: d.numbers } };
    }
  }

  private eventOf(p: Pending, d: Decision): AuditEvent {
    const common = {
      attempts: p.attempts,
      latencyMs: Math.max(0, Date.now() - p.startedAt),
      attemptId: p.attemptId,
    };
    switch (d.state) {
      case 'loaded':
      case 'saved_not_audited':
        return loadAuditEvent(p.doc, d.state, {
          ...common,
          kingdeeId: d.id ?? undefined,
          kingdeeNumber: d.number ?? undefined,
          reason: d.reason,
        });
      case 'failed':
        return loadAuditEvent(p.doc, 'failed', {
          ...common,
          errorMessage: d.message,
          errorField: d.field,
          errorClass: d.errorClass,
        });
      case 'waiting_base_data':
        return loadAuditEvent(
          p.doc,
          'waiting_base_data',
          {
            ...common,
            errorMessage: `${d.verdict.diagnosis} — Kingdee: ${d.message}`,
            errorField: d.verdict.field,
            errorClass: d.errorClass,
            reason: `${d.verdict.diagnosis}; the order waits and loads by itself once usable in Kingdee`,
          },
          d.verdict.diagnosis,
        );
      case 'settling':
        return loadAuditEvent(
          p.doc,
          'settling',
          {
            ...common,
            reason: `outcome of the write unknown (${d.reason}); looking the bill up before any rewrite`,
          },
          d.reason,
        );
      case 'conflict_in_erp':
        return loadAuditEvent(p.doc, 'conflict_in_erp', {
          ...common,
          kingdeeNumber: d.number ?? undefined,
          errorMessage: d.reason,
          errorClass: 'ConflictInErp',
        });
      case 'duplicate_in_erp':
        return loadAuditEvent(
          p.doc,
          'duplicate_in_erp',
          {
            ...common,
            kingdeeNumber: d.numbers.join(','),
            errorMessage: d.reason,
            errorClass: 'DuplicateInErp',
          },
          d.numbers.join(','),
        );
    }
  }

  private log(scheme: Scheme, p: Pending, d: Decision): void {
    const log = orderLogger(this.logger, p.doc.correlationId);
    const ctx = { scheme: scheme.id, bill: p.doc.billKey, attempts: p.attempts };
    if (d.state === 'failed') {
      countErrorClass('loader', d.errorClass);
      log.warn({ ...ctx, errorClass: d.errorClass, field: d.field }, 'bill failed');
    } else if (d.state === 'conflict_in_erp' || d.state === 'duplicate_in_erp')
      log.error({ ...ctx, reason: d.reason }, `bill ${d.state}`);
    else if (d.state === 'waiting_base_data')
      log.warn({ ...ctx, reason: d.verdict.diagnosis }, 'bill waits for base data in Kingdee');
    else if (d.state === 'settling' || d.state === 'saved_not_audited')
      log.warn({ ...ctx, reason: d.reason }, `bill ${d.state}`);
    else log.debug({ ...ctx, kingdeeNumber: d.number }, 'bill loaded');
  }

  /** Duplicate-number refusals: the found bill is ours only if it carries what the order calls for. */
  private async compare(
    connection: KingdeeConnection,
    scheme: Scheme,
    items: Array<{ p: Pending; bill: FoundBill }>,
    signal: AbortSignal,
  ): Promise<Map<Pending, Decision>> {
    const out = new Map<Pending, Decision>();
    if (items.length === 0) return out;
    let contents;
    try {
      contents = await this.lookup.contents(
        connection,
        scheme,
        items.map((i) => i.bill.id),
        signal,
      );
    } catch (error) {
      for (const { p } of items)
        out.set(p, { state: 'settling', reason: `comparing the existing bill failed: ${message(error)}` });
      return out;
    }
    for (const { p, bill } of items) {
      const actual = contents.get(bill.id);
      const diffs = actual
        ? contentDifferences(contentOfModel(p.doc.model), actual)
        : ['bill content not readable'];
      if (diffs.length > 0)
        out.set(p, {
          state: 'conflict_in_erp',
          number: bill.number,
          reason: `bill ${bill.number ?? bill.id} carries ${scheme.target.idempotencyKey.field} = ${p.doc.billKey} but differs from the order: ${diffs.join('; ')}`,
          detail: { billId: bill.id, billNumber: bill.number, differences: diffs },
        });
    }
    return out;
  }

  private async stopForNumbering(scheme: Scheme, replaced: { sent: string; number: string }): Promise<void> {
    const reason =
      `Kingdee's numbering rule (编码规则) replaced FBillNo ${replaced.sent} by ${replaced.number}: FBillNo cannot be the ` +
      `idempotency key in this account, so bills could not be found after a lost reply. Loading of this scheme is stopped. ` +
      `Fix: set target.idempotencyKey.field to a field Kingdee keeps (e.g. FDESCRIPTION, mapped from {{order_no}}), ` +
      `or turn the numbering rule off for API-created bills; then resume the scheme.`;
    await this.holds.stopScheme(scheme.id, reason, replaced, this.options.owner);
    this.logger.error({ scheme: scheme.id, ...replaced }, 'scheme stopped: numbering rule replaced FBillNo');
  }
}

/** The status a bill created by BatchSave has, as the save options asked. */
function createdStatus(scheme: Scheme): string {
  const auto =
    scheme.target.submitMode === 'auto' && scheme.target.requestOptions.IsAutoSubmitAndAudit !== false;
  return auto ? 'C' : 'A';
}

function duplicateDecision(scheme: Scheme, doc: KingdeeDocument, bills: FoundBill[]): Decision {
  const numbers = bills.map((b) => b.number ?? b.id);
  return {
    state: 'duplicate_in_erp',
    numbers,
    reason: `${bills.length} bills in Kingdee carry ${scheme.target.idempotencyKey.field} = ${doc.billKey}: ${numbers.join(', ')}; no further writes for this order — a person must keep one`,
  };
}

/** Per-id refusals of a Submit/Audit reply (DIndex = position in `ids`). */
function refusedIds(res: KingdeeOperationResult, ids: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const ok = new Set(res.status.successEntities.map((e) => String(e.id)));
  for (const e of res.status.errors) {
    const id = e.dIndex !== null ? ids[e.dIndex] : undefined;
    if (id !== undefined && !ok.has(id)) out.set(id, e.message);
  }
  if (!res.status.isSuccess && res.status.errors.every((e) => e.dIndex === null))
    for (const id of ids)
      if (!ok.has(id)) out.set(id, res.status.errors[0]?.message ?? `MsgCode ${res.status.msgCode}`);
  return out;
}

function message(error: unknown): string {
  return isKingdeeError(error) || error instanceof Error ? error.message : String(error);
}
