import { DataSource } from 'typeorm';

export interface OrderOutcome {
  schemeId: string;
  orderNo: string;
  status: string;
  stage: string;
  /** What the outcome says: Kingdee's message (and field), the skip reason, or the bill number. */
  summary: string;
  occurredAt: string;
}

/** What a resync or re-push is waited on: the request (if any) and the order it concerns. */
export interface AwaitedOrder {
  schemeId: string;
  orderNo: string;
  resyncRequestId?: string;
}

/** Reports of an order still in flight: waited past. A parked or base-data wait is an outcome to tell. */
const NOT_FINAL = ['settling', 'saved_not_audited'];

/**
 * Reads what became of an order after an operator asked for it again (resync, re-push): the first
 * outcome recorded after the request that is not "on its way", or the extractor's answer when the
 * order could not be read again. CLIs wait on it instead of printing "requested" and leaving.
 */
export class OrderOutcomes {
  constructor(private readonly ds: DataSource) {}

  /** The database's clock: waits compare against times the database recorded. */
  async now(): Promise<Date> {
    // Raw: the database clock (the outcome compares rows stamped by it).
    const rows: Array<{ now: Date }> = await this.ds.query(`SELECT now() AS now`);
    return new Date(rows[0].now);
  }

  async after(order: AwaitedOrder, since: Date): Promise<OrderOutcome | undefined> {
    if (order.resyncRequestId) {
      // Raw: to_json keeps the stored microseconds of done_at (a JS Date would drop them).
      const req: Array<{ state: string; result: string | null; done_at: string }> = await this.ds.query(
        `SELECT state, result, to_json(done_at) #>> '{}' AS done_at FROM resync_requests WHERE id = $1`,
        [order.resyncRequestId],
      );
      const r = req[0];
      if (!r || r.state === 'pending') return undefined;
      if (r.state !== 'done')
        return {
          ...order,
          status: `resync_${r.state}`,
          stage: 'extractor',
          summary: r.result ?? '',
          occurredAt: r.done_at,
        };
    }
    const rows: Array<{
      status: string;
      stage: string;
      occurred_at: string;
      event: Record<string, string | undefined>;
      // Raw: to_json keeps the stored microseconds; status <> ALL(list).
    }> = await this.ds.query(
      `SELECT status, stage, to_json(occurred_at) #>> '{}' AS occurred_at, event FROM audit_history
        WHERE scheme_id = $1 AND source_key = $2 AND recorded_at > $3 AND status <> ALL($4::text[])
        ORDER BY recorded_at, occurred_at LIMIT 1`,
      [order.schemeId, order.orderNo, since, NOT_FINAL],
    );
    const h = rows[0];
    if (!h) return undefined;
    const e = h.event;
    const summary =
      h.status === 'loaded' || h.status === 'duplicate'
        ? `bill ${e.kingdeeNumber ?? e.kingdeeId ?? e.billKey ?? '?'}`
        : [e.errorField ? `${e.errorField}: ` : '', e.errorMessage ?? e.reason ?? ''].join('');
    return { ...order, status: h.status, stage: h.stage, summary, occurredAt: h.occurred_at };
  }

  /** Waits for every order's outcome (or the timeout); calls `onOutcome` as each arrives; returns the rest. */
  async waitAll(
    orders: AwaitedOrder[],
    since: Date,
    timeoutMs: number,
    onOutcome: (o: OrderOutcome) => void,
    pollMs = 500,
  ): Promise<AwaitedOrder[]> {
    const open = new Set(orders);
    const deadline = Date.now() + timeoutMs;
    while (open.size > 0 && Date.now() < deadline) {
      for (const o of [...open]) {
        const outcome = await this.after(o, since);
        if (outcome) {
          open.delete(o);
          onOutcome(outcome);
        }
      }
      if (open.size > 0) await new Promise((r) => setTimeout(r, pollMs));
    }
    return [...open];
  }
}
