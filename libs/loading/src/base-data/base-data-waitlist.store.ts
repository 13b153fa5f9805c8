import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { queryRows } from '@libs/database';
import { BaseDataForm, BaseDataProblem, BaseDataRef } from './base-data-diagnosis';

/** The machine reason of parked documents that wait for base data. */
export const BASE_DATA_PARK_REASON = 'base_data';

/** One code one order waits for. */
export interface BaseDataWait {
  schemeId: string;
  billKey: string;
  sourceKey: string;
  ref: BaseDataRef;
  problem: BaseDataProblem;
  diagnosis: string;
  kingdeeMessage: string | null;
}

export interface StoredWait extends BaseDataWait {
  since: Date;
  /** Waiting longer than the longest wait asked of `pending()`. */
  expired: boolean;
}

/** A code and the orders waiting for it (operators, alerts). */
export interface WaitingCode {
  form: BaseDataForm;
  noun: string;
  code: string;
  org: string | null;
  problem: BaseDataProblem;
  diagnosis: string;
  orders: Array<{ schemeId: string; sourceKey: string; billKey: string; since: Date }>;
}

/**
 * Postgres side of waiting for base data: `base_data_waits` (which code each waiting order needs and
 * what holds for it) and `base_data_check_requests` (operators' "check now"). A wait counts only while
 * its document is parked for base data (`parked_messages.reason = 'base_data'`).
 */
export class BaseDataWaitlist {
  constructor(private readonly ds: DataSource) {}

  /** Records what orders wait for, replacing what they waited for before (keeping since when). */
  async record(waits: BaseDataWait[]): Promise<void> {
    if (waits.length === 0) return;
    const byOrder = new Map<string, BaseDataWait[]>();
    for (const w of waits)
      byOrder.set(`${w.schemeId}\u0000${w.billKey}`, [
        ...(byOrder.get(`${w.schemeId}\u0000${w.billKey}`) ?? []),
        w,
      ]);
    await this.ds.transaction(async (tx) => {
      for (const list of byOrder.values()) {
        const { schemeId, billKey } = list[0];
        const [{ since }]: Array<{ since: Date | null }> = await tx.query(
          `SELECT min(since) AS since FROM base_data_waits WHERE scheme_id = $1 AND bill_key = $2`,
          [schemeId, billKey],
        );
        await tx.query(`DELETE FROM base_data_waits WHERE scheme_id = $1 AND bill_key = $2`, [
          schemeId,
          billKey,
        ]);
        await tx.query(
          `INSERT INTO base_data_waits (scheme_id, bill_key, source_key, form_id, noun, field, code, org, problem,
                  diagnosis, kingdee_message, since, updated_at)
           SELECT $1, $2, u.source_key, u.form_id, u.noun, u.field, u.code, u.org, u.problem, u.diagnosis, u.message,
                  COALESCE($12::timestamptz, now()), now()
             FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
               AS u(source_key, form_id, noun, field, code, org, problem, diagnosis, message)
           ON CONFLICT (scheme_id, bill_key, form_id, code, org) DO NOTHING`,
          [
            schemeId,
            billKey,
            list.map((w) => w.sourceKey),
            list.map((w) => w.ref.form),
            list.map((w) => w.ref.noun),
            list.map((w) => w.ref.field),
            list.map((w) => w.ref.code),
            list.map((w) => w.ref.org ?? ''),
            list.map((w) => w.problem),
            list.map((w) => w.diagnosis),
            list.map((w) => w.kingdeeMessage),
            since,
          ],
        );
      }
    });
  }

  /**
   * Every wait whose document is still parked for base data (stale rows are dropped first);
   * `maxWaitMs` marks the ones waiting longer (Postgres clock).
   */
  async pending(maxWaitMs: number): Promise<StoredWait[]> {
    await this.ds.query(
      `DELETE FROM base_data_waits w WHERE NOT EXISTS (
         SELECT 1 FROM parked_messages p WHERE p.stage = 'loader' AND p.scheme_id = w.scheme_id
            AND p.message_key = w.bill_key AND p.reason = $1)`,
      [BASE_DATA_PARK_REASON],
    );
    const rows = await queryRows<Record<string, unknown>>(
      this.ds,
      `SELECT w.*, (w.since < now() - $1 * interval '1 millisecond') AS expired FROM base_data_waits w
        ORDER BY w.since, w.scheme_id, w.bill_key`,
      [maxWaitMs],
    );
    return rows.map((r) => ({
      schemeId: String(r.scheme_id),
      billKey: String(r.bill_key),
      sourceKey: String(r.source_key),
      ref: {
        form: String(r.form_id) as BaseDataForm,
        noun: String(r.noun) as BaseDataRef['noun'],
        field: String(r.field),
        code: String(r.code),
        org: r.org ? String(r.org) : null,
        row: null,
      },
      problem: String(r.problem) as BaseDataProblem,
      diagnosis: String(r.diagnosis),
      kingdeeMessage: (r.kingdee_message as string | null) ?? null,
      since: r.since as Date,
      expired: Boolean(r.expired),
    }));
  }

  /** What holds for a code changed (e.g. created but not yet allocated). */
  async updateProblems(
    changes: Array<{ ref: BaseDataRef; problem: BaseDataProblem; diagnosis: string }>,
  ): Promise<void> {
    for (const c of changes)
      await this.ds.query(
        `UPDATE base_data_waits SET problem = $4, diagnosis = $5, updated_at = now()
          WHERE form_id = $1 AND upper(code) = upper($2) AND org = $3 AND (problem <> $4 OR diagnosis <> $5)`,
        [c.ref.form, c.ref.code, c.ref.org ?? '', c.problem, c.diagnosis],
      );
  }

  /** The orders are on their way again (released to the drainers, or ended). */
  async forget(schemeId: string, billKeys: string[]): Promise<void> {
    if (billKeys.length === 0) return;
    await this.ds.query(`DELETE FROM base_data_waits WHERE scheme_id = $1 AND bill_key = ANY($2::text[])`, [
      schemeId,
      billKeys,
    ]);
  }

  /** Codes and the orders waiting for them (as `pending` groups them). */
  static group(waits: StoredWait[]): WaitingCode[] {
    const out = new Map<string, WaitingCode>();
    for (const w of waits) {
      const key = `${w.ref.form}\u0000${w.ref.code.toUpperCase()}\u0000${w.ref.org ?? ''}\u0000${w.problem}`;
      const entry = out.get(key) ?? {
        form: w.ref.form,
        noun: w.ref.noun,
        code: w.ref.code,
        org: w.ref.org,
        problem: w.problem,
        diagnosis: w.diagnosis,
        orders: [],
      };
      if (!entry.orders.some((o) => o.schemeId === w.schemeId && o.billKey === w.billKey))
        entry.orders.push({
          schemeId: w.schemeId,
          sourceKey: w.sourceKey,
          billKey: w.billKey,
          since: w.since,
        });
      out.set(key, entry);
    }
    return [...out.values()].sort(
      (a, b) => b.orders.length - a.orders.length || a.code.localeCompare(b.code),
    );
  }

  /** An operator's "check now" (the operator API writes the same row). */
  async requestCheck(by: string): Promise<string> {
    const id = randomUUID();
    await this.ds.query(`INSERT INTO base_data_check_requests (id, requested_by) VALUES ($1, $2)`, [id, by]);
    return id;
  }

  /** Takes the pending requests (and ones a dead loader left running for over `staleMs`). */
  async takeRequests(owner: string, staleMs: number): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(
      this.ds,
      `UPDATE base_data_check_requests SET state = 'running', picked_by = $1, picked_at = now()
        WHERE id IN (SELECT id FROM base_data_check_requests
                      WHERE state = 'pending' OR (state = 'running' AND picked_at < now() - $2 * interval '1 millisecond')
                      ORDER BY requested_at FOR UPDATE SKIP LOCKED)
        RETURNING id::text AS id`,
      [owner, staleMs],
    );
    return rows.map((r) => r.id);
  }

  async finishRequests(ids: string[], result: Record<string, unknown>): Promise<void> {
    if (ids.length === 0) return;
    await this.ds.query(
      `UPDATE base_data_check_requests SET state = 'done', done_at = now(), result = $2::jsonb WHERE id = ANY($1::uuid[])`,
      [ids, JSON.stringify(result)],
    );
  }
}
