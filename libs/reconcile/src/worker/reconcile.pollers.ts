import { AppLogger, silentLogger } from '@libs/common';
import { WorkPoller } from '@libs/work-requests';
import { LeasedRunOutcome, RunCarrier, RunLease, runLeased } from './reconcile-run.executor';

/** Claims queued runs (ReconcileRunStore fits). */
export interface RunClaimer extends RunLease {
  claim(owner: string, leaseMs: number, schemeIds?: readonly string[]): Promise<string | undefined>;
}

/** Carries out requested re-pushes (ReconcileRepushService fits). */
export interface RepushCarrier {
  runOne(owner: string, leaseMs: number, schemeIds?: readonly string[]): Promise<boolean>;
}

export interface ReconcilePollerOptions {
  owner: string;
  pollMs: number;
  leaseMs: number;
  /** Schemes this replica knows (a run of a scheme it has no file for is left to another). */
  schemes: () => readonly string[];
  logger?: AppLogger;
}

/**
 * Carries out queued reconciliation runs one at a time: claims one (or one whose holder's lease ran
 * out), runs it under a renewed lease, and looks again at once; idle, it looks every `pollMs`.
 */
export class ReconcileRunPoller extends WorkPoller {
  constructor(
    deps: {
      runs: RunClaimer;
      carrier: RunCarrier;
      cancel: (runId: string, owner: string) => Promise<void>;
      onOutcome?: (runId: string, outcome: LeasedRunOutcome) => void;
    },
    options: ReconcilePollerOptions,
  ) {
    const logger = options.logger ?? silentLogger;
    super(
      'reconcile-runs',
      async (shutdown) => {
        const schemes = options.schemes();
        if (schemes.length === 0) return false;
        const runId = await deps.runs.claim(options.owner, options.leaseMs, schemes);
        if (!runId) return false;
        logger.info({ run: runId, owner: options.owner }, 'reconcile run claimed');
        const outcome = await runLeased(
          { lease: deps.runs, carrier: deps.carrier, cancel: deps.cancel, leaseMs: options.leaseMs, logger },
          runId,
          options.owner,
          { shutdown },
        );
        deps.onOutcome?.(runId, outcome);
        if (outcome.kind === 'finished')
          logger.info(
            {
              run: runId,
              scheme: outcome.view.schemeId,
              state: outcome.view.state,
              counts: outcome.view.counts,
            },
            'reconcile run finished',
          );
        else logger.warn({ run: runId, outcome: outcome.kind, ...outcome }, 'reconcile run stopped');
        return true;
      },
      { pollMs: options.pollMs, owner: options.owner, logger },
    );
  }
}

/** Carries out operators' re-push requests of findings, one at a time. */
export class ReconcileRepushPoller extends WorkPoller {
  constructor(repush: RepushCarrier, options: ReconcilePollerOptions) {
    super(
      'reconcile-repush',
      async () => {
        const schemes = options.schemes();
        if (schemes.length === 0) return false;
        return repush.runOne(options.owner, options.leaseMs, schemes);
      },
      { pollMs: options.pollMs, owner: options.owner, logger: options.logger },
    );
  }
}
