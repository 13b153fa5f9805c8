/**
 * The arithmetic of an account's session slots shared by several processes, kept pure so it can be
 * tested alone. `PostgresKingdeeSlotLeases` feeds it the rows it read under the account's lock.
 */

export interface SlotRow {
  slot: number;
  /** Holder, or null when free. */
  instance: string | null;
  /** Lease end (ms, the database's clock), or null when free. */
  expiresAt: number | null;
}

export interface SlotPlanInput {
  cap: number;
  me: string;
  want: number;
  /** Slots the caller is using right now (a slot given up stays leased until this allows). */
  inUse: number;
  now: number;
  /** The account's slots 0..cap−1. */
  slots: readonly SlotRow[];
  /** Processes holding or waiting (seen within a lease), `me` included or not. */
  participants: ReadonlyArray<{ instance: string; want: number }>;
}

export interface SlotPlan {
  /** My leases to renew. */
  keep: number[];
  /** Free (or expired) slots to lease. */
  take: number[];
  /** My leases to give back. */
  give: number[];
  /** Slots I may use after this plan (kept slots still draining a call are not counted). */
  held: number;
  /** What bounded me: `want`, the `cap`, or another process waiting with none (`fair`). */
  bound: 'want' | 'cap' | 'fair';
}

/**
 * One renewal: keep my live leases, take free ones up to what I may hold, give back the rest.
 * I may hold up to min(want, cap); while another process waits with zero slots, at most
 * max(1, floor(cap ÷ processes)) — which never exceeds ceil(cap ÷ processes) and leaves room for the
 * waiter (a holder above it gives back down to it, once its calls in flight allow). With more processes
 * than slots, the process without one waits until a holder leaves.
 */
export function planSlots(input: SlotPlanInput): SlotPlan {
  const { cap, me, now } = input;
  const live = (row: SlotRow) => row.instance !== null && row.expiresAt !== null && row.expiresAt > now;
  const rows = input.slots.filter((r) => r.slot >= 0 && r.slot < cap).sort((a, b) => a.slot - b.slot);
  const mine = rows.filter((r) => live(r) && r.instance === me).map((r) => r.slot);
  const free = rows.filter((r) => !live(r)).map((r) => r.slot);
  const holding = new Map<string, number>();
  for (const r of rows) if (live(r)) holding.set(r.instance!, (holding.get(r.instance!) ?? 0) + 1);
  const others = new Map<string, number>();
  for (const p of input.participants) if (p.instance !== me) others.set(p.instance, p.want);
  const processes = others.size + 1;
  const starving = [...others].some(([instance, want]) => want > 0 && (holding.get(instance) ?? 0) === 0);
  let target = Math.max(0, Math.min(input.want, cap));
  let bound: SlotPlan['bound'] = input.want <= cap ? 'want' : 'cap';
  if (starving) {
    const fair = Math.max(1, Math.floor(cap / processes));
    if (fair < target) {
      target = fair;
      bound = 'fair';
    }
  }
  const keepCount = Math.min(mine.length, Math.max(target, input.inUse));
  const keep = mine.slice(0, keepCount);
  const give = mine.slice(keepCount);
  const take = free.slice(0, Math.max(0, target - keepCount));
  return { keep, take, give, held: Math.min(keep.length + take.length, target), bound };
}
