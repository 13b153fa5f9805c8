import { DataSource, In } from 'typeorm';
import { ParkedMessageEntity, queryRows } from '@libs/database';

/** Which service parked a message: the loader parks Kingdee documents, the transformer raw events. */
export type ParkingStage = 'loader' | 'transformer';

export interface MessageOriginRef {
  topic: string;
  partition: number;
  offset: string;
}

export interface ParkedMessageInput {
  schemeId: string;
  /** The per-key order is kept on this key (bill key for the loader, order number for the transformer). */
  key: string;
  /** Short machine reason (`paused`, `stopped`, `circuit_open`, `behind`, …). */
  reason: string;
  /** What a person reads: why, and what ends it. */
  detail?: string;
  origin: MessageOriginRef;
  payload: Buffer;
}

export interface ParkedMessage extends ParkedMessageInput {
  stage: ParkingStage;
  parkedAt: Date;
}

/**
 * Messages of stopped schemes, waiting in Postgres so their partition can move on (libs/loading
 * README, "A stopped scheme never blocks another"). One row per (stage, scheme, key) holding the
 * newest version: an older version arriving later (a replay) never replaces a newer one of the same
 * partition, and a drained row is removed only if no newer version replaced it meanwhile.
 */
export class ParkedMessageStore {
  constructor(
    private readonly ds: DataSource,
    private readonly stage: ParkingStage,
  ) {}

  /**
   * Parks (or re-parks) messages. `retryAfterMs`: not offered to a drainer before then (a message
   * waiting behind another of its key need not be retried at every drain).
   */
  async park(items: ParkedMessageInput[], retryAfterMs?: number): Promise<void> {
    if (items.length === 0) return;
    // Raw: a conditional upsert over an unnest batch (a message parks once, keeps its first reason).
    await this.ds.query(
      `INSERT INTO parked_messages AS p (stage, scheme_id, message_key, reason, detail, origin_topic,
              origin_partition, origin_offset, payload, parked_at, updated_at, drain_until)
       SELECT $1, u.scheme_id, u.message_key, u.reason, u.detail, u.topic, u.part, u.off, u.payload, now(), now(),
              now() + $10 * interval '1 millisecond'

         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::bigint[], $9::bytea[])
              AS u(scheme_id, message_key, reason, detail, topic, part, off, payload)
       ON CONFLICT (stage, scheme_id, message_key) DO UPDATE SET reason = EXCLUDED.reason, detail = EXCLUDED.detail,
              origin_topic = EXCLUDED.origin_topic, origin_partition = EXCLUDED.origin_partition,
              origin_offset = EXCLUDED.origin_offset, payload = EXCLUDED.payload, updated_at = now(),
              drain_owner = NULL, drain_until = EXCLUDED.drain_until
        WHERE NOT (p.origin_topic = EXCLUDED.origin_topic AND p.origin_partition = EXCLUDED.origin_partition
                   AND p.origin_offset > EXCLUDED.origin_offset)`,
      [
        this.stage,
        items.map((i) => i.schemeId),
        items.map((i) => i.key),
        items.map((i) => i.reason),
        items.map((i) => i.detail ?? null),
        items.map((i) => i.origin.topic),
        items.map((i) => i.origin.partition),
        items.map((i) => i.origin.offset),
        items.map((i) => i.payload),
        retryAfterMs ?? 0,
      ],
    );
  }

  /** Keys of `schemeId` that have a parked message: newer messages of these keys queue behind it. */
  async parkedKeys(schemeId: string, keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = await this.ds.getRepository(ParkedMessageEntity).find({
      select: { messageKey: true },
      where: { stage: this.stage, schemeId, messageKey: In(keys) },
    });
    return new Set(rows.map((r) => r.messageKey));
  }

  /**
   * Takes up to `limit` parked messages of the given schemes (oldest first) for draining: they are
   * leased to `owner` for `leaseMs` so two replicas do not drain the same message at once.
   */
  async take(schemeIds: string[], owner: string, leaseMs: number, limit: number): Promise<ParkedMessage[]> {
    if (schemeIds.length === 0) return [];
    const rows = await queryRows<Record<string, unknown>>(
      this.ds,
      `WITH picked AS (
         SELECT stage, scheme_id, message_key FROM parked_messages
          WHERE stage = $1 AND scheme_id = ANY($2::text[]) AND (drain_until IS NULL OR drain_until < now())
          ORDER BY parked_at LIMIT $5 FOR UPDATE SKIP LOCKED)
       UPDATE parked_messages p SET drain_owner = $3, drain_until = now() + $4 * interval '1 millisecond'
         FROM picked
        WHERE p.stage = picked.stage AND p.scheme_id = picked.scheme_id AND p.message_key = picked.message_key
       RETURNING p.scheme_id, p.message_key, p.reason, p.detail, p.origin_topic, p.origin_partition,
                 p.origin_offset::text AS origin_offset, p.payload, p.parked_at`,
      [this.stage, schemeIds, owner, leaseMs, limit],
    );
    return rows.map((r) => this.toMessage(r)).sort((a, b) => a.parkedAt.getTime() - b.parkedAt.getTime());
  }

  private toMessage(r: Record<string, unknown>): ParkedMessage {
    return {
      stage: this.stage,
      schemeId: String(r.scheme_id),
      key: String(r.message_key),
      reason: String(r.reason),
      detail: (r.detail as string | null) ?? undefined,
      origin: {
        topic: String(r.origin_topic),
        partition: Number(r.origin_partition),
        offset: String(r.origin_offset),
      },
      payload: r.payload as Buffer,
      parkedAt: r.parked_at as Date,
    };
  }

  /** Removes drained messages, unless a newer version of the key was parked meanwhile. */
  async remove(items: ParkedMessage[]): Promise<void> {
    if (items.length === 0) return;
    // Raw: DELETE … USING unnest: exactly the drained messages of a batch.
    await this.ds.query(
      `DELETE FROM parked_messages p
        USING unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[]) AS u(scheme_id, message_key, topic, part, off)
        WHERE p.stage = $1 AND p.scheme_id = u.scheme_id AND p.message_key = u.message_key
          AND p.origin_topic = u.topic AND p.origin_partition = u.part AND p.origin_offset = u.off`,
      [
        this.stage,
        items.map((i) => i.schemeId),
        items.map((i) => i.key),
        items.map((i) => i.origin.topic),
        items.map((i) => i.origin.partition),
        items.map((i) => i.origin.offset),
      ],
    );
  }

  /**
   * Offers messages parked for `reason` to the drainers now (they were parked with a long
   * `retryAfterMs`, e.g. waiting for base data); returns how many.
   */
  async release(schemeId: string, keys: string[], reason: string): Promise<number> {
    if (keys.length === 0) return 0;
    // Raw: a conditional UPDATE … RETURNING the keys released to the drainers.
    const rows = await queryRows<{ message_key: string }>(
      this.ds,
      `UPDATE parked_messages SET drain_until = now(), drain_owner = NULL, updated_at = now()
        WHERE stage = $1 AND scheme_id = $2 AND message_key = ANY($3::text[]) AND reason = $4
        RETURNING message_key`,
      [this.stage, schemeId, keys, reason],
    );
    return rows.length;
  }

  /** The parked messages of these keys (whatever their reason). */
  async find(schemeId: string, keys: string[]): Promise<ParkedMessage[]> {
    if (keys.length === 0) return [];
    const rows = await queryRows<Record<string, unknown>>(
      this.ds,
      `SELECT scheme_id, message_key, reason, detail, origin_topic, origin_partition,
              origin_offset::text AS origin_offset, payload, parked_at
         FROM parked_messages WHERE stage = $1 AND scheme_id = $2 AND message_key = ANY($3::text[])`,
      [this.stage, schemeId, keys],
    );
    return rows.map((r) => this.toMessage(r));
  }

  /** Schemes with parked messages and how many (for drainers and operators). */
  async countByScheme(): Promise<Map<string, number>> {
    const rows = await this.ds
      .getRepository(ParkedMessageEntity)
      .createQueryBuilder('p')
      .select('p.scheme_id', 'scheme_id')
      .addSelect('count(*)::int', 'n')
      .where({ stage: this.stage })
      .groupBy('p.scheme_id')
      .getRawMany<{ scheme_id: string; n: number }>();
    return new Map(rows.map((r) => [r.scheme_id, r.n]));
  }
}
