import { DataSource } from 'typeorm';
import { AppLogger, silentLogger } from '@libs/common';
import { SchemeStopEntity, SyncCursorEntity } from '@libs/database';

/**
 * Why a scheme does not run: `paused` by an operator (`sync_cursors.paused`, which every stage
 * honours) or `stopped` by the loader itself (`scheme_stops`, e.g. a numbering rule replaced the
 * idempotency key). Both last until an operator resumes the scheme.
 */
export interface SchemeHold {
  kind: 'paused' | 'stopped';
  reason: string;
  since: string | null;
}

/**
 * Every stage's view of which schemes are held, refreshed from Postgres every `refreshMs` so a pause
 * reaches every replica within that time without a query per batch.
 */
export class SchemeHolds {
  private holds = new Map<string, SchemeHold>();
  /** Told when this process stops a scheme (alerts). */
  onStopped?: (schemeId: string, reason: string) => void;
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;

  constructor(
    private readonly ds: DataSource,
    private readonly refreshMs = 1000,
    private readonly logger: AppLogger = silentLogger,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      void this.refresh().catch((err: Error) =>
        this.logger.warn({ err: err.message }, 'could not refresh scheme holds; keeping the last known'),
      );
    }, this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  hold(schemeId: string): SchemeHold | undefined {
    return this.holds.get(schemeId);
  }

  /** Schemes among `schemeIds` that are not held. */
  running(schemeIds: Iterable<string>): string[] {
    return [...schemeIds].filter((id) => !this.holds.has(id));
  }

  async refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => {
      this.refreshing = undefined;
    });
    await this.refreshing;
  }

  /** Stops a scheme durably (first reason wins) and at once in this process. */
  async stopScheme(
    schemeId: string,
    reason: string,
    detail: Record<string, unknown>,
    by: string,
  ): Promise<void> {
    await this.ds
      .createQueryBuilder()
      .insert()
      .into(SchemeStopEntity)
      .values({ schemeId, reason, detail, stoppedBy: by, stoppedAt: () => 'now()' })
      .orIgnore()
      .execute();
    if (!this.holds.has(schemeId))
      this.holds.set(schemeId, { kind: 'stopped', reason, since: new Date().toISOString() });
  }

  private async load(): Promise<void> {
    const paused = await this.ds
      .getRepository(SyncCursorEntity)
      .find({ select: { schemeId: true, updatedAt: true }, where: { paused: true } });
    const stops = await this.ds
      .getRepository(SchemeStopEntity)
      .find({ select: { schemeId: true, reason: true, stoppedAt: true } });
    const next = new Map<string, SchemeHold>();
    for (const p of paused)
      next.set(p.schemeId, {
        kind: 'paused',
        reason: 'paused by an operator (resume: POST /api/schemes/:id/resume)',
        since: new Date(p.updatedAt).toISOString(),
      });
    // A loader stop names what must be fixed; it is shown even when the scheme is also paused.
    for (const s of stops)
      next.set(s.schemeId, {
        kind: 'stopped',
        reason: s.reason,
        since: new Date(s.stoppedAt).toISOString(),
      });
    this.holds = next;
  }
}
