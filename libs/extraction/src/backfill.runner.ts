import { formatShanghai, parseShanghai } from '@libs/common';
import { ExtractionService, RunStats, WindowStats } from './extraction.service';

export interface BackfillProgress {
  /** Records read so far (every order of the range once read). */
  records: number;
  /** Known when the last window was read: then equal to `records`. */
  totalRecords: number | null;
  windowsDone: number;
  windowsTotal: number;
  emitted: number;
  pages: number;
  /** Where a resumed backfill starts (the second after the last window read). */
  resumeFrom: string;
  window: WindowStats;
}

/**
 * Re-reads [from, to] (Shanghai wall-clock) of one scheme window by window, under the WDT client's
 * shared rate limiter at background priority, emitting what is new or changed (everything with
 * `force`) without moving the incremental cursor. Shared by `npm run backfill` and the extractor's
 * backfill requests. `resumeFrom` skips the windows a previous run already read.
 */
export async function runBackfill(
  service: ExtractionService,
  range: { from: string; to: string; force?: boolean; resumeFrom?: string | null },
  options: { signal?: AbortSignal; onProgress?: (p: BackfillProgress) => void; recordsBefore?: number } = {},
): Promise<RunStats> {
  const fromMs = parseShanghai(range.from);
  const resumeMs = range.resumeFrom ? parseShanghai(range.resumeFrom) : undefined;
  const start =
    resumeMs !== undefined && fromMs !== undefined && resumeMs > fromMs ? range.resumeFrom! : range.from;
  const totals = { records: options.recordsBefore ?? 0, emitted: 0, pages: 0 };
  return service.backfill(start, range.to, {
    force: range.force,
    signal: options.signal,
    onWindow: (w, done, total) => {
      totals.records += w.fetched;
      totals.emitted += w.emitted;
      totals.pages += w.pages;
      options.onProgress?.({
        records: totals.records,
        totalRecords: done === total ? totals.records : null,
        windowsDone: done,
        windowsTotal: total,
        emitted: totals.emitted,
        pages: totals.pages,
        resumeFrom: formatShanghai(parseShanghai(w.window.end)! + 1000),
        window: w,
      });
    },
  });
}
