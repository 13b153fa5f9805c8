import { AppLogger } from '@libs/common';
import { Scheme } from '@libs/scheme';
import { BillResolver, Decision, Pending } from './bill-resolver';
import { BillWriter } from './bill-writer';
import { ClaimStore, ReleaseMode } from './claim.store';
import { isBrokenCircuitError, isNotApplied, isSystemic, KingdeeConnection } from './connection-circuit';
import { LeaseKeeper } from './lease-keeper';
import { Hold, LoadContext, LoaderStoppedError } from './load-work';
import { SettlePolicy } from './settle-policy';

export interface ClaimedWritesDeps {
  resolver: BillResolver;
  writer: BillWriter;
  claims: ClaimStore;
  leases: LeaseKeeper;
  settle: SettlePolicy;
  /** This process's id: owner of its claims. */
  owner: string;
  /** Cap on models per BatchSave (the scheme's batchSize applies below it). */
  maxBatchSize: number;
  /** Why a scheme's documents must wait now (held scheme, open circuit), if they must. */
  holdOf: (scheme: Scheme, connection: KingdeeConnection) => Hold | undefined;
  logger: AppLogger;
}

/**
 * The write loop over claims this process holds: chunk by chunk (looked up first when the scheme
 * says so), each write resolved into outcomes, outcomes recorded together; on a hold or a Kingdee
 * failure that applied nothing the rest is given back (free when never sent, to settling when it may
 * have been) — so a release never hides a write. Used by the consumer path and the settler.
 */
export class ClaimedWrites {
  constructor(private readonly deps: ClaimedWritesDeps) {}

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
      await this.deps.resolver.record(scheme, batch);
      this.deps.writer.forget([...batch.keys()].map((p) => p.claim));
    };
    // Claims fenced ahead (never sent) applied nothing: given back free, not settling.
    const giveBackRest = async (rest: Pending[], notApplied: Set<Pending>) => {
      const unsent = rest.filter((p) => notApplied.has(p) || !this.deps.writer.sent(p.claim));
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
        const hold = this.deps.holdOf(scheme, connection);
        if (hold) {
          await flush();
          await giveBackRest(queue, new Set());
          await onHold(queue, hold);
          return;
        }
        let chunk = queue.slice(0, size);
        queue = queue.slice(size);
        if (scheme.target.lookupBeforeWrite === 'always') {
          const bills = await this.deps.resolver.lookup.find(
            connection,
            scheme,
            chunk.map((p) => p.doc.billKey),
            ctx.signal,
          );
          const hits = chunk.filter((p) => bills.has(p.doc.billKey));
          await this.deps.resolver.resolveFound(
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
          outcomes = await this.deps.writer.write(
            connection,
            scheme,
            chunk,
            ctx.signal,
            queue.slice(0, size),
          );
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
        const { decisions, again } = await this.deps.resolver.resolveWrite(
          connection,
          scheme,
          chunk.map((p, i) => ({ p, outcome: outcomes[i] })),
          ctx.signal,
        );
        for (const [p, d] of decisions) decided.set(p, d);
        const lost = chunk.filter((_, i) => outcomes[i].kind === 'lost');
        this.deps.writer.forget(lost.map((p) => p.claim)); // no longer ours
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
        this.deps.logger.warn(
          { err: err.message },
          'could not record outcomes; the settler will find the bills',
        ),
      );
      for (const p of decided.keys()) open.delete(p);
      // As everywhere else, what this process never sent a request under (a revoked batch's next
      // chunk, fenced ahead while the call before it ran) is freed at once: given back as possibly
      // written, it waited out the whole settle window (~2 minutes) before the partition's new owner
      // could write it.
      const left = open.size;
      if (left > 0)
        await giveBackRest([...open], new Set()).catch((err: Error) =>
          this.deps.logger.warn(
            { err: err.message, bills: left },
            'could not give claims back; their leases will expire',
          ),
        );
    }
  }

  /** Models per BatchSave: the scheme's batch size, capped by the loader's. */
  chunkSize(scheme: Scheme): number {
    return Math.min(scheme.target.batchSize, this.deps.maxBatchSize);
  }

  private async giveBack(items: Pending[], settleWindowMs: number, mode: ReleaseMode): Promise<void> {
    if (items.length === 0) return;
    const claims = items.map((p) => p.claim);
    this.deps.writer.forget(claims);
    await this.deps.claims.release(
      this.deps.owner,
      items.map((p) => ({ ...p.claim, document: p.doc })),
      () => settleWindowMs,
      mode,
    );
    this.deps.leases.forget(claims);
  }
}
