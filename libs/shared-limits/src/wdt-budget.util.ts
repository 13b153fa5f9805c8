/**
 * The arithmetic of a WDT budget shared by several processes, kept pure (no clock, no database) so it
 * can be tested alone. `PostgresWdtCallGate` feeds it what the database says.
 */

export type WdtGatePriority = 'normal' | 'background';

/** A scheme waiting in a lane (one entry per scheme and lane is enough; counts do not matter). */
export interface BudgetWaiting {
  scheme: string;
  priority: WdtGatePriority;
}

/** The key's state at one moment. */
export interface BudgetView {
  /** Calls started in the last window (all schemes, all lanes). */
  inWindow: number;
  /** Of those, per scheme. */
  usedBy: ReadonlyMap<string, number>;
  /** Every scheme and lane waiting on the key (any process, the asker's own included). */
  waiting: readonly BudgetWaiting[];
}

export interface BudgetRequest {
  scheme: string;
  priority: WdtGatePriority;
  /** L of the key. */
  limit: number;
}

export type GrantDecision =
  | { grant: true }
  /** `full`: L calls in the window; `priority`: a normal call is waiting; `fair-share`: another scheme below its share is. */
  | { grant: false; reason: 'full' | 'priority' | 'fair-share' };

/** What each backlogged scheme is protected up to in a window: floor(L ÷ schemes with a backlog). */
export function fairShare(limit: number, backlogged: number): number {
  return Math.floor(limit / Math.max(1, backlogged));
}

/**
 * May `req` start a call now?
 * - never when L calls started in the last window;
 * - a `background` call only while no `normal` call waits on the key (any process);
 * - among the schemes waiting in the same lane (the asker counted), a scheme that has used its share
 *   (floor(L ÷ schemes)) in the window waits while another of them is below its share; otherwise the
 *   call goes (work-conserving: an idle share is not kept for anyone).
 * So a scheme that keeps a backlog gets at least floor(L ÷ backlogged) − 1 calls per window (the −1 for
 * the call that may leave the window as the other takes its place).
 */
export function decideGrant(view: BudgetView, req: BudgetRequest): GrantDecision {
  if (view.inWindow >= req.limit) return { grant: false, reason: 'full' };
  if (req.priority === 'background' && view.waiting.some((w) => w.priority === 'normal'))
    return { grant: false, reason: 'priority' };
  const schemes = new Set(view.waiting.filter((w) => w.priority === req.priority).map((w) => w.scheme));
  schemes.add(req.scheme);
  const share = fairShare(req.limit, schemes.size);
  const used = (scheme: string) => view.usedBy.get(scheme) ?? 0;
  if (used(req.scheme) >= share) {
    for (const other of schemes)
      if (other !== req.scheme && used(other) < share) return { grant: false, reason: 'fair-share' };
  }
  return { grant: true };
}

/**
 * Which of this process's waiters (in arrival order) start now, given the key's state and the other
 * processes' waiting schemes. Grants one at a time, re-deciding after each (normal lane first, then the
 * scheme that used least, then arrival). Returns their indices in the order granted.
 */
export function planGrants(
  view: { inWindow: number; usedBy: ReadonlyMap<string, number>; others: readonly BudgetWaiting[] },
  waiters: readonly BudgetRequest[],
): number[] {
  const usedBy = new Map(view.usedBy);
  let inWindow = view.inWindow;
  const remaining = waiters.map((_, i) => i);
  const granted: number[] = [];
  const rank = (i: number) => (waiters[i].priority === 'normal' ? 0 : 1);
  for (;;) {
    const waiting = [...view.others, ...remaining.map((i) => waiters[i])];
    const order = [...remaining].sort(
      (a, b) =>
        rank(a) - rank(b) ||
        (usedBy.get(waiters[a].scheme) ?? 0) - (usedBy.get(waiters[b].scheme) ?? 0) ||
        a - b,
    );
    const next = order.find((i) => decideGrant({ inWindow, usedBy, waiting }, waiters[i]).grant);
    if (next === undefined) return granted;
    granted.push(next);
    remaining.splice(remaining.indexOf(next), 1);
    inWindow += 1;
    usedBy.set(waiters[next].scheme, (usedBy.get(waiters[next].scheme) ?? 0) + 1);
  }
}

/**
 * Milliseconds from `now` until fewer than `limit` of `starts` (ascending, same clock) are inside the
 * window — 0 when that is already so.
 */
export function msUntilRoom(starts: readonly number[], limit: number, windowMs: number, now: number): number {
  const over = starts.filter((at) => at > now - windowMs);
  if (over.length < limit) return 0;
  return Math.max(1, over[over.length - limit] + windowMs - now + 1);
}

/**
 * The local limit of a process that cannot reach the shared state: L ÷ max(2, processes seen on the key
 * in the last 2 minutes), rounded down, at least 1 (never the full L unless L is 1).
 */
export function fallbackLimit(limit: number, processesSeen: number): number {
  return Math.max(1, Math.floor(limit / Math.max(2, processesSeen)));
}

/** How long the fallback counts processes back. */
export const PROCESSES_SEEN_MS = 120_000;
