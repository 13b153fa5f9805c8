import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { clusterByTime, parseShanghai, REREAD_CLUSTER_SPAN_MS } from '@libs/common';
import { CONTENT_TYPE_JSON, HEADER } from '@libs/contracts';
import { EventProducer } from '@libs/kafka';
import { DATA_SOURCE, PRODUCER } from '@libs/runtime';
import { DeadLetterRow, DeadLettersService, isWdtOrigin } from './dead-letters.service';
import { RepushItem, RepushOutcome, RepushRequest } from './operator-api.schema';
import { OperatorActionsService } from './operator-actions.service';
import { ResyncService } from './resync.service';

interface OrderRow {
  schemeId: string;
  sourceKey: string;
  status: string;
  deadLetterId: string | null;
}

/** Headers a re-pushed message carries: the contract headers when the bytes are an event, plus provenance. */
export function repushHeaders(bytes: Buffer, row: DeadLetterRow, by: string): Record<string, string> {
  const headers: Record<string, string> = { 'x-repushed-by': by, 'x-dead-letter-id': row.id };
  try {
    const event = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    if (typeof event.eventType === 'string') headers[HEADER.eventType] = event.eventType;
    if (typeof event.schemaVersion === 'number') headers[HEADER.schemaVersion] = String(event.schemaVersion);
    const correlation = event.correlationId ?? event.orderNo ?? event.sourceKey ?? row.sourceKey;
    if (typeof correlation === 'string') headers[HEADER.correlationId] = correlation;
    headers[HEADER.contentType] = CONTENT_TYPE_JSON;
  } catch {
    /* not JSON: provenance headers only */
  }
  return headers;
}

/** The WDT order number of an extractor dead letter: its source key, or the order inside its payload. */
export function wdtOrderNo(row: DeadLetterRow, bytes: Buffer | undefined): string | undefined {
  const key = row.sourceKey ?? row.originKey ?? '';
  // Keys that are not order numbers: a page position, an origin, a stockout id or a content hash.
  if (key && !/^#|wdt:|^stockout:|^hash:|\//.test(key)) return key;
  if (!bytes) return undefined;
  try {
    const value = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    const record = (value.record ?? value) as Record<string, unknown>;
    const orderNo = value.orderNo ?? record.order_no;
    return typeof orderNo === 'string' && orderNo.length > 0 ? orderNo : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Re-push reads the source again by default: a failed or dead-lettered order becomes a request
 * (trigger `repush`) the extractor leader carries out — the order's current version from WDT,
 * re-emitted past the fingerprint filter — so a payload parked before the order was fixed is never
 * sent again by mistake. A dead letter whose order is already loaded is closed instead. With
 * `payload`, a dead letter's parked bytes go back to the topic they came from, as they are. Each
 * item's outcome is answered and recorded as an operator action.
 */
@Injectable()
export class RepushService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(PRODUCER) private readonly producer: EventProducer,
    private readonly deadLetters: DeadLettersService,
    private readonly resync: ResyncService,
    private readonly actions: OperatorActionsService,
  ) {}

  async repush(
    body: RepushRequest,
    by: string,
  ): Promise<{
    results: RepushItem[];
    summary: Record<string, number>;
    truncated: boolean;
    wdtCalls: number;
  }> {
    const results: RepushItem[] = [];
    const handled = new Set<string>();
    for (const id of new Set(body.deadLetterIds ?? [])) {
      handled.add(id);
      results.push({ kind: 'dead_letter', target: id, ...(await this.repushDeadLetter(id, by, body)) });
    }
    const orders: Array<{ orderNo: string; rows: OrderRow[] }> = [];
    for (const orderNo of new Set(body.orderNos ?? [])) {
      orders.push({ orderNo, rows: await this.orderRows({ sourceKey: orderNo, schemeId: body.schemeId }) });
    }
    let truncated = false;
    if (body.all) {
      const rows = await this.orderRows({
        status: body.all.status,
        schemeId: body.all.schemeId,
        limit: body.all.limit + 1,
      });
      truncated = rows.length > body.all.limit;
      for (const row of rows.slice(0, body.all.limit)) orders.push({ orderNo: row.sourceKey, rows: [row] });
    }
    for (const { orderNo, rows } of orders) {
      if (rows.length === 0) {
        results.push(this.item('order', orderNo, null, orderNo, 'not_found', { reason: 'no audit record' }));
        continue;
      }
      for (const row of rows) results.push(await this.repushOrder(row, by, body, handled));
    }
    const wdtCalls = await this.estimateWdtCalls(
      results.filter((r) => ['planned', 'resync_requested', 'resync_pending'].includes(r.outcome)),
    );
    if (body.dryRun) return { results, summary: summarise(results), truncated, wdtCalls };
    await this.actions.record(
      results.map((r) => ({
        tokenName: by,
        action: r.kind === 'dead_letter' ? 'repush.dead_letter' : 'repush.order',
        target: r.kind === 'order' && r.schemeId ? `${r.schemeId}/${r.target}` : r.target,
        params: {
          force: body.force,
          payload: body.payload,
          ...(body.all ? { all: body.all } : {}),
          ...(r.deadLetterId ? { deadLetterId: r.deadLetterId } : {}),
          ...(r.resyncRequestId ? { resyncRequestId: r.resyncRequestId } : {}),
        },
        outcome: r.reason ? `${r.outcome}: ${r.reason}` : r.outcome,
      })),
    );
    return { results, summary: summarise(results), truncated, wdtCalls };
  }

  private item(
    kind: RepushItem['kind'],
    target: string,
    schemeId: string | null,
    orderNo: string | null,
    outcome: RepushOutcome,
    extra: Partial<RepushItem> = {},
  ): RepushItem {
    return { kind, target, schemeId, orderNo, outcome, ...extra };
  }

  private async orderRows(q: {
    sourceKey?: string;
    status?: string;
    schemeId?: string;
    limit?: number;
  }): Promise<OrderRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.sourceKey !== undefined) where.push(`source_key = $${params.push(q.sourceKey)}`);
    if (q.status !== undefined) where.push(`status = $${params.push(q.status)}`);
    if (q.schemeId !== undefined) where.push(`scheme_id = $${params.push(q.schemeId)}`);
    const limit = q.limit !== undefined ? `LIMIT $${params.push(q.limit)}` : '';
    // Raw: the re-push selection's optional filters and limit in the API's shape.
    return this.ds.query(
      `SELECT scheme_id AS "schemeId", source_key AS "sourceKey", status, dead_letter_id::text AS "deadLetterId"
         FROM audit_orders ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY last_occurred_at, scheme_id, source_key ${limit}`,
      params,
    );
  }

  private async repushOrder(
    row: OrderRow,
    by: string,
    body: RepushRequest,
    handled: Set<string>,
  ): Promise<RepushItem> {
    const { schemeId, sourceKey: orderNo } = row;
    if (row.status === 'dead_lettered' && row.deadLetterId) {
      if (handled.has(row.deadLetterId))
        return this.item('order', orderNo, schemeId, orderNo, 'skipped', {
          deadLetterId: row.deadLetterId,
          reason: 'its dead letter is handled by this request already',
        });
      handled.add(row.deadLetterId);
      const r = await this.repushDeadLetter(row.deadLetterId, by, body);
      if (r.outcome !== 'not_found')
        return { kind: 'order', target: orderNo, ...r, deadLetterId: row.deadLetterId };
      // The audit row names a dead letter the audit writer has not stored: re-fetch the order instead.
    }
    // An order waiting for base data is re-fetched too (its newer version loads once the code is usable).
    if (['failed', 'dead_lettered', 'closed', 'waiting_base_data'].includes(row.status)) {
      if (body.dryRun) return this.item('order', orderNo, schemeId, orderNo, 'planned');
      const r = await this.ds.transaction((tx) => this.resync.request(schemeId, orderNo, by, tx, 'repush'));
      return this.item(
        'order',
        orderNo,
        schemeId,
        orderNo,
        r.created ? 'resync_requested' : 'resync_pending',
        {
          resyncRequestId: r.id,
        },
      );
    }
    return this.item('order', orderNo, schemeId, orderNo, 'skipped', {
      reason: `order is ${row.status}; POST /api/resync re-fetches it anyway`,
    });
  }

  /**
   * One dead letter, under a row lock held until the outcome is recorded: a concurrent re-push of
   * the same row waits and then finds it repushed. A crash after publishing and before commit
   * leaves it parked (a second re-push duplicates, which downstream absorbs); never the reverse.
   */
  private async repushDeadLetter(
    id: string,
    by: string,
    body: Pick<RepushRequest, 'force' | 'payload' | 'dryRun'>,
  ): Promise<Omit<RepushItem, 'kind' | 'target'>> {
    const { force } = body;
    return this.ds.transaction(async (tx) => {
      // Raw: a row lock (FOR UPDATE) on the dead letter while it is re-pushed.
      const locked: unknown[] = await tx.query(`SELECT 1 FROM dead_letters WHERE event_id = $1 FOR UPDATE`, [
        id,
      ]);
      const row = locked.length > 0 ? await this.deadLetters.get(id, tx) : undefined;
      if (!row)
        return {
          schemeId: null,
          orderNo: null,
          outcome: 'not_found' as const,
          reason: 'no such dead letter',
        };
      const base = { schemeId: row.schemeId, orderNo: row.sourceKey };
      if (row.state !== 'parked' && !force) {
        const who = row.repushedBy
          ? ` by ${row.repushedBy} at ${new Date(row.repushedAt ?? 0).toISOString()}`
          : '';
        return {
          ...base,
          outcome: 'skipped' as const,
          reason: `already ${row.state}${who}; pass force to re-push`,
        };
      }
      let bytes: Buffer | undefined;
      try {
        bytes = await this.deadLetters.originalBytes(row, tx);
      } catch (err) {
        return { ...base, outcome: 'failed' as const, reason: (err as Error).message };
      }
      if (!body.payload || isWdtOrigin(row.originTopic)) {
        const orderNo = wdtOrderNo(row, bytes);
        const bill = row.schemeId && orderNo ? await this.loadedBill(tx, row.schemeId, orderNo) : undefined;
        if (bill) {
          const reason = `order ${orderNo} is already loaded as bill ${bill}; nothing to re-push`;
          if (!body.dryRun) await this.close(tx, row.id, by, reason);
          return { ...base, orderNo: orderNo ?? null, outcome: 'closed' as const, reason };
        }
        if (orderNo && row.schemeId) {
          if (body.dryRun) return { ...base, orderNo, outcome: 'planned' as const };
          return this.resyncDeadLetter(tx, row, bytes, by);
        }
        if (isWdtOrigin(row.originTopic))
          return {
            ...base,
            outcome: 'failed' as const,
            reason: `no order number to read again (${row.errorMessage}); re-read its window with \`npm run backfill\``,
          };
        // A message of a topic without an order number: only its bytes can be sent again.
      }
      if (body.dryRun) return { ...base, outcome: 'planned' as const };
      if (!bytes)
        return {
          ...base,
          outcome: 'failed' as const,
          reason: 'original bytes are missing from dead_letter_payloads',
        };
      try {
        await this.producer.publishRaw(row.originTopic, row.originKey, bytes, repushHeaders(bytes, row, by));
      } catch (err) {
        return { ...base, outcome: 'failed' as const, reason: `publish failed: ${(err as Error).message}` };
      }
      await this.markRepushed(tx, row.id, by);
      return { ...base, outcome: 'repushed' as const, topic: row.originTopic };
    });
  }

  private async resyncDeadLetter(
    tx: EntityManager,
    row: DeadLetterRow,
    bytes: Buffer | undefined,
    by: string,
  ): Promise<Omit<RepushItem, 'kind' | 'target'>> {
    const orderNo = wdtOrderNo(row, bytes);
    const base = { schemeId: row.schemeId, orderNo: orderNo ?? null };
    if (!row.schemeId || !orderNo)
      return {
        ...base,
        outcome: 'failed',
        reason: `extractor dead letter without ${row.schemeId ? 'an order number' : 'a scheme id'}: cannot resync`,
      };
    const r = await this.resync.request(row.schemeId, orderNo, by, tx, 'repush');
    await this.markRepushed(tx, row.id, by);
    return { ...base, outcome: r.created ? 'resync_requested' : 'resync_pending', resyncRequestId: r.id };
  }

  /**
   * WDT calls the re-reads take at least: the extractor reads orders last seen within
   * REREAD_CLUSTER_SPAN_MS of each other in one window (a page each, more if the window is busy).
   */
  private async estimateWdtCalls(items: RepushItem[]): Promise<number> {
    const bySchemes = new Map<string, string[]>();
    for (const r of items)
      if (r.schemeId && r.orderNo)
        bySchemes.set(r.schemeId, [...(bySchemes.get(r.schemeId) ?? []), r.orderNo]);
    let calls = 0;
    for (const [schemeId, orderNos] of bySchemes) {
      // Raw: a computed column (COALESCE of two source times) for a batch of orders.
      const rows: Array<{ at: string | null }> = await this.ds.query(
        `SELECT COALESCE(consign_time, modified) AS at FROM stockout_fingerprints
          WHERE scheme_id = $1 AND order_no = ANY($2::text[])`,
        [schemeId, orderNos],
      );
      const times = rows.map((r) => (r.at ? parseShanghai(r.at) : undefined)).filter((t) => t !== undefined);
      calls += clusterByTime(times, (t) => t, REREAD_CLUSTER_SPAN_MS).length;
    }
    return calls;
  }

  /** The bill number of an order whose newest version is loaded, if it is. */
  private async loadedBill(
    tx: EntityManager,
    schemeId: string,
    orderNo: string,
  ): Promise<string | undefined> {
    // Raw: a computed column (the bill's number, id or key) in one read.
    const rows: Array<{ bill: string }> = await tx.query(
      `SELECT COALESCE(kingdee_number, kingdee_id, bill_key) AS bill FROM audit_orders
        WHERE scheme_id = $1 AND source_key = $2 AND status IN ('loaded', 'duplicate') AND bill_state <> 'none'`,
      [schemeId, orderNo],
    );
    return rows[0]?.bill;
  }

  private async close(tx: EntityManager, id: string, by: string, reason: string): Promise<void> {
    // Raw: inside the re-push transaction that holds the row lock above.
    await tx.query(
      `UPDATE dead_letters SET state = 'closed', closed_at = now(), closed_by = $2, closed_reason = $3
        WHERE event_id = $1`,
      [id, by, reason],
    );
  }

  private async markRepushed(tx: EntityManager, id: string, by: string): Promise<void> {
    // Raw: inside the re-push transaction that holds the row lock above.
    await tx.query(
      `UPDATE dead_letters SET state = 'repushed', repushed_at = now(), repushed_by = $2 WHERE event_id = $1`,
      [id, by],
    );
  }
}

function summarise(results: RepushItem[]): Record<string, number> {
  const summary: Record<string, number> = {};
  for (const r of results) summary[r.outcome] = (summary[r.outcome] ?? 0) + 1;
  return summary;
}
