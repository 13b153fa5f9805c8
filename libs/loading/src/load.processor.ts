import { AppLogger, silentLogger } from '@libs/common';
import { ContractViolationError, decodeEvent, KingdeeDocumentSchema } from '@libs/contracts';
import { AttemptLog, AuditPublisher } from '@libs/audit';
import { ConsumedMessage, DeadLetterPublisher, ParkRequest } from '@libs/kafka';
import { countError, countRecords, observeBatchSize } from '@libs/metrics';
import { ParkedMessage, ParkedMessageStore, SchemeHolds } from '@libs/parking';
import { Scheme } from '@libs/scheme';
import { BaseDataTriage } from './base-data/base-data-triage';
import { BillResolver, Pending } from './bill-resolver';
import { BillWriter } from './bill-writer';
import { ClaimStore, HELD_STATES, HeldClaim } from './claim.store';
import { KingdeeConnection } from './connection-circuit';
import { LeaseKeeper } from './lease-keeper';
import { loadAuditEvent } from './load-audit.util';
import { SettlePolicy } from './settle-policy';
import { WriteSlots } from './write-slots';
import { ClaimedWrites } from './claimed-writes';
import { IdentityGuard } from './identity-guard';
import { Hold, LoadContext, LoaderStoppedError, Work } from './load-work';
import { ResolvedDocuments } from './resolved-documents';
import { WorkParking } from './work-parking';

export type { Hold, LoadContext } from './load-work';
export { LoaderStoppedError } from './load-work';

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

/**
 * The loader's consumer path (libs/loading/README.md). Per scheme: documents of loaded bills are
 * audited as duplicates; documents of stopped schemes, or of keys someone else is settling, are
 * parked so the partition moves on; the rest are claimed, written in fenced chunks and resolved.
 * Every document leaves durable: an outcome, a settling claim that carries it, or a parked row.
 */
export class LoadProcessor {
  readonly resolver: BillResolver;
  private readonly writer: BillWriter;
  /** The write loop over claims this process holds (the settler's rewrites use it too). */
  readonly writes: ClaimedWrites;
  private readonly resolved: ResolvedDocuments;
  private readonly identities: IdentityGuard;
  private readonly parking: WorkParking;
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
    this.writes = new ClaimedWrites({
      resolver: this.resolver,
      writer: this.writer,
      claims: deps.claims,
      leases: deps.leases,
      settle: deps.settle,
      owner: deps.options.owner,
      maxBatchSize: deps.options.maxBatchSize,
      holdOf: (scheme, connection) => this.holdOf(scheme, connection),
      logger: this.logger,
    });
    this.resolved = new ResolvedDocuments(deps.audit);
    this.identities = new IdentityGuard(deps.claims, deps.audit, this.logger);
    this.parking = new WorkParking(deps.parking, deps.audit, deps.options.behindRetryMs);
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
    const rest = await this.resolved.announce(scheme, works, rows);
    if (rest.length === 0) return [];
    const hold = this.holdOf(scheme, connection);
    if (hold) {
      await this.parking.park(scheme, rest, hold.reason, hold.detail, true);
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
    toClaim = await this.identities.admit(scheme, connection, toClaim);
    const sentAt = this.deps.leases.now();
    // The first chunk's write follows at once: its fence goes with the claim (one statement less).
    const firstChunk = scheme.target.lookupBeforeWrite === 'always' ? 0 : this.writes.chunkSize(scheme);
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
      await this.parking.park(
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
    await this.writes.writeClaimed(connection, scheme, [...pending.keys()], ctx, async (left, hold) => {
      const works = left.map((p) => pending.get(p) as Work);
      await this.parking.park(scheme, works, hold.reason, hold.detail, true);
      parkedHere.push(...works);
    });
    return parkedHere;
  }
}
