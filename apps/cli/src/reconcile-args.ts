import { formatShanghai, parseShanghai, parseTimeInput } from '@libs/common';
import type { FindingCounts, ReconcilePhase, ReconcileProgress } from '@libs/reconcile';

export interface ReconcileCliOptions {
  scheme?: string;
  from?: string;
  to?: string;
  day?: string;
}

export interface ReconcileRequest {
  schemeId: string;
  /** Shanghai wall-clock `yyyy-MM-dd HH:mm:ss`, inclusive. */
  from: string;
  to: string;
}

/**
 * The run a command line asks for, or an error naming what is wrong: a scheme (one of `known`), and
 * either `--day yyyy-MM-dd` (that whole Shanghai day) or `--from` and `--to` (Shanghai wall-clock or
 * ISO 8601 with an offset; inclusive; from not after to).
 */
export function parseReconcileArgs(opts: ReconcileCliOptions, known: readonly string[]): ReconcileRequest {
  if (!opts.scheme) throw new Error(`--scheme is required (one of: ${known.join(', ') || 'none found'})`);
  if (!known.includes(opts.scheme))
    throw new Error(`unknown scheme "${opts.scheme}" (known: ${known.join(', ') || 'none'})`);
  if (opts.day !== undefined) {
    if (opts.from !== undefined || opts.to !== undefined)
      throw new Error('--day covers a whole day: give either --day or --from and --to, not both');
    const midnight = /^\d{4}-\d{2}-\d{2}$/.test(opts.day) ? parseShanghai(opts.day) : undefined;
    if (midnight === undefined) throw new Error(`--day "${opts.day}" is not a date (yyyy-MM-dd)`);
    return {
      schemeId: opts.scheme,
      from: formatShanghai(midnight),
      to: formatShanghai(midnight + 86_400_000 - 1000),
    };
  }
  if (opts.from === undefined || opts.to === undefined)
    throw new Error(
      'give the period: --from "yyyy-MM-dd HH:mm:ss" --to "yyyy-MM-dd HH:mm:ss", or --day yyyy-MM-dd',
    );
  const from = time('--from', opts.from);
  const to = time('--to', opts.to);
  if (from > to) throw new Error(`--from (${opts.from}) is after --to (${opts.to}): swap the two`);
  return { schemeId: opts.scheme, from: formatShanghai(from), to: formatShanghai(to) };
}

function time(option: string, text: string): number {
  const ms = parseTimeInput(text);
  if (ms === undefined)
    throw new Error(`${option} "${text}" is not a time: "yyyy-MM-dd HH:mm:ss" (Shanghai) or ISO 8601`);
  return ms;
}

/** Exit codes: every key matched 0, findings 3, a failed, cancelled or interrupted run 1. */
export function reconcileExitCode(state: string, counts: FindingCounts | null): 0 | 1 | 3 {
  if (state !== 'done' || !counts) return 1;
  return Object.entries(counts).some(([kind, n]) => kind !== 'matched' && n > 0) ? 3 : 0;
}

const PHASE_LABEL: Record<ReconcilePhase, string> = {
  source: 'reading WDT',
  target: 'reading Kingdee',
  compare: 'comparing',
  finished: 'finished',
};

/** What the progress bar shows for the engine's progress: the current phase's done/total and counts. */
export function progressView(p: Partial<ReconcileProgress>): {
  done: number;
  total: number;
  fields: Record<string, string | number>;
} {
  const phase = p.phase ?? 'source';
  const [done, total] =
    phase === 'source'
      ? [p.sourceOrders ?? 0, p.sourceTotal ?? p.sourceOrders ?? 0]
      : phase === 'target'
        ? // Kingdee says no total up front: the bar shows bills read so far.
          [p.targetBills ?? 0, p.targetBills ?? 0]
        : [p.keysCompared ?? 0, p.keysTotal ?? p.keysCompared ?? 0];
  return {
    done,
    total: Math.max(total, done),
    fields: {
      phase: PHASE_LABEL[phase],
      orders: p.sourceOrders ?? 0,
      wdtCalls: p.wdtCalls ?? 0,
      bills: p.targetBills ?? 0,
      rows: p.targetRows ?? 0,
      kingdeeCalls: p.kingdeeCalls ?? 0,
      keys: p.keysCompared ?? 0,
    },
  };
}
