import { AppLogger, silentLogger } from '@libs/common';
import {
  ClaimedRangeRequest,
  RangeProgressUpdate,
  RangeRequestStore,
  RangeStage,
} from './range-request.store';

/** Thrown into a running job when an operator cancelled it or its lease was lost. */
export class WorkStoppedError extends Error {
  constructor(readonly reason: 'cancelled' | 'lease_lost' | 'shutdown') {
    super(
      reason === 'cancelled'
        ? 'cancelled by an operator'
        : reason === 'lease_lost'
          ? 'lease lost: another worker took the request over'
          : 'worker shutting down',
    );
  }
}

export interface RangeJobContext {
  /** Aborted (with a WorkStoppedError as reason) on cancel, lost lease or shutdown. */
  signal: AbortSignal;
  /** Latest progress; written at most every `progressMs`, and once more at the end. */
  progress(p: RangeProgressUpdate): void;
}

export type RangeJob = (request: ClaimedRangeRequest, ctx: RangeJobContext) => Promise<string>;

export interface WorkPollerOptions {
  /** Pickup interval (`WORK_REQUEST_POLL_MS`). */
  pollMs: number;
  owner: string;
  logger?: AppLogger;
  /** Lease of a claimed row; renewed every `renewMs`. */
  leaseMs?: number;
  renewMs?: number;
  progressMs?: number;
}

/**
 * A loop that picks up one piece of work at a time every `pollMs` until stopped. `tick` claims and
 * carries out at most one item and says whether it found one (then it looks again at once).
 */
export class WorkPoller {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = true;
  protected readonly logger: AppLogger;
  readonly stopping = new AbortController();

  constructor(
    private readonly name: string,
    private readonly tick: (signal: AbortSignal) => Promise<boolean>,
    protected readonly options: WorkPollerOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.stopping.abort(new WorkStoppedError('shutdown'));
    await this.running?.catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick(this.stopping.signal)
        .catch((err: Error) => {
          this.logger.warn({ worker: this.name, err: err.message }, 'work request pickup failed');
          return false;
        })
        .then((found) => this.schedule(found ? 0 : this.options.pollMs));
    }, ms);
    this.timer.unref?.();
  }
}

/**
 * Carries out range requests of one stage: claims a row, renews its lease while the job runs, writes
 * its progress at most every ~500 ms, and finishes it `done`, `failed` or `cancelled` (an operator's
 * cancel is seen at the next renewal or progress write and aborts the job's signal). A job whose
 * worker dies is claimed again by another once the lease ran out, and resumes from `resumeFrom`
 * where it can (else it starts over: every stage downstream is idempotent).
 */
export class RangeRequestWorker extends WorkPoller {
  constructor(
    store: RangeRequestStore,
    stage: RangeStage,
    job: RangeJob,
    options: WorkPollerOptions & {
      /** Schemes this replica may take (the extractor: those it leads); undefined: any. */
      schemes?: () => readonly string[] | undefined;
    },
  ) {
    const leaseMs = options.leaseMs ?? 30_000;
    const renewMs = options.renewMs ?? Math.min(2000, Math.floor(leaseMs / 3));
    const progressMs = options.progressMs ?? 500;
    const logger = options.logger ?? silentLogger;
    super(
      `range:${stage}`,
      async (shutdown) => {
        const schemes = options.schemes?.();
        if (schemes && schemes.length === 0) return false;
        const request = await store.claim(stage, options.owner, leaseMs, schemes);
        if (!request) return false;
        if (request.cancelRequested) {
          await store.finish(request.id, options.owner, 'cancelled', 'cancelled by an operator');
          return true;
        }
        logger.info(
          { request: request.id, kind: request.kind, stage, scheme: request.schemeId },
          'range request started',
        );
        const abort = new AbortController();
        const onShutdown = () => abort.abort(new WorkStoppedError('shutdown'));
        shutdown.addEventListener('abort', onShutdown, { once: true });
        let latest: RangeProgressUpdate | undefined;
        let written: RangeProgressUpdate | undefined;
        let lastWrite = 0;
        let writing: Promise<void> = Promise.resolve();
        const flush = () => {
          const p = latest;
          if (!p || p === written) return writing;
          written = p;
          lastWrite = Date.now();
          writing = writing
            .then(() => store.progress(request.id, options.owner, p))
            .catch((err: Error) =>
              logger.warn({ request: request.id, err: err.message }, 'progress not written'),
            );
          return writing;
        };
        let pending: NodeJS.Timeout | undefined;
        const progress = (p: RangeProgressUpdate) => {
          latest = p;
          if (pending) return;
          const wait = progressMs - (Date.now() - lastWrite);
          if (wait <= 0) void flush();
          else
            pending = setTimeout(() => {
              pending = undefined;
              void flush();
            }, wait);
        };
        const heartbeat = setInterval(() => {
          store
            .renew(request.id, options.owner, leaseMs)
            .then((r) => {
              if (!r.held) abort.abort(new WorkStoppedError('lease_lost'));
              else if (r.cancelRequested) abort.abort(new WorkStoppedError('cancelled'));
            })
            .catch((err: Error) =>
              logger.warn({ request: request.id, err: err.message }, 'lease not renewed'),
            );
        }, renewMs);
        let outcome: { state: 'done' | 'failed' | 'cancelled'; message: string } | undefined;
        try {
          const message = await job(request, { signal: abort.signal, progress });
          outcome = { state: 'done', message };
        } catch (err) {
          const reason = abort.signal.aborted ? abort.signal.reason : err;
          if (reason instanceof WorkStoppedError && reason.reason !== 'cancelled') {
            // Shutdown or lost lease: the row stays running; its lease runs out and a worker resumes it.
            logger.warn({ request: request.id, reason: reason.reason }, 'range request interrupted');
          } else if (reason instanceof WorkStoppedError)
            outcome = { state: 'cancelled', message: reason.message };
          else outcome = { state: 'failed', message: (err as Error).message };
        } finally {
          clearInterval(heartbeat);
          clearTimeout(pending);
          shutdown.removeEventListener('abort', onShutdown);
        }
        await flush();
        if (outcome) {
          await store.finish(request.id, options.owner, outcome.state, outcome.message);
          logger.info(
            { request: request.id, state: outcome.state, message: outcome.message },
            'range request finished',
          );
        }
        return true;
      },
      options,
    );
  }
}
