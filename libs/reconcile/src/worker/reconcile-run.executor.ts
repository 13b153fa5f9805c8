import { DataSource } from 'typeorm';
import { AppLogger, silentLogger } from '@libs/common';
import { queryRows } from '@libs/database';
import { WorkStoppedError } from '@libs/work-requests';
import type { ReconcileProgress, ReconcileRunView } from '../run/reconcile-run.types';

/** The lease side of the run store (ReconcileRunStore fits). */
export interface RunLease {
  renew(id: string, owner: string, leaseMs: number): Promise<{ held: boolean; cancelRequested: boolean }>;
}

/** Carries out a claimed run (ReconcileRunService fits). */
export interface RunCarrier {
  run(
    runId: string,
    owner: string,
    ctx: { signal: AbortSignal; onProgress?: (p: ReconcileProgress) => void },
  ): Promise<ReconcileRunView>;
}

export type LeasedRunOutcome =
  | { kind: 'finished'; view: ReconcileRunView }
  /** Cancelled by an operator: the row is `cancelled`. */
  | { kind: 'cancelled' }
  /** Lost lease or shutdown: the row stays `running`; whoever holds it next reads the period again. */
  | { kind: 'interrupted'; reason: 'lease_lost' | 'shutdown' };

/** Marks a run this owner holds `cancelled` (a no-op if the engine already ended it). */
export async function markRunCancelled(ds: DataSource, runId: string, owner: string): Promise<void> {
  // Raw: conditional on the owner; COALESCE keeps an earlier error.
  await queryRows(
    ds,
    `UPDATE reconcile_runs SET state = 'cancelled', finished_at = now(), lease_until = NULL,
       error = coalesce(error, 'cancelled by an operator')
     WHERE id = $1 AND owner = $2 AND state IN ('queued', 'running')`,
    [runId, owner],
  );
}

/**
 * Carries out one run held by `owner` (claimed by the reconciler, or inserted running by the CLI):
 * renews its lease every `renewMs` while the engine works, and aborts the engine's signal when the
 * lease is lost (another holder took over), an operator asked to cancel, or `shutdown` fires. A run
 * whose cancel was requested before it started never starts.
 */
export async function runLeased(
  deps: {
    lease: RunLease;
    carrier: RunCarrier;
    cancel: (runId: string, owner: string) => Promise<void>;
    leaseMs: number;
    renewMs?: number;
    logger?: AppLogger;
  },
  runId: string,
  owner: string,
  options: { shutdown?: AbortSignal; onProgress?: (p: ReconcileProgress) => void } = {},
): Promise<LeasedRunOutcome> {
  const logger = deps.logger ?? silentLogger;
  const first = await deps.lease.renew(runId, owner, deps.leaseMs);
  if (!first.held) return { kind: 'interrupted', reason: 'lease_lost' };
  if (first.cancelRequested) {
    await deps.cancel(runId, owner);
    return { kind: 'cancelled' };
  }
  const abort = new AbortController();
  const onShutdown = () => abort.abort(new WorkStoppedError('shutdown'));
  if (options.shutdown?.aborted) onShutdown();
  options.shutdown?.addEventListener('abort', onShutdown, { once: true });
  const renewMs = deps.renewMs ?? Math.max(250, Math.floor(deps.leaseMs / 4));
  let renewing = false;
  const heartbeat = setInterval(() => {
    if (renewing) return;
    renewing = true;
    deps.lease
      .renew(runId, owner, deps.leaseMs)
      .then((r) => {
        if (!r.held) abort.abort(new WorkStoppedError('lease_lost'));
        else if (r.cancelRequested) abort.abort(new WorkStoppedError('cancelled'));
      })
      // A missed renewal is not a lost lease: the next one may succeed well before it runs out.
      .catch((err: Error) => logger.warn({ run: runId, err: err.message }, 'reconcile run lease not renewed'))
      .finally(() => {
        renewing = false;
      });
  }, renewMs);
  heartbeat.unref?.();
  try {
    const view = await deps.carrier.run(runId, owner, {
      signal: abort.signal,
      onProgress: options.onProgress,
    });
    return { kind: 'finished', view };
  } catch (err) {
    const reason: unknown = abort.signal.aborted ? abort.signal.reason : err;
    if (reason instanceof WorkStoppedError && reason.reason === 'cancelled') {
      await deps.cancel(runId, owner);
      return { kind: 'cancelled' };
    }
    if (reason instanceof WorkStoppedError)
      return { kind: 'interrupted', reason: reason.reason as 'lease_lost' | 'shutdown' };
    throw err;
  } finally {
    clearInterval(heartbeat);
    options.shutdown?.removeEventListener('abort', onShutdown);
  }
}
