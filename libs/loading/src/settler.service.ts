import { AppLogger, silentLogger } from '@libs/common';
import { countTakeOvers } from '@libs/metrics';
import { ParkedMessageStore } from '@libs/parking';
import { Scheme } from '@libs/scheme';
import { Pending } from './bill-resolver';
import { ClaimStore, ClaimTransition, claimKey, SettlingClaim } from './claim.store';
import { KingdeeConnection } from './connection-circuit';
import { LeaseKeeper } from './lease-keeper';
import { LoadContext, LoaderStoppedError, LoadProcessor } from './load.processor';
import { keyIsBillNo, SettlePolicy } from './settle-policy';

export interface SettlerOptions {
  owner: string;
  /** Pause between rounds when a round found nothing more to do. */
  pollMs: number;
  /** Claims / parked documents per round. */
  batch: number;
  /** How long a drainer holds parked documents it took. */
  drainLeaseMs: number;
  /** Drain parked documents (the loader service does; a replay CLI does not). */
  drain: boolean;
  /** How soon Submit/Audit of a saved-not-audited bill is retried. */
  auditRetryMs: number;
}

export interface SettlerDeps {
  processor: LoadProcessor;
  claims: ClaimStore;
  leases: LeaseKeeper;
  parking: ParkedMessageStore;
  settle: SettlePolicy;
  schemes: () => Scheme[];
  connectionFor: (scheme: Scheme) => KingdeeConnection;
  options: SettlerOptions;
  logger?: AppLogger;
}

export interface SettlerRound {
  takenOver: number;
  looked: number;
  rewritten: number;
  drained: number;
}

/**
 * The asynchronous half of the write protocol (libs/loading/README.md, rule 5), one per loader
 * process: takes over claims whose owner's lease expired, looks up settling bills and rewrites them
 * only after a look-up made past the deadline found nothing, retries Submit/Audit of bills saved but
 * not audited, and drains parked documents of schemes that run again.
 */
export class Settler {
  private readonly logger: AppLogger;
  private readonly stopping = new AbortController();
  private loop?: Promise<void>;
  private wake?: () => void;
  /** Schemes keyed on FBillNo known to keep the numbers sent (no numbering rule). */
  private readonly numbersKept = new Set<string>();

  constructor(private readonly deps: SettlerDeps) {
    this.logger = deps.logger ?? silentLogger;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Stops after the current round; in-flight calls are aborted (their claims go to settling). */
  async stop(): Promise<void> {
    this.stopping.abort(new LoaderStoppedError('settler stopping'));
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      let busy = false;
      try {
        const round = await this.runOnce();
        busy = round.looked + round.drained + round.takenOver >= this.deps.options.batch;
      } catch (err) {
        if (!this.stopping.signal.aborted)
          this.logger.warn({ err: (err as Error).message }, 'settler round failed; trying again');
      }
      if (!busy)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.deps.options.pollMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
    }
  }

  /** One round (also called directly by tests and the replay CLI). */
  async runOnce(): Promise<SettlerRound> {
    const ctx: LoadContext = { isRunning: () => !this.stopping.signal.aborted, signal: this.stopping.signal };
    const takenOver = await this.takeOver();
    const due = await this.deps.claims.due(this.deps.options.owner, this.deps.options.batch);
    let rewritten = 0;
    const byScheme = new Map<string, SettlingClaim[]>();
    for (const c of due) byScheme.set(c.schemeId, [...(byScheme.get(c.schemeId) ?? []), c]);
    const schemes = new Map(this.deps.schemes().map((s) => [s.id, s]));
    for (const [schemeId, claims] of byScheme) {
      const scheme = schemes.get(schemeId);
      if (!scheme || ctx.signal.aborted) continue;
      rewritten += await this.settleScheme(scheme, claims, ctx);
    }
    const drained = this.deps.options.drain ? await this.drain(ctx) : 0;
    return { takenOver, looked: due.length, rewritten, drained };
  }

  private async takeOver(): Promise<number> {
    const schemes = this.deps
      .schemes()
      .map((s) => ({ schemeId: s.id, settleWindowMs: this.deps.settle.windowFor(s) }));
    const taken = await this.deps.claims.takeOver(
      this.deps.options.owner,
      this.deps.leases.leaseMs,
      schemes,
      this.deps.options.batch,
    );
    if (taken.length > 0) {
      countTakeOvers(taken.length);
      this.logger.warn(
        { claims: taken.length, bills: taken.slice(0, 10).map((c) => c.billKey) },
        'took over claims whose owner stopped renewing them; settling before any write',
      );
    }
    return taken.length;
  }

  private async settleScheme(scheme: Scheme, claims: SettlingClaim[], ctx: LoadContext): Promise<number> {
    const { processor } = this.deps;
    const connection = this.deps.connectionFor(scheme);
    if (connection.circuit.blocked) return 0;
    let bills;
    try {
      bills = await processor.resolver.lookup.find(
        connection,
        scheme,
        claims.map((c) => c.billKey),
        ctx.signal,
      );
    } catch (err) {
      this.logger.warn(
        { scheme: scheme.id, err: (err as Error).message },
        'settling look-up failed; trying later',
      );
      await this.recheck(claims, scheme);
      return 0;
    }
    const pending = (c: SettlingClaim): Pending | undefined =>
      c.document ? { doc: c.document, claim: c, startedAt: Date.now(), attempts: c.attempts } : undefined;
    const found: Array<{ p: Pending; bills: NonNullable<ReturnType<typeof bills.get>> }> = [];
    const rewrite: SettlingClaim[] = [];
    const later: SettlingClaim[] = [];
    const orphans: SettlingClaim[] = [];
    for (const c of claims) {
      const hits = bills.get(c.billKey) ?? [];
      const p = pending(c);
      if (!p) orphans.push(c);
      else if (hits.length > 0) found.push({ p, bills: hits });
      else if (c.state === 'saved_not_audited') {
        // The bill we saw is gone (deleted in Kingdee by a person): say so, let a person re-push.
        await processor.resolver.record(
          scheme,
          new Map([
            [
              p,
              {
                state: 'failed' as const,
                message: `bill ${c.kingdeeNumber ?? c.kingdeeId ?? ''} was saved but is no longer in Kingdee (deleted?); re-push to create it again`,
                errorClass: 'BillVanished',
              },
            ],
          ]),
        );
      } else if (c.deadlinePassed && !processor.holdOf(scheme, connection)) rewrite.push(c);
      else later.push(c);
    }
    await processor.resolver.resolveFound(connection, scheme, found, ctx.signal);
    await this.recheck(later, scheme);
    await this.settleOrphans(scheme, orphans, bills);
    if (rewrite.length === 0) return 0;
    if (!(await this.mayRewrite(scheme))) {
      // A numbering rule would hide the first bill from every look-up: rewriting blind could make a
      // second one. Wait until a bill of this scheme shows its number was kept (or the scheme stops).
      await this.recheck(rewrite, scheme);
      return 0;
    }
    // A look-up made after the deadline found nothing: not written. Write again, fenced as always.
    const sentAt = this.deps.leases.now();
    const changed = await this.deps.claims.transition(
      this.deps.options.owner,
      rewrite.map((c) => ({ claim: c, state: 'writing' as const, reason: null })),
      this.deps.leases.leaseMs,
    );
    const writing = rewrite.filter((c) => changed.has(claimKey(c)));
    this.deps.leases.granted(sentAt, writing);
    this.logger.info(
      { scheme: scheme.id, bills: writing.map((c) => c.billKey).slice(0, 20), count: writing.length },
      'not found after the settle deadline: writing again',
    );
    await processor.writes.writeClaimed(
      connection,
      scheme,
      writing.map((c) => pending(c) as Pending),
      ctx,
      async () => undefined,
      true,
    );
    return writing.length;
  }

  private async mayRewrite(scheme: Scheme): Promise<boolean> {
    if (!keyIsBillNo(scheme) || this.numbersKept.has(scheme.id)) return true;
    if (await this.deps.claims.numbersKept(scheme.id)) this.numbersKept.add(scheme.id);
    else
      this.logger.warn(
        { scheme: scheme.id },
        'not rewriting yet: no bill of this scheme has shown that Kingdee keeps FBillNo (a numbering rule would hide the first bill)',
      );
    return this.numbersKept.has(scheme.id);
  }

  /** Looks again later (no audit event: the status has not changed). */
  private async recheck(claims: SettlingClaim[], scheme: Scheme): Promise<void> {
    if (claims.length === 0) return;
    const changes: ClaimTransition[] = claims.map((c) => ({
      claim: c,
      state: c.state === 'saved_not_audited' ? 'saved_not_audited' : 'settling',
      reason: c.reason,
      kingdeeId: c.kingdeeId,
      kingdeeNumber: c.kingdeeNumber,
      settleWindowMs: this.deps.settle.windowFor(scheme),
      recheckInMs:
        c.state === 'saved_not_audited' ? this.deps.options.auditRetryMs : this.deps.options.pollMs,
    }));
    await this.deps.claims.transition(this.deps.options.owner, changes);
  }

  /**
   * Claims without their document (left by the previous protocol): found → loaded (a redelivery
   * re-announces it); not found after the deadline → free, the document's redelivery writes it.
   */
  private async settleOrphans(
    scheme: Scheme,
    orphans: SettlingClaim[],
    bills: Map<string, Array<{ id: string; number: string | null }>>,
  ): Promise<void> {
    if (orphans.length === 0) return;
    const changes: ClaimTransition[] = [];
    for (const c of orphans) {
      const hit = bills.get(c.billKey)?.[0];
      if (hit) changes.push({ claim: c, state: 'loaded', kingdeeId: hit.id, kingdeeNumber: hit.number });
      else if (c.deadlinePassed) changes.push({ claim: c, state: 'free' });
    }
    await this.deps.claims.transition(this.deps.options.owner, changes);
    await this.recheck(
      orphans.filter((c) => !bills.has(c.billKey) && !c.deadlinePassed),
      scheme,
    );
  }

  private async drain(ctx: LoadContext): Promise<number> {
    const running = this.deps
      .schemes()
      .filter((s) => !this.deps.processor.holdOf(s))
      .map((s) => s.id);
    const rows = await this.deps.parking.take(
      running,
      this.deps.options.owner,
      this.deps.options.drainLeaseMs,
      this.deps.options.batch,
    );
    if (rows.length === 0) return 0;
    const done = await this.deps.processor.loadParked(rows, ctx);
    await this.deps.parking.remove(done);
    if (done.length > 0)
      this.logger.info({ drained: done.length, taken: rows.length }, 'parked documents loaded');
    return rows.length;
  }
}
