import { AppLogger, silentLogger } from '@libs/common';
import {
  AuditEvent,
  ContractViolationError,
  decodeEvent,
  KingdeeDocument,
  KingdeeDocumentSchema,
} from '@libs/contracts';
import { AttemptLog, AuditPublisher } from '@libs/audit';
import { ConsumedMessage, DeadLetterPublisher, ParkRequest } from '@libs/kafka';
import { countError, countRecords, observeBatchSize } from '@libs/metrics';
import { MessageOriginRef, ParkedMessage, ParkedMessageStore, SchemeHolds } from '@libs/parking';
import { Scheme } from '@libs/scheme';
import { BaseDataTriage } from './base-data/base-data-triage';
import { BillResolver, Decision, Pending } from './bill-resolver';
import { BillWriter } from './bill-writer';
import { ClaimStore, FINAL_STATES, HELD_STATES, HeldClaim, ReleaseMode } from './claim.store';
import { isBrokenCircuitError, isNotApplied, isSystemic, KingdeeConnection } from './connection-circuit';
import { LeaseKeeper } from './lease-keeper';
import { loadAuditEvent } from './load-audit.util';
import { SettlePolicy } from './settle-policy';
import { WriteSlots } from './write-slots';

/** What a batch handler is given: whether to go on, and a signal bound to every call it makes. */
export interface LoadContext {
  isRunning(): boolean;
  signal: AbortSignal;
}

export class LoaderStoppedError extends Error {
  override readonly name = 'LoaderStoppedError';
}

export interface LoaderOptions {
  /** This process's id: owner of its claims. */
  owner: string;
  /** Cap on models per BatchSave (the scheme's batchSize applies below it). */
  maxBatchSize: number;
  /** A write starts only on leases with this much life left (our clock). */
  minLeaseMs: number;
  /** How soon a settling bill is looked up again. */
  recheckMs: number;
  /** How soon Submit/Audit of a saved-not-audited bill is retried. */
  auditRetryMs: number;
  /** How long a document parked behind another of its key waits before it is tried again. */
  behindRetryMs: number;
  /** A chunk fenced ahead of its write must be sent within this, or it is fenced again. */
  fenceHorizonMs: number;
  /** Writes in flight at once in the process (KINGDEE_SESSIONS); unset: unbounded here. */
  writeSlots?: number;
}

export interface LoadProcessorDeps {
  schemes: (schemeId: string) => Scheme | undefined;
  connectionFor: (scheme: Scheme) => KingdeeConnection;
  claims: ClaimStore;
  leases: LeaseKeeper;
  holds: SchemeHolds;
  parking: ParkedMessageStore;
  audit: AuditPublisher;
  deadLetters: DeadLetterPublisher;
  settle: SettlePolicy;
  /** Refusals only about base data wait (parked) instead of failing; absent: they fail. */
  baseData?: BaseDataTriage;
  options: LoaderOptions;
  logger?: AppLogger;
  /** Where each call's request and reply are kept (Postgres); none in tests of pure logic. */
  attempts?: AttemptLog;
}

/** Why a scheme's documents wait instead of loading. */
export interface Hold {
  reason: 'paused' | 'stopped' | 'circuit_open';
  detail: string;
}

/** A document on its way, with where it came from (so it can be parked). */
interface Work {
  doc: KingdeeDocument;
  payload: Buffer;
  origin: MessageOriginRef;
  /** Set when it came out of parking (its own parked row is not a reason to wait). */
  parked?: ParkedMessage;
  startedAt: number;
}

/**
 * The loader's consumer path (libs/loading/README.md). Per scheme: documents of loaded bills are
 * audited as duplicates; documents of stopped schemes, or of keys someone else is settling, are
 * parked so the partition moves on; the rest are claimed, written in fenced chunks and resolved.
 * Every document leaves durable: an outcome, a settling claim that carries it, or a parked row.
 */
export class LoadProcessor {
  readonly resolver: BillResolver;
  private readonly writer: BillWriter;
  private readonly logger: AppLogger;

  constructor(private readonly deps: LoadProcessorDeps) {
    this.logger = deps.logger ?? silentLogger;
    this.resolver = new BillResolver(
      deps.claims,
      deps.leases,
      deps.holds,
      deps.audit,
      deps.settle,
      {
        owner: deps.options.owner,
        recheckMs: deps.options.recheckMs,
        auditRetryMs: deps.options.auditRetryMs,
      },
      this.logger,
    );
    this.resolver.baseData = deps.baseData;
    this.resolver.attemptLog = deps.attempts;
    this.writer = new BillWriter(
      deps.claims,
      deps.leases,
      {
        minLeaseMs: deps.options.minLeaseMs,
        fenceHorizonMs: deps.options.fenceHorizonMs,
        slots: deps.options.writeSlots ? new WriteSlots(deps.options.writeSlots) : undefined,
      },
      deps.attempts,
      this.logger,
    );
  }

  /** One batch from Kafka. Resolving means: every message is durable somewhere (see class doc). */
  async handle(messages: ConsumedMessage[], ctx: LoadContext): Promise<void> {
    const poison: ParkRequest[] = [];
    const latest = new Map<string, Work>();
    for (const message of messages) {
      try {
        const doc = decodeEvent(
          KingdeeDocumentSchema,
          message.value,
          `Kingdee document at ${message.topic}/${message.partition}@${message.offset}`,
        );
        if (!this.deps.schemes(doc.schemeId))
          throw new ContractViolationError(`no scheme "${doc.schemeId}" is loaded (order ${doc.sourceKey})`);
        // Several versions of one order in a batch: only the newest matters (same partition, in order).
        latest.set(`${doc.schemeId}\u0000${doc.billKey}`, {
          doc,
          payload: message.value as Buffer,
          origin: { topic: message.topic, partition: message.partition, offset: message.offset },
          startedAt: Date.now(),
        });
      } catch (error) {
        poison.push({ message, stage: 'loader', error, attempts: 1, sourceKey: message.key ?? undefined });
      }
    }
    if (poison.length > 0) {
      await this.deps.deadLetters.park(poison);
      countRecords('loader', 'dead_lettered', poison.length);
      for (const p of poison) countError('loader', p.error);
    }
    try {
      await this.process([...latest.values()], ctx);
    } finally {
      // Bodies are kept off the write path (overlapping the next calls), and done with the batch.
      await this.writer.attemptsKeptSoFar();
    }
    // Counted once the batch is done: one that throws is redelivered and counted then.
    observeBatchSize('loader', messages.length);
    countRecords('loader', 'in', messages.length);
  }

  /** Waits for the request/reply bodies of the calls made so far to be kept. */
  attemptsKept(): Promise<void> {
    return this.writer.attemptsKept();
  }

  /** Parked documents of schemes that run again; returns the ones that reached an end (to remove). */
  async loadParked(rows: ParkedMessage[], ctx: LoadContext): Promise<ParkedMessage[]> {
    const works: Work[] = [];
    for (const row of rows) {
      try {
        const doc = decodeEvent(
          KingdeeDocumentSchema,
          row.payload,
          `parked document ${row.schemeId}/${row.key}`,
        );
        if (!this.deps.schemes(doc.schemeId)) continue; // its scheme is gone: it stays parked, visible
        works.push({ doc, payload: row.payload, origin: row.origin, parked: row, startedAt: Date.now() });
      } catch (error) {
        this.logger.error(
          { scheme: row.schemeId, key: row.key, err: (error as Error).message },
          'unreadable parked document',
        );
      }
    }
    const parkedAgain = await this.process(works, ctx);
    return works.filter((w) => !parkedAgain.has(w)).map((w) => w.parked as ParkedMessage);
  }

  /** Why a scheme's documents must wait now, if they must. */
  holdOf(scheme: Scheme, connection = this.deps.connectionFor(scheme)): Hold | undefined {
    const hold = this.deps.holds.hold(scheme.id);
    if (hold) return { reason: hold.kind, detail: hold.reason };
    if (connection.circuit.blocked)
      return {
        reason: 'circuit_open',
        detail: `Kingdee connection "${connection.id}" is failing (circuit open): ${connection.circuit.lastError ?? 'unknown error'}; loading resumes when a probe succeeds`,
      };
    return undefined;
  }

  /**
   * Writes documents whose claims this process holds (`writing`), chunk by chunk, and resolves them;
   * their outcomes are recorded together once the chunks are done (claims, then audit events). What
   * is left when the scheme stops or Kingdee fails before writing it is given back and handed to
   * `onHold`. `keepDocument`: the claims are the only copy of their documents (the settler's
   * rewrites), so anything given back stays with the settler instead of becoming free.
   */
  async writeClaimed(
    connection: KingdeeConnection,
    scheme: Scheme,
    pending: Pending[],
    ctx: LoadContext,
    onHold: (rest: Pending[], hold: Hold) => Promise<void>,
    keepDocument = false,
  ): Promise<void> {
    const open = new Set(pending);
    const decided = new Map<Pending, Decision>();
    let queue = pending;
    const size = this.chunkSize(scheme);
    const window = () => this.deps.settle.windowFor(scheme);
    const flush = async () => {
      if (decided.size === 0) return;
      const batch = new Map(decided);
      decided.clear();
      await this.resolver.record(scheme, batch);
      this.writer.forget([...batch.keys()].map((p) => p.claim));
    };
    // Claims fenced ahead (never sent) applied nothing: given back free, not settling.
    const giveBackRest = async (rest: Pending[], notApplied: Set<Pending>) => {
      const unsent = rest.filter((p) => notApplied.has(p) || !this.writer.sent(p.claim));
      await this.giveBack(unsent, window(), { notApplied: true, keepDocument });
      await this.giveBack(
        rest.filter((p) => !unsent.includes(p)),
        window(),
        { keepDocument },
      );
      rest.forEach((p) => open.delete(p));
    };
    try {
      while (queue.length > 0) {
        // A revoked batch (rebalance, stop) starts no new write; the one in flight may finish.
        if (ctx.signal.aborted || !ctx.isRunning())
          throw new LoaderStoppedError('loader stopping; unwritten work left for redelivery');
        const hold = this.holdOf(scheme, connection);
        if (hold) {
          await flush();
          await giveBackRest(queue, new Set());
          await onHold(queue, hold);
          return;
        }
        let chunk = queue.slice(0, size);
        queue = queue.slice(size);
        if (scheme.target.lookupBeforeWrite === 'always') {
          const bills = await this.resolver.lookup.find(
            connection,
            scheme,
            chunk.map((p) => p.doc.billKey),
            ctx.signal,
          );
          const hits = chunk.filter((p) => bills.has(p.doc.billKey));
          await this.resolver.resolveFound(
            connection,
            scheme,
            hits.map((p) => ({ p, bills: bills.get(p.doc.billKey) ?? [] })),
            ctx.signal,
          );
          hits.forEach((p) => open.delete(p));
          chunk = chunk.filter((p) => !bills.has(p.doc.billKey));
          if (chunk.length === 0) continue;
        }
        for (const p of chunk) p.attempts += 1;
        let outcomes;
        try {
          outcomes = await this.writer.write(connection, scheme, chunk, ctx.signal, queue.slice(0, size));
        } catch (error) {
          if (ctx.signal.aborted) throw new LoaderStoppedError('loader stopping during a write');
          if (!isSystemic(error) && !isBrokenCircuitError(error) && !isNotApplied(error)) throw error;
          // Every attempt applied nothing (an unknown outcome would have come back as verdicts).
          await flush();
          const rest = [...chunk, ...queue];
          await giveBackRest(rest, new Set(chunk));
          await onHold(rest, {
            reason: 'circuit_open',
            detail: `Kingdee connection "${connection.id}" failing: ${(error as Error).message}; nothing of these was written; they load when Kingdee answers again`,
          });
          return;
        }
        const { decisions, again } = await this.resolver.resolveWrite(
          connection,
          scheme,
          chunk.map((p, i) => ({ p, outcome: outcomes[i] })),
          ctx.signal,
        );
        for (const [p, d] of decisions) decided.set(p, d);
        const lost = chunk.filter((_, i) => outcomes[i].kind === 'lost');
        this.writer.forget(lost.map((p) => p.claim)); // no longer ours
        chunk.forEach((p) => {
          if (decisions.has(p) || lost.includes(p)) open.delete(p);
        });
        queue = [...again, ...queue];
      }
      await flush();
    } finally {
      // Outcomes known are recorded; whatever is still `writing` under us (an exception, a shutdown)
      // is given back — to settling where this epoch wrote, so a release never hides a write.
      await flush().catch((err: Error) =>
        this.logger.warn({ err: err.message }, 'could not record outcomes; the settler will find the bills'),
      );
      for (const p of decided.keys()) open.delete(p);
      // As everywhere else, what this process never sent a request under (a revoked batch's next
      // chunk, fenced ahead while the call before it ran) is freed at once: given back as possibly
      // written, it waited out the whole settle window (~2 minutes) before the partition's new owner
      // could write it.
      const left = open.size;
      if (left > 0)
        await giveBackRest([...open], new Set()).catch((err: Error) =>
          this.logger.warn(
            { err: err.message, bills: left },
            'could not give claims back; their leases will expire',
          ),
        );
    }
  }

  private chunkSize(scheme: Scheme): number {
    return Math.min(scheme.target.batchSize, this.deps.options.maxBatchSize);
  }

  private async giveBack(items: Pending[], settleWindowMs: number, mode: ReleaseMode): Promise<void> {
    if (items.length === 0) return;
    const claims = items.map((p) => p.claim);
    this.writer.forget(claims);
    await this.deps.claims.release(
      this.deps.options.owner,
      items.map((p) => ({ ...p.claim, document: p.doc })),
      () => settleWindowMs,
      mode,
    );
    this.deps.leases.forget(claims);
  }

  /** Returns the works parked (again). */
  private async process(works: Work[], ctx: LoadContext): Promise<Set<Work>> {
    const parked = new Set<Work>();
    const bySchemes = new Map<string, Work[]>();
    for (const w of works) bySchemes.set(w.doc.schemeId, [...(bySchemes.get(w.doc.schemeId) ?? []), w]);
    for (const [schemeId, list] of bySchemes) {
      if (ctx.signal.aborted || !ctx.isRunning())
        throw new LoaderStoppedError('loader stopping; batch left for redelivery');
      for (const w of await this.processScheme(this.deps.schemes(schemeId) as Scheme, list, ctx))
        parked.add(w);
    }
    return parked;
  }

  private async processScheme(scheme: Scheme, works: Work[], ctx: LoadContext): Promise<Work[]> {
    const connection = this.deps.connectionFor(scheme);
    // Both reads at once: the claims, and which keys already wait in parking (newer ones queue behind).
    const [rows, queued] = await Promise.all([
      this.deps.claims.read(
        scheme.id,
        works.map((w) => w.doc.billKey),
      ),
      this.deps.parking.parkedKeys(
        scheme.id,
        works.filter((w) => !w.parked).map((w) => w.doc.billKey),
      ),
    ]);
    const rest = await this.settleResolved(scheme, works, rows);
    if (rest.length === 0) return [];
    const hold = this.holdOf(scheme, connection);
    if (hold) {
      await this.park(scheme, rest, hold.reason, hold.detail, true);
      return rest;
    }
    const behind: Work[] = [];
    let toClaim: Work[] = [];
    for (const w of rest) {
      const row = rows.get(w.doc.billKey);
      if (!w.parked && queued.has(w.doc.billKey)) behind.push(w);
      else if (row && HELD_STATES.includes(row.state)) {
        // The same version is already durable in a claim the settlers finish: handed over. A claim
        // still `writing` may yet be given back unwritten, and one without its document (taken over
        // from a dead owner) cannot be rewritten by its settler: wait behind those.
        if (row.state === 'writing' || !row.hasDocument || row.contentHash !== w.doc.contentHash)
          behind.push(w);
      } else toClaim.push(w);
    }
    toClaim = await this.refuseForeignKeys(scheme, connection, toClaim);
    const sentAt = this.deps.leases.now();
    // The first chunk's write follows at once: its fence goes with the claim (one statement less).
    const firstChunk = scheme.target.lookupBeforeWrite === 'always' ? 0 : this.chunkSize(scheme);
    const claimed = await this.deps.claims.claim(
      this.deps.options.owner,
      this.deps.leases.leaseMs,
      toClaim.map((w) => w.doc),
      { count: firstChunk, horizonMs: this.writer.horizonMs },
    );
    this.deps.leases.granted(sentAt, claimed);
    const fencedKeys = new Set(toClaim.slice(0, firstChunk).map((w) => w.doc.billKey));
    this.writer.fencedAhead(
      sentAt,
      claimed.filter((c) => fencedKeys.has(c.billKey)),
    );
    const byKey = new Map<string, HeldClaim>(claimed.map((c) => [c.billKey, c]));
    const pending = new Map<Pending, Work>();
    for (const w of toClaim) {
      const claim = byKey.get(w.doc.billKey);
      if (claim) pending.set({ doc: w.doc, claim, startedAt: w.startedAt, attempts: 0 }, w);
      else behind.push(w); // claimed by another replica a moment ago
    }
    const parkedHere: Work[] = [];
    if (behind.length > 0) {
      await this.park(
        scheme,
        behind,
        'behind',
        'waits for an earlier version of this order, or for the outcome of an earlier write of it',
        false,
      );
      // Said once, when it first waits (not at each retry from parking): the order is never absent
      // from the trail, e.g. while the write of a loader that died is being settled.
      const fresh = behind.filter((w) => !w.parked);
      if (fresh.length > 0)
        await this.deps.audit.publish(
          fresh.map((w) =>
            loadAuditEvent(
              w.doc,
              'parked',
              {
                reason:
                  'waits for the outcome of an earlier write of this order, or for an earlier version of it',
              },
              'behind',
            ),
          ),
        );
      parkedHere.push(...behind);
    }
    await this.writeClaimed(connection, scheme, [...pending.keys()], ctx, async (left, hold) => {
      const works = left.map((p) => pending.get(p) as Work);
      await this.park(scheme, works, hold.reason, hold.detail, true);
      parkedHere.push(...works);
    });
    return parkedHere;
  }

  /**
   * Registers the bill keys as this scheme's in its Kingdee account and form; a key another scheme
   * already holds there (another shop's order with the same number, under a key template without
   * `{{$sid}}`) is never written: the order ends `failed` (identity_collision), naming both schemes.
   * Returns the works that may be claimed.
   */
  private async refuseForeignKeys(
    scheme: Scheme,
    connection: KingdeeConnection,
    works: Work[],
  ): Promise<Work[]> {
    const register = this.deps.claims.registerIdentities?.bind(this.deps.claims);
    if (!register || works.length === 0) return works;
    const account = connection.account ?? connection.id;
    const formId = scheme.target.formId;
    const foreign = await register(
      scheme.id,
      account,
      formId,
      works.map((w) => w.doc.billKey),
    );
    if (foreign.size === 0) return works;
    const refused = works.filter((w) => foreign.has(w.doc.billKey));
    await this.deps.audit.publish(
      refused.map((w) =>
        loadAuditEvent(w.doc, 'failed', {
          errorClass: 'identity_collision',
          errorField: w.doc.idempotencyField,
          errorMessage:
            `${w.doc.idempotencyField} "${w.doc.billKey}" is already the bill of scheme "${foreign.get(w.doc.billKey)}" ` +
            `in Kingdee account ${account} (form ${formId}): writing it would overwrite or duplicate another shop's order. ` +
            `Key the schemes' bills by shop, e.g. target.idempotencyKey.source '{{$sid}}-{{order_no}}' (scheme:check refuses colliding keys).`,
        }),
      ),
    );
    this.logger.error(
      { scheme: scheme.id, account, formId, bills: refused.map((w) => w.doc.billKey).slice(0, 20) },
      'bill keys of another scheme in the same Kingdee account: not written',
    );
    return works.filter((w) => !foreign.has(w.doc.billKey));
  }

  /** Documents of bills with a final outcome are audited and dropped; the rest are returned. */
  private async settleResolved(
    scheme: Scheme,
    works: Work[],
    rows: Awaited<ReturnType<ClaimStore['read']>>,
  ): Promise<Work[]> {
    const rest: Work[] = [];
    const events: AuditEvent[] = [];
    const settled = { duplicate: 0, changed_after_load: 0 };
    for (const w of works) {
      const row = rows.get(w.doc.billKey);
      if (!row || !FINAL_STATES.includes(row.state)) {
        rest.push(w);
        continue;
      }
      const doc = w.doc;
      const kingdee = {
        kingdeeId: row.kingdeeId ?? undefined,
        kingdeeNumber: row.kingdeeNumber ?? undefined,
      };
      if (row.state !== 'loaded') {
        // A conflict or duplicate in the ERP waits for a person: no write, the same status again.
        events.push(
          loadAuditEvent(doc, row.state as AuditEvent['status'], {
            ...kingdee,
            errorMessage: row.reason ?? undefined,
            errorClass: row.state === 'conflict_in_erp' ? 'ConflictInErp' : 'DuplicateInErp',
          }),
        );
        continue;
      }
      // Re-announce the original "loaded" outcome under its own (deterministic) event id: if a crash
      // lost it between settling the claim and publishing, the audit trail still gets it.
      const changed = row.contentHash !== null && row.contentHash !== doc.contentHash;
      // The bill holds the loaded content, not this version's: re-announced without a version.
      events.push(
        loadAuditEvent(
          {
            ...doc,
            contentHash: row.contentHash ?? doc.contentHash,
            sourceVersion: changed ? undefined : doc.sourceVersion,
          },
          'loaded',
          kingdee,
        ),
      );
      const status =
        changed && scheme.target.onChangedAfterLoad === 'record' ? 'changed_after_load' : 'duplicate';
      settled[status] += 1;
      events.push(
        loadAuditEvent(
          doc,
          status,
          {
            ...kingdee,
            reason: changed
              ? `order changed after its bill ${row.kingdeeNumber ?? ''} was loaded; ${status === 'changed_after_load' ? 'needs a person' : 'ignored by scheme policy'}`
              : `already loaded as ${row.kingdeeNumber ?? row.kingdeeId ?? 'a bill'}; not sent again`,
          },
          '',
          // Each delivery (a resync, a re-push, a replay) is answered in the trail.
          `${w.origin.topic}/${w.origin.partition}@${w.origin.offset}`,
        ),
      );
    }
    await this.deps.audit.publish(events);
    countRecords('loader', 'duplicate', settled.duplicate);
    countRecords('loader', 'changed_after_load', settled.changed_after_load);
    return rest;
  }

  private async park(
    scheme: Scheme,
    works: Work[],
    reason: string,
    detail: string,
    audit: boolean,
  ): Promise<void> {
    await this.deps.parking.park(
      works.map((w) => ({
        schemeId: scheme.id,
        key: w.doc.billKey,
        reason,
        detail,
        origin: w.origin,
        payload: w.payload,
      })),
      audit ? undefined : this.deps.options.behindRetryMs,
    );
    if (audit)
      await this.deps.audit.publish(
        works.map((w) => loadAuditEvent(w.doc, 'parked', { reason: `${reason}: ${detail}` }, reason)),
      );
    countRecords('loader', 'parked', works.length);
  }
}
