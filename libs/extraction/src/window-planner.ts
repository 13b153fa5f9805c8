import { formatShanghai, parseShanghai } from '@libs/common';

export interface WindowPlanInput {
  /** End of the last durable window (Shanghai wall-clock), or undefined on a fresh start. */
  cursor: string | undefined;
  /** Where a fresh cursor starts (Shanghai wall-clock). */
  initial: string;
  lookbackMs: number;
  safetyLagMs: number;
  /** Longest span one request may cover (WDT: 30 days). */
  maxWindowMs: number;
  nowMs: number;
}

export interface PlannedWindow {
  start: string;
  end: string;
}

/**
 * The windows one poll reads: from cursor − lookback to now − safety lag, cut into pieces no
 * longer than the API allows. WDT's windows are closed intervals at one-second resolution: the
 * pieces are [a, b], [b+1s, c], … so no second is skipped, and the next poll starts at
 * cursor − lookback, so records sharing the edge second are always read again (an edge is never
 * trusted to be complete: WDT may still be writing records with that timestamp).
 */
export function planWindows(input: WindowPlanInput): PlannedWindow[] {
  const cursorMs = parseShanghai(input.cursor ?? input.initial);
  if (cursorMs === undefined)
    throw new Error(`cursor "${input.cursor ?? input.initial}" is not a Shanghai wall-clock time`);
  const start = cursorMs - (input.cursor ? input.lookbackMs : 0);
  const end = Math.floor((input.nowMs - input.safetyLagMs) / 1000) * 1000;
  if (end <= start) return [];
  const span = Math.max(1000, input.maxWindowMs - 1000);
  const windows: PlannedWindow[] = [];
  for (let a = start; a <= end; a += span + 1000) {
    const b = Math.min(a + span, end);
    windows.push({ start: formatShanghai(a), end: formatShanghai(b) });
  }
  return windows;
}
