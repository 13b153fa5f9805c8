import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, Not } from 'typeorm';
import { BaseDataCheckRequestEntity } from '@libs/database';
import { DATA_SOURCE } from '@libs/runtime';
import { BaseDataCheckView, BaseDataWaitingView } from './operator-api.schema';
import { z } from 'zod';

type Waiting = z.infer<typeof BaseDataWaitingView>;

/**
 * Orders waiting for base data in Kingdee (tables the loader keeps, libs/loading/src/base-data), and
 * "check now" requests the loader carries out. Reads and writes Postgres only: never Kingdee.
 */
@Injectable()
export class BaseDataService {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async waiting(): Promise<Waiting> {
    // Raw: a join with parked_messages: waits whose document is still parked.
    const rows: Array<Record<string, unknown>> = await this.ds.query(
      `SELECT w.form_id, w.noun, w.code, w.org, w.problem, w.diagnosis, w.kingdee_message, w.scheme_id,
              w.source_key, w.bill_key, w.since
         FROM base_data_waits w
         JOIN parked_messages p ON p.stage = 'loader' AND p.scheme_id = w.scheme_id AND p.message_key = w.bill_key
                               AND p.reason = 'base_data'
        ORDER BY w.since, w.scheme_id, w.bill_key`,
    );
    const groups = new Map<string, Waiting['items'][number]>();
    for (const r of rows) {
      const key = [r.form_id, String(r.code).toUpperCase(), r.org, r.problem].join('\u0000');
      const g = groups.get(key) ?? {
        form: String(r.form_id),
        noun: String(r.noun),
        code: String(r.code),
        org: r.org ? String(r.org) : null,
        problem: r.problem as Waiting['items'][number]['problem'],
        diagnosis: String(r.diagnosis),
        kingdeeMessage: (r.kingdee_message as string | null) ?? null,
        count: 0,
        orders: [],
      };
      g.orders.push({
        schemeId: String(r.scheme_id),
        orderNo: String(r.source_key),
        billKey: String(r.bill_key),
        since: new Date(r.since as Date).toISOString(),
      });
      g.count = g.orders.length;
      groups.set(key, g);
    }
    const n = await this.ds.getRepository(BaseDataCheckRequestEntity).countBy({ state: Not('done') });
    return {
      items: [...groups.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)),
      pendingChecks: n,
    };
  }

  async requestCheck(by: string): Promise<z.infer<typeof BaseDataCheckView>> {
    const id = randomUUID();
    const inserted = await this.ds
      .createQueryBuilder()
      .insert()
      .into(BaseDataCheckRequestEntity)
      .values({ id, requestedBy: by })
      .returning(['requestedAt'])
      .execute();
    const [row] = inserted.raw as Array<{ requested_at: Date }>;
    return { id, state: 'pending', requestedAt: new Date(row.requested_at).toISOString() };
  }
}
