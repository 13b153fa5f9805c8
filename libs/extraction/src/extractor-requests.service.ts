import { DataSource } from 'typeorm';
import { AppLogger, Clock, formatShanghai, silentLogger } from '@libs/common';
import { Scheme } from '@libs/scheme';
import {
  PreviewMapping,
  PreviewRequestStore,
  RangeRequestStore,
  RangeRequestWorker,
  WorkPoller,
} from '@libs/work-requests';
import { runBackfill } from './backfill.runner';
import { ExtractionService } from './extraction.service';
import { ExtractionStore, StockoutSource } from './extraction.ports';
import { fetchOrder } from './order-fetcher';

export interface ExtractorRequestsDeps {
  ds: DataSource;
  /** The WDT client of a scheme's connection. */
  sourceFor: (scheme: Scheme) => StockoutSource;
  store: ExtractionStore;
  clock: Clock;
  /** The scheme's extraction service, when this process runs the scheme. */
  serviceFor: (schemeId: string) => { scheme: Scheme; service: ExtractionService } | undefined;
  /** Schemes this replica leads now (only the leader calls WDT for a scheme). */
  leading: () => string[];
  /** Maps a fetched record (pure; masks personal data): libs/operator's evaluatePreview. */
  evaluate: (scheme: Scheme, record: unknown) => Promise<PreviewMapping>;
  /** Parses a draft scheme of a preview request. */
  parseDraft: (yaml: string, schemeId: string) => Promise<Scheme>;
  owner: string;
  pollMs: number;
  logger?: AppLogger;
}

/**
 * The extractor's part of operators' requests, for the schemes this replica leads: backfill range
 * requests (progress: records read; total known once the last window is read) and the WDT fetch of
 * live previews by order number (the record is mapped here, where it is, and stored masked).
 */
export class ExtractorRequests {
  private readonly backfills: RangeRequestWorker;
  private readonly previews: WorkPoller;

  constructor(private readonly deps: ExtractorRequestsDeps) {
    const logger = deps.logger ?? silentLogger;
    this.backfills = new RangeRequestWorker(
      new RangeRequestStore(deps.ds),
      'extract',
      async (request, ctx) => {
        const held = request.schemeId ? deps.serviceFor(request.schemeId) : undefined;
        if (!held) throw new Error(`scheme ${request.schemeId ?? '(none)'} is not run by this extractor`);
        const range = {
          from: formatShanghai(request.from.getTime()),
          // The range's end is exclusive; WDT windows are closed to the second.
          to: formatShanghai(request.to.getTime() - 1000),
          force: request.force,
          resumeFrom: request.resumeFrom,
        };
        const resumed = request.resumeFrom ? request.progressDone : 0;
        let total: number | null = null;
        let records = resumed;
        const stats = await runBackfill(held.service, range, {
          signal: ctx.signal,
          recordsBefore: resumed,
          onProgress: (p) => {
            records = p.records;
            total = p.totalRecords;
            ctx.progress({
              done: p.records,
              total: p.totalRecords,
              resumeFrom: p.resumeFrom,
              message: `window ${p.windowsDone}/${p.windowsTotal}: ${p.records} records read, ${p.emitted} emitted`,
            });
          },
        });
        ctx.progress({ done: records, total: total ?? records });
        return `${records} records read in ${stats.windows.length} windows: ${stats.emitted} emitted, ${stats.unchanged} unchanged, ${stats.parked} parked`;
      },
      { pollMs: deps.pollMs, owner: deps.owner, logger, schemes: () => deps.leading() },
    );
    const previews = new PreviewRequestStore(deps.ds);
    this.previews = new WorkPoller(
      'preview:fetch',
      async (signal) => {
        const leading = deps.leading();
        if (leading.length === 0) return false;
        const row = await previews.claim('fetching', deps.owner, 60_000, leading);
        if (!row) return false;
        try {
          const held = deps.serviceFor(row.schemeId);
          if (!held) throw new Error(`scheme ${row.schemeId} is not run by this extractor`);
          const scheme = row.schemeYaml ? await deps.parseDraft(row.schemeYaml, row.schemeId) : held.scheme;
          const orderNo = row.orderNo ?? '';
          const record = await fetchOrder(
            { source: deps.sourceFor(scheme), store: deps.store, clock: deps.clock },
            scheme,
            orderNo,
            signal,
          );
          if (!record) await previews.fail(row.id, deps.owner, `order ${orderNo} not found in WDT`);
          else await previews.mapped(row.id, deps.owner, await deps.evaluate(scheme, record));
        } catch (err) {
          logger.warn({ preview: row.id, err: (err as Error).message }, 'preview fetch failed');
          await previews.fail(row.id, deps.owner, (err as Error).message);
        }
        return true;
      },
      { pollMs: deps.pollMs, owner: deps.owner, logger },
    );
  }

  start(): void {
    this.backfills.start();
    this.previews.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.backfills.stop(), this.previews.stop()]);
  }
}
