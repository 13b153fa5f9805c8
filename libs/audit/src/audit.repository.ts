import { DataSource, EntityManager } from 'typeorm';
import { AuditEvent, DeadLetterEnvelope } from '@libs/contracts';
import { applyEvent, OrderFacts } from './order-facts';

/** audit_orders columns as OrderFacts fields (times as ISO text). */
export const ORDER_FACT_COLUMNS = `scheme_id AS "schemeId", source_key AS "sourceKey", status, stage, reason,
  error_class AS "errorClass", error_message AS "errorMessage", error_field AS "errorField",
  kingdee_id AS "kingdeeId", kingdee_number AS "kingdeeNumber", bill_key AS "billKey",
  bill_state AS "billState", to_json(bill_at) #>> '{}' AS "billAt", bill_source AS "billSource",
  COALESCE(attempts, 0) AS attempts, latency_ms AS "latencyMs", dead_letter_id::text AS "deadLetterId",
  correlation_id AS "correlationId", last_event_id::text AS "lastEventId",
  to_json(last_occurred_at) #>> '{}' AS "lastOccurredAt", to_json(first_seen_at) #>> '{}' AS "firstSeenAt",
  latest_version AS "latestVersion", closed_by AS "closedBy", closed_reason AS "closedReason",
  attempt_id::text AS "attemptId"`;

/** Latest statuses that mean the newest version of the order holds its bill: its dead letters are moot. */
const DONE_WITH_BILL = ['loaded', 'duplicate'];

/**
 * Writes audit events and dead letters to Postgres. Every write is idempotent (keyed by event id),
 * so replaying the audit or dead-letter topic changes nothing. An order's row holds two facts (see
 * {@link OrderFacts}): what Kingdee holds, and the latest version's outcome.
 */
export class AuditRepository {
  constructor(private readonly ds: DataSource) {}

  /** Returns the events seen for the first time (a replay returns none). */
  async recordAuditEvents(events: AuditEvent[]): Promise<AuditEvent[]> {
    if (events.length === 0) return [];
    return this.ds.transaction(async (tx) => {
      const fresh: AuditEvent[] = [];
      for (const e of events) {
        // Raw: INSERT … ON CONFLICT DO NOTHING RETURNING tells whether this event is new, in one statement.
        const inserted: unknown[] = await tx.query(
          `INSERT INTO audit_history (event_id, scheme_id, source_key, stage, status, occurred_at, recorded_at, event,
             attempt_id, source_version)
           VALUES ($1, $2, $3, $4, $5, $6, now(), $7, $8, $9) ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
          [
            e.eventId,
            e.schemeId,
            e.sourceKey,
            e.stage,
            e.status,
            e.occurredAt,
            JSON.stringify(e),
            e.attemptId ?? null,
            e.sourceVersion ?? null,
          ],
        );
        if (inserted.length > 0) fresh.push(e); // seen before: replay changes nothing
      }
      if (fresh.length > 0) await this.applyToOrders(tx, fresh);
      return fresh;
    });
  }

  /** Folds events into their orders' rows, under row locks, in the order they came. */
  async applyToOrders(tx: EntityManager, events: AuditEvent[]): Promise<OrderFacts[]> {
    const keys = [...new Map(events.map((e) => [`${e.schemeId}\u0000${e.sourceKey}`, e])).values()];
    // Raw: row locks (FOR UPDATE) over an unnest list of keys, in key order.
    const current: OrderFacts[] = await tx.query(
      `SELECT ${ORDER_FACT_COLUMNS} FROM audit_orders
        WHERE (scheme_id, source_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))
        ORDER BY scheme_id, source_key FOR UPDATE`,
      [keys.map((e) => e.schemeId), keys.map((e) => e.sourceKey)],
    );
    const rows = new Map(current.map((r) => [`${r.schemeId}\u0000${r.sourceKey}`, r]));
    for (const e of events) {
      const k = `${e.schemeId}\u0000${e.sourceKey}`;
      rows.set(k, applyEvent(rows.get(k), e));
    }
    const touched = new Set(keys.map((e) => `${e.schemeId}\u0000${e.sourceKey}`));
    const next = [...rows.entries()].filter(([k]) => touched.has(k)).map(([, r]) => r);
    for (const r of next) await this.saveOrder(tx, r);
    // A dead letter of an order whose newest version holds its bill needs nobody: closed, with why.
    const done = next.filter((r) => DONE_WITH_BILL.includes(r.status) && r.billState !== 'none');
    if (done.length > 0)
      // Raw: UPDATE … FROM (a join with audit_orders) over an unnest list of keys.
      await tx.query(
        `UPDATE dead_letters d SET state = 'closed', closed_at = now(), closed_by = 'audit-writer',
                closed_reason = 'order ' || d.source_key || ' is loaded as bill ' || COALESCE(o.kingdee_number, o.kingdee_id, '?')
           FROM audit_orders o
          WHERE d.state = 'parked' AND d.scheme_id = o.scheme_id AND d.source_key = o.source_key
            AND (o.scheme_id, o.source_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))
            AND (d.source_version IS NULL OR o.latest_version IS NULL OR d.source_version <= o.latest_version)`,
        [done.map((r) => r.schemeId), done.map((r) => r.sourceKey)],
      );
    return next;
  }

  async saveOrder(tx: EntityManager, r: OrderFacts): Promise<void> {
    // Raw: a conditional upsert (DO UPDATE … WHERE the stored fact is not newer): statuses never go backwards.
    await tx.query(
      `INSERT INTO audit_orders AS a (scheme_id, source_key, status, stage, reason, error_class, error_message,
         error_field, kingdee_id, kingdee_number, bill_key, attempts, latency_ms, dead_letter_id, correlation_id,
         last_event_id, last_occurred_at, first_seen_at, updated_at, bill_state, bill_at, bill_source,
         latest_version, closed_by, closed_reason, attempt_id)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,now(),$19,$20,$21,$22,$23,$24,$25)
       ON CONFLICT (scheme_id, source_key) DO UPDATE SET
         status = EXCLUDED.status, stage = EXCLUDED.stage, reason = EXCLUDED.reason,
         error_class = EXCLUDED.error_class, error_message = EXCLUDED.error_message,
         error_field = EXCLUDED.error_field, kingdee_id = EXCLUDED.kingdee_id,
         kingdee_number = EXCLUDED.kingdee_number, bill_key = EXCLUDED.bill_key, attempts = EXCLUDED.attempts,
         latency_ms = EXCLUDED.latency_ms, dead_letter_id = EXCLUDED.dead_letter_id,
         correlation_id = EXCLUDED.correlation_id, last_event_id = EXCLUDED.last_event_id,
         last_occurred_at = EXCLUDED.last_occurred_at, first_seen_at = EXCLUDED.first_seen_at, updated_at = now(),
         bill_state = EXCLUDED.bill_state, bill_at = EXCLUDED.bill_at, bill_source = EXCLUDED.bill_source,
         latest_version = EXCLUDED.latest_version, closed_by = EXCLUDED.closed_by,
         closed_reason = EXCLUDED.closed_reason, attempt_id = EXCLUDED.attempt_id`,
      [
        r.schemeId,
        r.sourceKey,
        r.status,
        r.stage,
        r.reason,
        r.errorClass,
        r.errorMessage,
        r.errorField,
        r.kingdeeId,
        r.kingdeeNumber,
        r.billKey,
        r.attempts,
        r.latencyMs,
        r.deadLetterId,
        r.correlationId,
        r.lastEventId,
        r.lastOccurredAt,
        r.firstSeenAt,
        r.billState,
        r.billAt,
        r.billSource,
        r.latestVersion,
        r.closedBy,
        r.closedReason,
        r.attemptId,
      ],
    );
  }

  async recordDeadLetters(envelopes: DeadLetterEnvelope[]): Promise<void> {
    for (const d of envelopes) {
      // Raw: INSERT … ON CONFLICT DO NOTHING keyed on event_id, inside the audit writer's batch transaction.
      await this.ds.query(
        `INSERT INTO dead_letters (event_id, stage, scheme_id, source_key, error_class, error_message, attempts,
           origin_topic, origin_partition, origin_offset, origin_key, payload, state, occurred_at, source_version)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,'parked',$13,$14) ON CONFLICT (event_id) DO NOTHING`,
        [
          d.eventId,
          d.stage,
          d.schemeId ?? null,
          d.sourceKey ?? null,
          d.errorClass,
          d.errorMessage,
          d.attempts,
          d.origin.topic,
          d.origin.partition,
          d.origin.offset,
          d.origin.key,
          JSON.stringify(d.payload),
          d.occurredAt,
          d.sourceVersion ?? null,
        ],
      );
      // Parked about a version older than the one that already holds its bill (e.g. a stale payload
      // re-pushed): nothing to do for anyone.
      // Raw: UPDATE … FROM (a join with audit_orders) decides whether the dead letter is already loaded.
      await this.ds.query(
        `UPDATE dead_letters d SET state = 'closed', closed_at = now(), closed_by = 'audit-writer',
                closed_reason = 'order ' || d.source_key || ' is already loaded as bill ' || COALESCE(o.kingdee_number, o.kingdee_id, '?')
           FROM audit_orders o
          WHERE d.event_id = $1 AND d.state = 'parked' AND o.scheme_id = d.scheme_id AND o.source_key = d.source_key
            AND o.status = ANY($2::text[]) AND o.bill_state <> 'none'
            AND d.source_version IS NOT NULL AND o.latest_version IS NOT NULL AND d.source_version <= o.latest_version`,
        [d.eventId, DONE_WITH_BILL],
      );
    }
  }
}
