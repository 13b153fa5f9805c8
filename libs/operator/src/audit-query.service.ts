import { Inject, Injectable } from '@nestjs/common';
import { DataSource, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { AUDIT_STATUSES } from '@libs/contracts';
import { AuditHistoryEntity, AuditOrderEntity, DeadLetterEntity, ResyncRequestEntity } from '@libs/database';
import { DATA_SOURCE } from '@libs/runtime';
import { piiSourceFields, piiTargetFields } from '@libs/scheme';
import { OperatorActionsService } from './operator-actions.service';
import { SCHEME_CATALOG, SchemeCatalog } from './operator.tokens';
import { Page, toPage, whereDefined } from './paging.util';
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
    const ofOrder = <Q extends SelectQueryBuilder<ObjectLiteral>>(qb: Q, alias: string, key = 'source_key') =>
      whereDefined(qb, [
        [`${alias}.${key} = :orderNo`, { orderNo }],
        [`${alias}.scheme_id = :schemeId`, { schemeId: q.schemeId }],
      ]);
    const orders = (
      await ofOrder(this.table(AuditOrderEntity, 'o').select(AUDIT_ORDER_COLUMNS), 'o')
        .orderBy('o.scheme_id')
        .getRawMany<Record<string, unknown>>()
    ).map(orderView);
    const history = await ofOrder(
      this.table(AuditHistoryEntity, 'h')
        .select(
          `h.event_id::text AS "eventId", h.scheme_id AS "schemeId", h.source_key AS "sourceKey", h.stage,
           h.status, h.occurred_at AS "occurredAt", h.recorded_at AS "recordedAt", h.event,
           CASE WHEN t.attempt_id IS NULL THEN NULL ELSE json_build_object(
             'attemptId', t.attempt_id, 'operation', t.operation, 'outcome', t.outcome, 'at', t.at,
             'request', t.request, 'reply', t.reply, 'requestBytes', t.request_bytes,
             'replyBytes', t.reply_bytes) END AS attempt`,
        )
        .leftJoin(
          'audit_attempts',
          't',
          't.attempt_id = h.attempt_id AND t.scheme_id = h.scheme_id AND t.source_key = h.source_key',
        ),
      'h',
    )
      .orderBy('h.occurred_at', 'DESC')
      .addOrderBy('h.recorded_at', 'DESC')
      .addOrderBy('h.event_id', 'DESC')
      .limit(q.limit + 1)
      .offset(q.offset)
      .getRawMany<Record<string, unknown>>();
    const deadLetters = await ofOrder(
      this.table(DeadLetterEntity, 'd').select(
        `d.event_id::text AS id, d.stage, d.state, d.error_message AS "errorMessage", d.occurred_at AS "occurredAt"`,
      ),
      'd',
    )
      .orderBy('d.occurred_at', 'DESC')
      .limit(50)
      .getRawMany<Record<string, unknown>>();
    const resyncRequests = await ofOrder(
      this.table(ResyncRequestEntity, 'r').select(RESYNC_COLUMNS),
      'r',
      'order_no',
    )
      .orderBy('r.requested_at', 'DESC')
      .limit(50)
      .getRawMany<Record<string, unknown>>();
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
    const rows = await this.ordersFilter(q)
      .select(AUDIT_ORDER_COLUMNS)
      .orderBy('last_occurred_at', 'DESC')
      .addOrderBy('scheme_id')
      .addOrderBy('source_key')
      .limit(q.limit + 1)
      .offset(q.offset)
      .getRawMany<Record<string, unknown>>();
    return toPage(rows.map(orderView), q.limit, q.offset);
  }

  /** How many orders match the filters of `orders` (all pages). */
  async countOrders(q: Omit<AuditOrdersFilter, 'limit' | 'offset'>): Promise<number> {
    return this.ordersFilter(q).getCount();
  }

  private ordersFilter(q: Omit<AuditOrdersFilter, 'limit' | 'offset'>) {
    return whereDefined(this.table(AuditOrderEntity, 'o'), [
      ['status = :status', { status: q.status }],
      ['scheme_id = :schemeId', { schemeId: q.schemeId }],
      ['stage = :stage', { stage: q.stage }],
      [`upper(source_key) LIKE :q ESCAPE '\\'`, { q: q.q === undefined ? undefined : containsPattern(q.q) }],
      ['last_occurred_at >= :from', { from: q.from }],
      ['last_occurred_at < :to', { to: q.to }],
    ]);
  }

  private table<T extends ObjectLiteral>(entity: new () => T, alias: string): SelectQueryBuilder<T> {
    return this.ds.getRepository(entity).createQueryBuilder(alias);
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
    const counts: Record<string, number> = {
      ...Object.fromEntries(AUDIT_STATUSES.map((s) => [s, 0])),
      ...(await this.countBy(
        whereDefined(this.table(AuditOrderEntity, 'o'), [
          ['scheme_id = :schemeId', { schemeId: q.schemeId }],
          ['last_occurred_at >= :from', { from: q.from }],
          ['last_occurred_at < :to', { to: q.to }],
        ]),
        'status',
      )),
    };
    const deadLetters = await this.countBy(
      whereDefined(this.table(DeadLetterEntity, 'd'), [
        ['scheme_id = :schemeId', { schemeId: q.schemeId }],
        ['occurred_at >= :from', { from: q.from }],
        ['occurred_at < :to', { to: q.to }],
      ]),
      'state',
    );
    const pendingResyncs = await whereDefined(this.table(ResyncRequestEntity, 'r'), [
      ['state = :state', { state: 'pending' }],
      ['scheme_id = :schemeId', { schemeId: q.schemeId }],
    ]).getCount();
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

  /** Rows per value of `column`. */
  private async countBy(
    qb: SelectQueryBuilder<ObjectLiteral>,
    column: string,
  ): Promise<Record<string, number>> {
    const rows = await qb
      .select(column, 'k')
      .addSelect('count(*)::int', 'n')
      .groupBy(column)
      .getRawMany<{ k: string; n: number }>();
    return Object.fromEntries(rows.map((row) => [row.k, row.n]));
  }
}
