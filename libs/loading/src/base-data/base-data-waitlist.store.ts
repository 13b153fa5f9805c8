import { randomUUID } from 'node:crypto';
import { DataSource, In } from 'typeorm';
import { BaseDataCheckRequestEntity, BaseDataWaitEntity, queryRows } from '@libs/database';

const now = () => 'now()';
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
      const table = tx.getRepository(BaseDataWaitEntity);
      for (const list of byOrder.values()) {
        const { schemeId, billKey } = list[0];
        const { since } = (await table
          .createQueryBuilder('w')
          .select('min(w.since)', 'since')
          .where({ schemeId, billKey })
          .getRawOne<{ since: Date | null }>()) ?? { since: null };
        await table.delete({ schemeId, billKey });
        await table
          .createQueryBuilder()
          .insert()
          .values(
            list.map((w) => ({
              schemeId,
              billKey,
              sourceKey: w.sourceKey,
              formId: w.ref.form,
              noun: w.ref.noun,
              field: w.ref.field,
              code: w.ref.code,
              org: w.ref.org ?? '',
              problem: w.problem,
              diagnosis: w.diagnosis,
              kingdeeMessage: w.kingdeeMessage,
              since: since ?? now,
              updatedAt: now,
            })),
          )
          .orIgnore()
          .execute();
      }
    });
  }

  /**
   * Every wait whose document is still parked for base data (stale rows are dropped first);
   * `maxWaitMs` marks the ones waiting longer (Postgres clock).
   */
  async pending(maxWaitMs: number): Promise<StoredWait[]> {
    // Raw: an anti-join delete (waits whose document is no longer parked for base data).
    await this.ds.query(
      `DELETE FROM base_data_waits w WHERE NOT EXISTS (
         SELECT 1 FROM parked_messages p WHERE p.stage = 'loader' AND p.scheme_id = w.scheme_id
            AND p.message_key = w.bill_key AND p.reason = $1)`,
      [BASE_DATA_PARK_REASON],
    );
    const { entities, raw } = await this.ds
      .getRepository(BaseDataWaitEntity)
      .createQueryBuilder('w')
      // On the database's clock, like `since`.
      .addSelect(`w.since < now() - :ms * interval '1 millisecond'`, 'expired')
      .setParameter('ms', maxWaitMs)
      .orderBy('w.since')
      .addOrderBy('w.scheme_id')
      .addOrderBy('w.bill_key')
      .getRawAndEntities<{ expired: boolean }>();
    return entities.map((w, i) => ({
      schemeId: w.schemeId,
      billKey: w.billKey,
      sourceKey: w.sourceKey,
      ref: {
        form: w.formId as BaseDataForm,
        noun: w.noun as BaseDataRef['noun'],
        field: w.field,
        code: w.code,
        org: w.org || null,
        row: null,
      },
      problem: w.problem as BaseDataProblem,
      diagnosis: w.diagnosis,
      kingdeeMessage: w.kingdeeMessage ?? null,
      since: w.since,
      expired: Boolean(raw[i].expired),
    }));
  }

  /** What holds for a code changed (e.g. created but not yet allocated). */
  async updateProblems(
    changes: Array<{ ref: BaseDataRef; problem: BaseDataProblem; diagnosis: string }>,
  ): Promise<void> {
    for (const c of changes)
      await this.ds
        .getRepository(BaseDataWaitEntity)
        .createQueryBuilder()
        .update()
        .set({ problem: c.problem, diagnosis: c.diagnosis, updatedAt: now })
        // Codes match case-insensitively, as Kingdee matches them.
        .where('form_id = :form AND upper(code) = upper(:code) AND org = :org', {
          form: c.ref.form,
          code: c.ref.code,
          org: c.ref.org ?? '',
        })
        .andWhere('(problem <> :problem OR diagnosis <> :diagnosis)', {
          problem: c.problem,
          diagnosis: c.diagnosis,
        })
        .execute();
  }

  /** The orders are on their way again (released to the drainers, or ended). */
  async forget(schemeId: string, billKeys: string[]): Promise<void> {
    if (billKeys.length === 0) return;
    await this.ds.getRepository(BaseDataWaitEntity).delete({ schemeId, billKey: In(billKeys) });
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
    await this.ds.getRepository(BaseDataCheckRequestEntity).insert({ id, requestedBy: by });
    return id;
  }

  /** Takes the pending requests (and ones a dead loader left running for over `staleMs`). */
  async takeRequests(owner: string, staleMs: number): Promise<string[]> {
    // Raw: a claim with FOR UPDATE SKIP LOCKED (replicas take disjoint requests).
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
    await this.ds
      .getRepository(BaseDataCheckRequestEntity)
      .update({ id: In(ids) }, { state: 'done', doneAt: now, result });
  }
}
