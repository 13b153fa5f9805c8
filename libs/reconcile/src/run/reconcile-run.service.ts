import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ReconcileRunEntity } from '@libs/database';
import { AppLogger, Clock, silentLogger, systemClock } from '@libs/common';
import type { KingdeeApi } from '@libs/kingdee-client';
import type { Scheme } from '@libs/scheme';
import { groupBillsByKey } from '../bill-rows.util';
import { comparisonPlan } from '../comparison-plan.util';
import { reconcileStreams } from '../reconcile-merge';
import { forScheme, type PerScheme, type TrailLookup, type TrailView } from '../reconcile.types';
import { KingdeeTargetReader } from './kingdee-target.reader';
import { PostgresTrailLookup } from './postgres-trail.lookup';
import { FindingRow, LeaseLostError, ReconcileRunStore } from './reconcile-run.store';
import {
  EMPTY_COUNTS,
  type FindingCounts,
  type ReconcileProgress,
  type ReconcileRunView,
  type ReconcileSummary,
} from './reconcile-run.types';
import { ReconcileStagingStore } from './reconcile-staging.store';
import {
  billsOfKey,
  findingColumns,
  reconcileAlert,
  type ReconcileAlertSink,
  type ReconcileSummaryPublisher,
} from './reconcile-summary.util';
import { WdtSourceReader, type StockoutPageSource } from './wdt-source.reader';

export interface ReconcileRunDeps {
  ds: DataSource;
  schemes: (id: string) => Scheme | undefined;
  wdt: PerScheme<StockoutPageSource>;
  kingdee: PerScheme<KingdeeApi>;
  summaries: ReconcileSummaryPublisher;
  alerts?: ReconcileAlertSink;
  clock?: Clock;
  logger?: AppLogger;
  /** ExecuteBillQuery rows per page (RECONCILE_KINGDEE_PAGE_ROWS, default 2000). */
  kingdeePageRows?: number;
  /** Progress writes at most this often (ms, default 1000). */
  progressEveryMs?: number;
}

export interface ReconcileRunContext {
  /** Aborted when the lease is lost or the run is cancelled (the caller renews the lease). */
  signal: AbortSignal;
  onProgress?: (p: ReconcileProgress) => void;
}

/** Keys per trail look-up and findings per insert. */
const BATCH = 500;
const MAX_ERROR_CHARS = 2000;

/** A failure's text for the run row and the summary: the first line, bounded (clients redact secrets). */
function describeFailure(err: unknown): string {
  const text =
    err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}

/** Remembers the trail of the batch the merge is yielding (it looks a batch up, then yields it). */
class RememberingTrail implements TrailLookup {
  last: ReadonlyMap<string, TrailView> = new Map();
  constructor(private readonly inner: TrailLookup) {}
  async lookup(keys: readonly string[]): Promise<ReadonlyMap<string, TrailView>> {
    this.last = await this.inner.lookup(keys);
    return this.last;
  }
}

/**
 * Carries out one reconciliation run claimed by a reconciler: reads WDT (source) and Kingdee
 * (target) into the staging table, merges both by key in sorted order, writes the findings and
 * counts, ends the run, publishes its summary and sends one alert when anything did not match.
 */
export class ReconcileRunService {
  private readonly runs: ReconcileRunStore;
  private readonly staging: ReconcileStagingStore;
  private readonly clock: Clock;
  private readonly logger: AppLogger;

  constructor(private readonly deps: ReconcileRunDeps) {
    this.runs = new ReconcileRunStore(deps.ds);
    this.staging = new ReconcileStagingStore(deps.ds);
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger;
  }

  /**
   * Carries out one run already claimed by `owner`. Resolves with the final view; never throws for
   * a run failure (the run is marked failed) — only when the lease is lost or the signal aborted
   * without a cancel request (then nothing more is written: the run belongs to someone else).
   */
  async run(runId: string, owner: string, ctx: ReconcileRunContext): Promise<ReconcileRunView> {
    const view = await this.runs.get(runId);
    if (!view) throw new Error(`reconcile run ${runId} does not exist`);
    const progress: ReconcileProgress = {
      phase: 'source',
      sourceOrders: 0,
      sourceTotal: null,
      sourcePages: 0,
      wdtCalls: 0,
      sourceUnusable: 0,
      targetRows: 0,
      targetBills: 0,
      kingdeeCalls: 0,
      keysCompared: 0,
      keysTotal: null,
    };
    let lastWrite = 0;
    const report = async (force = false): Promise<void> => {
      ctx.onProgress?.({ ...progress });
      const now = this.clock.now();
      if (!force && now - lastWrite < (this.deps.progressEveryMs ?? 1000)) return;
      lastWrite = now;
      if (!(await this.runs.progress(runId, owner, progress))) throw new LeaseLostError(runId);
    };

    let counts: FindingCounts | null = null;
    let failure: string | null = null;
    let held = true;
    try {
      const scheme = this.deps.schemes(view.schemeId);
      if (!scheme) throw new Error(`scheme ${view.schemeId} is not loaded by this reconciler`);
      counts = await this.carryOut(view, scheme, owner, ctx, progress, report);
    } catch (err) {
      if (err instanceof LeaseLostError) held = false;
      else if (ctx.signal.aborted) {
        held = (await this.runs.renew(runId, owner, 60_000)).held;
        const cancelled = held && (await this.cancelRequested(runId));
        if (!cancelled) {
          if (held) await this.staging.clear(runId).catch(() => undefined);
          throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new LeaseLostError(runId);
        }
        await this.staging.clear(runId).catch(() => undefined);
        await this.runs.finish(runId, owner, {
          state: 'cancelled',
          counts: null,
          error: 'cancelled on request',
          progress,
        });
        this.logger.info({ run: runId, scheme: view.schemeId }, 'reconcile run cancelled');
        return (await this.runs.get(runId)) as ReconcileRunView;
      } else {
        failure = describeFailure(err);
        counts = null;
      }
    }
    if (!held) throw new LeaseLostError(runId);
    // Staging is only scratch: a failed run keeps nothing of it (the next run reads afresh).
    await this.staging
      .clear(runId)
      .catch((err: unknown) =>
        this.logger.warn({ run: runId, err: (err as Error).message }, 'could not clear reconcile staging'),
      );

    progress.phase = 'finished';
    const state = failure === null ? 'done' : 'failed';
    if (!(await this.runs.finish(runId, owner, { state, counts, error: failure, progress })))
      throw new LeaseLostError(runId);
    ctx.onProgress?.({ ...progress });
    const final = (await this.runs.get(runId)) as ReconcileRunView;
    if (failure !== null)
      this.logger.error({ run: runId, scheme: view.schemeId, err: failure }, 'reconcile run failed');
    else this.logger.info({ run: runId, scheme: view.schemeId, counts }, 'reconcile run done');

    await this.publishSummary(final);
    if (counts) {
      const alert = reconcileAlert(final, counts);
      if (alert) this.deps.alerts?.notify(alert);
    }
    return final;
  }

  private async cancelRequested(runId: string): Promise<boolean> {
    const run = await this.deps.ds
      .getRepository(ReconcileRunEntity)
      .findOne({ select: { cancelRequested: true }, where: { id: runId } });
    return run?.cancelRequested === true;
  }

  private async publishSummary(run: ReconcileRunView): Promise<void> {
    if (run.state !== 'done' && run.state !== 'failed') return;
    const finishedAt = run.finishedAt ?? new Date(this.clock.now()).toISOString();
    const summary: ReconcileSummary = {
      eventId: randomUUID(),
      runId: run.id,
      schemeId: run.schemeId,
      periodFrom: run.periodFrom,
      periodTo: run.periodTo,
      trigger: run.trigger,
      state: run.state,
      counts: run.counts,
      error: run.error,
      startedAt: run.startedAt ?? run.requestedAt,
      finishedAt,
      occurredAt: new Date(this.clock.now()).toISOString(),
    };
    try {
      await this.deps.summaries.publish(summary);
      await this.runs.markSummaryPublished(run.id);
    } catch (err) {
      // The run's outcome is in Postgres either way; summary_published_at stays empty.
      this.logger.warn({ run: run.id, err: (err as Error).message }, 'reconcile summary not published');
    }
  }

  private async carryOut(
    view: ReconcileRunView,
    scheme: Scheme,
    owner: string,
    ctx: ReconcileRunContext,
    progress: ReconcileProgress,
    report: (force?: boolean) => Promise<void>,
  ): Promise<FindingCounts> {
    const runId = view.id;
    const plan = comparisonPlan(scheme);
    const { signal } = ctx;
    // A run taken over from a holder that died starts from scratch.
    await this.staging.clear(runId);
    await this.runs.clearFindings(runId, owner);
    await report(true);

    // Source: WDT, page by page into staging.
    const source = await new WdtSourceReader(forScheme(this.deps.wdt, scheme)).read({
      scheme,
      from: view.periodFrom,
      to: view.periodTo,
      signal,
      now: this.clock.now(),
      onEntries: async (entries) => {
        await this.staging.stageSource(runId, entries);
        await report();
      },
      onStats: (s) => {
        progress.sourceOrders = s.entries;
        progress.sourceTotal = s.total;
        progress.sourcePages = s.pages;
        progress.wdtCalls = s.calls;
        progress.sourceUnusable = s.unusable;
        ctx.onProgress?.({ ...progress });
      },
    });
    progress.sourceTotal = source.total;
    progress.sourcePages = source.pages;
    progress.wdtCalls = source.calls;
    progress.sourceUnusable = source.unusable;
    progress.sourceOrders = await this.countSource(runId);
    if (source.unusable > 0)
      this.logger.warn(
        { run: runId, scheme: scheme.id, unusable: source.unusable },
        'WDT returned entries that are not orders (not an object, or no order_no); they are counted, not compared',
      );
    signal.throwIfAborted();

    // Target: Kingdee, the period's bills, then bills of period orders dated elsewhere.
    progress.phase = 'target';
    await report(true);
    const reader = new KingdeeTargetReader(forScheme(this.deps.kingdee, scheme), this.deps.kingdeePageRows);
    const target = await reader.readPeriod({
      plan,
      from: view.periodFrom,
      to: view.periodTo,
      dateField: scheme.reconcile.dateField,
      targetFilter: scheme.reconcile.targetFilter,
      signal,
      onRows: async (rows) => {
        await this.staging.stageTarget(runId, plan, rows);
        await report();
      },
      onStats: (s) => {
        progress.targetRows = s.rows;
        progress.targetBills = s.bills;
        progress.kingdeeCalls = s.calls;
        ctx.onProgress?.({ ...progress });
      },
    });
    const byKey = await reader.readKeys(plan, this.staging.sourceKeysWithoutTarget(runId), {
      signal,
      onRows: (rows) => this.staging.stageTarget(runId, plan, rows),
      onCalls: (calls) => {
        progress.kingdeeCalls = target.calls + calls;
        ctx.onProgress?.({ ...progress });
      },
    });
    progress.targetRows = target.rows + byKey.rows;
    progress.targetBills = target.bills + byKey.bills;
    progress.kingdeeCalls = target.calls + byKey.calls;
    signal.throwIfAborted();

    // Compare: both sides by key in "C" order, findings written in batches.
    progress.phase = 'compare';
    progress.keysTotal = await this.staging.countKeys(runId);
    await report(true);
    const counts: FindingCounts = { ...EMPTY_COUNTS };
    const trail = new RememberingTrail(new PostgresTrailLookup(this.deps.ds, scheme.id));
    let seq = 0;
    let pending: FindingRow[] = [];
    const flush = async (): Promise<void> => {
      if (pending.length === 0) return;
      const rows = pending;
      pending = [];
      await this.runs.insertFindings(runId, owner, rows);
    };
    for await (const key of reconcileStreams({
      plan,
      source: this.staging.source(runId),
      target: groupBillsByKey(plan, this.staging.target(runId)),
      trail,
      batchSize: BATCH,
    })) {
      const keyBills = billsOfKey(key.findings);
      const trailStatus = trail.last.get(key.key)?.status ?? null;
      for (const finding of key.findings) {
        counts[finding.kind] += 1;
        if (finding.kind === 'matched') continue;
        seq += 1;
        pending.push({ seq, finding, ...findingColumns(finding, keyBills, trailStatus) });
      }
      progress.keysCompared += 1;
      if (pending.length >= BATCH) {
        signal.throwIfAborted();
        await flush();
        await report();
      }
    }
    await flush();
    await report(true);
    return counts;
  }

  private async countSource(runId: string): Promise<number> {
    // Raw: a bigint count as text (exact beyond 2^53).
    const rows: Array<{ n: string }> = await this.deps.ds.query(
      `SELECT count(*)::text AS n FROM reconcile_staging WHERE run_id = $1 AND side = 'source'`,
      [runId],
    );
    return Number(rows[0]?.n ?? 0);
  }
}
