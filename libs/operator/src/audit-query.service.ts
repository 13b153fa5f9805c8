import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AUDIT_STATUSES } from '@libs/contracts';
import { DATA_SOURCE } from '@libs/runtime';
import { piiSourceFields, piiTargetFields } from '@libs/scheme';
import { OperatorActionsService } from './operator-actions.service';
import { SCHEME_CATALOG, SchemeCatalog } from './operator.tokens';
import { Page, SqlFilter, toPage } from './paging.util';
import { CircuitSummary, readLoaderCircuit } from './service-status.util';

export const AUDIT_ORDER_COLUMNS = `scheme_id AS "schemeId", source_key AS "sourceKey", status, stage, reason,
  error_class AS "errorClass", error_message AS "errorMessage", error_field AS "errorField",
  kingdee_id AS "kingdeeId", kingdee_number AS "kingdeeNumber", bill_key AS "billKey", attempts,
  latency_ms AS "latencyMs", dead_letter_id::text AS "deadLetterId", correlation_id AS "correlationId",
  last_event_id::text AS "lastEventId", last_occurred_at AS "lastOccurredAt", first_seen_at AS "firstSeenAt",
  updated_at AS "updatedAt", bill_state AS "billState", bill_at AS "billAt", latest_version AS "sourceVersion",
  closed_by AS "closedBy", closed_reason AS "closedReason"`;

/**
 * An order's row as the API answers it: the bill first (what Kingdee holds), then the latest source
 * version's outcome; the flat fields stay for clients written before the split.
 */
export function orderView(row: Record<string, unknown>): Record<string, unknown> {
  return {
    schemeId: row.schemeId,
    sourceKey: row.sourceKey,
    bill: {
      state: row.billState,
      kingdeeId: row.kingdeeId,
      number: row.kingdeeNumber,
      billKey: row.billKey,
      at: row.billAt,
    },
    latest: {
      status: row.status,
      stage: row.stage,
      sourceVersion: row.sourceVersion,
      reason: row.reason,
      errorClass: row.errorClass,
      errorMessage: row.errorMessage,
      errorField: row.errorField,
      closedBy: row.closedBy,
      closedReason: row.closedReason,
      occurredAt: row.lastOccurredAt,
    },
    ...row,
  };
}

export const RESYNC_COLUMNS = `id::text AS id, scheme_id AS "schemeId", order_no AS "orderNo",
  requested_by AS "requestedBy", requested_at AS "requestedAt", state, result, done_at AS "doneAt"`;

export interface AuditOrdersFilter {
  status?: string;
  schemeId?: string;
  stage?: string;
  from?: string;
  to?: string;
  /** Part of the order number, case-insensitive. */
  q?: string;
  limit: number;
  offset: number;
}

/** `q` as a LIKE pattern matching itself anywhere (`%`, `_` and `\\` escaped). */
export function containsPattern(q: string): string {
  return `%${q.toUpperCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Read side of the audit trail: audit_orders (latest per order and scheme) and audit_history. */
@Injectable()
export class AuditQueryService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    private readonly actions: OperatorActionsService,
    @Inject(SCHEME_CATALOG) private readonly catalog: SchemeCatalog,
  ) {}

  /** Target fields any scheme maps personal data into, and the source fields pii-flagged mappings read. */
  piiKeys(): Set<string> {
    const keys = new Set<string>();
    try {
      for (const scheme of this.catalog.list())
        for (const k of [...piiTargetFields(scheme), ...piiSourceFields(scheme)]) keys.add(k);
    } catch {
      /* broken scheme files are reported by /api/schemes; receiver fields are masked anyway */
    }
    return keys;
  }

  /** The order's rows (one per scheme), its history (newest first, paged), dead letters and resyncs. */
  async order(
    orderNo: string,
    q: { schemeId?: string; limit: number; offset: number },
  ): Promise<{
    orderNo: string;
    orders: Record<string, unknown>[];
    history: Page<Record<string, unknown>>;
    deadLetters: Record<string, unknown>[];
    resyncRequests: Record<string, unknown>[];
  } | null> {
    const scope = new SqlFilter().add('source_key = ?', orderNo).add('scheme_id = ?', q.schemeId);
    const orders: Record<string, unknown>[] = (
      await this.ds.query(
        `SELECT ${AUDIT_ORDER_COLUMNS} FROM audit_orders ${scope.where} ORDER BY scheme_id`,
        scope.params,
      )
    ).map(orderView);
    const h = new SqlFilter().add('h.source_key = ?', orderNo).add('h.scheme_id = ?', q.schemeId);
    const history: Record<string, unknown>[] = await this.ds.query(
      `SELECT h.event_id::text AS "eventId", h.scheme_id AS "schemeId", h.source_key AS "sourceKey", h.stage,
              h.status, h.occurred_at AS "occurredAt", h.recorded_at AS "recordedAt", h.event,
              CASE WHEN t.attempt_id IS NULL THEN NULL ELSE json_build_object(
                'attemptId', t.attempt_id, 'operation', t.operation, 'outcome', t.outcome, 'at', t.at,
                'request', t.request, 'reply', t.reply, 'requestBytes', t.request_bytes,
                'replyBytes', t.reply_bytes) END AS attempt
         FROM audit_history h
         LEFT JOIN audit_attempts t
           ON t.attempt_id = h.attempt_id AND t.scheme_id = h.scheme_id AND t.source_key = h.source_key
         ${h.where}
        ORDER BY h.occurred_at DESC, h.recorded_at DESC, h.event_id DESC
        LIMIT ${h.param(q.limit + 1)} OFFSET ${h.param(q.offset)}`,
      h.params,
    );
    const d = new SqlFilter().add('source_key = ?', orderNo).add('scheme_id = ?', q.schemeId);
    const deadLetters: Record<string, unknown>[] = await this.ds.query(
      `SELECT event_id::text AS id, stage, state, error_message AS "errorMessage", occurred_at AS "occurredAt"
         FROM dead_letters ${d.where} ORDER BY occurred_at DESC LIMIT 50`,
      d.params,
    );
    const r = new SqlFilter().add('order_no = ?', orderNo).add('scheme_id = ?', q.schemeId);
    const resyncRequests: Record<string, unknown>[] = await this.ds.query(
      `SELECT ${RESYNC_COLUMNS} FROM resync_requests ${r.where} ORDER BY requested_at DESC LIMIT 50`,
      r.params,
    );
    if (
      orders.length === 0 &&
      history.length === 0 &&
      deadLetters.length === 0 &&
      resyncRequests.length === 0
    )
      return null;
    return { orderNo, orders, history: toPage(history, q.limit, q.offset), deadLetters, resyncRequests };
  }

  /**
   * Orders by status / scheme / stage / part of the order number and time range (on
   * last_occurred_at), newest first. The number is matched anywhere (upper(source_key) LIKE
   * '%Q%'): no pg_trgm here, so a contains-search reads audit_orders' narrow rows (one per order),
   * narrowed first by the other filters' indexes; fine for the hundreds of thousands of orders a
   * retention holds (the prefix index of migration order-snapshots serves `LIKE 'Q%'` if needed).
   */
  async orders(q: AuditOrdersFilter): Promise<Page<Record<string, unknown>>> {
    const f = this.ordersFilter(q);
    const rows: Record<string, unknown>[] = await this.ds.query(
      `SELECT ${AUDIT_ORDER_COLUMNS} FROM audit_orders ${f.where}
        ORDER BY last_occurred_at DESC, scheme_id, source_key
        LIMIT ${f.param(q.limit + 1)} OFFSET ${f.param(q.offset)}`,
      f.params,
    );
    return toPage(rows.map(orderView), q.limit, q.offset);
  }

  /** How many orders match the filters of `orders` (all pages). */
  async countOrders(q: Omit<AuditOrdersFilter, 'limit' | 'offset'>): Promise<number> {
    const f = this.ordersFilter(q);
    const [{ n }] = (await this.ds.query(
      `SELECT count(*)::int AS n FROM audit_orders ${f.where}`,
      f.params,
    )) as Array<{ n: number }>;
    return n;
  }

  private ordersFilter(q: Omit<AuditOrdersFilter, 'limit' | 'offset'>): SqlFilter {
    return new SqlFilter()
      .add('status = ?', q.status)
      .add('scheme_id = ?', q.schemeId)
      .add('stage = ?', q.stage)
      .add(`upper(source_key) LIKE ? ESCAPE '\\'`, q.q === undefined ? undefined : containsPattern(q.q))
      .add('last_occurred_at >= ?', q.from)
      .add('last_occurred_at < ?', q.to);
  }

  /** Counts per status (scheme / time range on last_occurred_at), dead letters, resyncs, circuit, actions. */
  async stats(q: { schemeId?: string; from?: string; to?: string }): Promise<{
    counts: Record<string, number>;
    total: number;
    deadLetters: Record<string, number>;
    pendingResyncs: number;
    circuit: CircuitSummary;
    recentActions: unknown[];
  }> {
    const f = new SqlFilter()
      .add('scheme_id = ?', q.schemeId)
      .add('last_occurred_at >= ?', q.from)
      .add('last_occurred_at < ?', q.to);
    const counts: Record<string, number> = {
      ...Object.fromEntries(AUDIT_STATUSES.map((s) => [s, 0])),
      ...(await this.countBy(
        `SELECT status AS k, count(*)::int AS n FROM audit_orders ${f.where} GROUP BY status`,
        f.params,
      )),
    };
    const d = new SqlFilter()
      .add('scheme_id = ?', q.schemeId)
      .add('occurred_at >= ?', q.from)
      .add('occurred_at < ?', q.to);
    const deadLetters = await this.countBy(
      `SELECT state AS k, count(*)::int AS n FROM dead_letters ${d.where} GROUP BY state`,
      d.params,
    );
    const r = new SqlFilter().add(`state = ?`, 'pending').add('scheme_id = ?', q.schemeId);
    const [{ n: pendingResyncs }] = (await this.ds.query(
      `SELECT count(*)::int AS n FROM resync_requests ${r.where}`,
      r.params,
    )) as Array<{ n: number }>;
    const recent = await this.actions.list({ limit: 20, offset: 0 });
    return {
      counts,
      total: Object.values(counts).reduce((a, b) => a + b, 0),
      deadLetters,
      pendingResyncs,
      circuit: await readLoaderCircuit(this.ds),
      recentActions: recent.items,
    };
  }

  private async countBy(sql: string, params: unknown[]): Promise<Record<string, number>> {
    const rows: Array<{ k: string; n: number }> = await this.ds.query(sql, params);
    return Object.fromEntries(rows.map((row) => [row.k, row.n]));
  }
}
