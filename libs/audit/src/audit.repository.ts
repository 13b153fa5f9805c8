import { DataSource } from 'typeorm';
import { AuditEvent, DeadLetterEnvelope } from '@libs/contracts';

/**
 * Writes audit events and dead letters to Postgres. Every write is an idempotent upsert keyed by
 * event id, so replaying the audit or dead-letter topic changes nothing.
 */
export class AuditRepository {
  constructor(private readonly ds: DataSource) {}

  /** Returns the events seen for the first time (a replay returns none). */
  async recordAuditEvents(events: AuditEvent[]): Promise<AuditEvent[]> {
    const fresh: AuditEvent[] = [];
    if (events.length === 0) return fresh;
    await this.ds.transaction(async (tx) => {
      for (const e of events) {
        const inserted: unknown[] = await tx.query(
          `INSERT INTO audit_history (event_id, scheme_id, source_key, stage, status, occurred_at, recorded_at, event)
           VALUES ($1, $2, $3, $4, $5, $6, now(), $7) ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
          [e.eventId, e.schemeId, e.sourceKey, e.stage, e.status, e.occurredAt, JSON.stringify(e)],
        );
        if (inserted.length === 0) continue; // seen before: replay changes nothing
        fresh.push(e);
        // Latest status wins by occurrence time (event id breaks ties); Kingdee ids, once known, are kept.
        await tx.query(
          `INSERT INTO audit_orders AS a (scheme_id, source_key, status, stage, reason, error_class, error_message,
             error_field, kingdee_id, kingdee_number, bill_key, attempts, latency_ms, dead_letter_id, correlation_id,
             last_event_id, last_occurred_at, first_seen_at, updated_at)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$17,now())
           ON CONFLICT (scheme_id, source_key) DO UPDATE SET
             status = EXCLUDED.status, stage = EXCLUDED.stage, reason = EXCLUDED.reason,
             error_class = EXCLUDED.error_class, error_message = EXCLUDED.error_message,
             error_field = EXCLUDED.error_field,
             kingdee_id = COALESCE(EXCLUDED.kingdee_id, a.kingdee_id),
             kingdee_number = COALESCE(EXCLUDED.kingdee_number, a.kingdee_number),
             bill_key = COALESCE(EXCLUDED.bill_key, a.bill_key),
             attempts = EXCLUDED.attempts, latency_ms = EXCLUDED.latency_ms,
             dead_letter_id = EXCLUDED.dead_letter_id, correlation_id = EXCLUDED.correlation_id,
             last_event_id = EXCLUDED.last_event_id, last_occurred_at = EXCLUDED.last_occurred_at,
             first_seen_at = LEAST(a.first_seen_at, EXCLUDED.first_seen_at), updated_at = now()
           WHERE (a.last_occurred_at, a.last_event_id::text) < (EXCLUDED.last_occurred_at, EXCLUDED.last_event_id::text)
             -- a redelivered document found already loaded keeps the order "loaded" (history shows it)
             AND NOT (EXCLUDED.status = 'duplicate' AND a.status = 'loaded')
             -- "on its way" never replaces "its bill exists": the order's status does not go backwards
             AND NOT (EXCLUDED.status IN ('parked', 'settling', 'saved_not_audited', 'waiting_base_data')
                      AND a.status IN ('loaded', 'changed_after_load', 'duplicate', 'conflict_in_erp', 'duplicate_in_erp'))`,
          [
            e.schemeId,
            e.sourceKey,
            e.status,
            e.stage,
            e.reason ?? null,
            e.errorClass ?? null,
            e.errorMessage ?? null,
            e.errorField ?? null,
            e.kingdeeId ?? null,
            e.kingdeeNumber ?? null,
            e.billKey ?? null,
            e.attempts ?? null,
            e.latencyMs ?? null,
            e.deadLetterId ?? null,
            e.correlationId,
            e.eventId,
            e.occurredAt,
          ],
        );
      }
    });
    return fresh;
  }

  async recordDeadLetters(envelopes: DeadLetterEnvelope[]): Promise<void> {
    for (const d of envelopes) {
      await this.ds.query(
        `INSERT INTO dead_letters (event_id, stage, scheme_id, source_key, error_class, error_message, attempts,
           origin_topic, origin_partition, origin_offset, origin_key, payload, state, occurred_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,'parked',$13) ON CONFLICT (event_id) DO NOTHING`,
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
        ],
      );
    }
  }
}
