import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DATA_SOURCE } from '@libs/runtime';
import { OperatorActionEntity } from '@libs/database';
import { Page, toPage } from './paging.util';

export interface ActionRecord {
  tokenName: string;
  action: string;
  target?: string | null;
  params?: Record<string, unknown>;
  outcome?: string | null;
}

export interface ActionRow {
  id: string;
  tokenName: string;
  action: string;
  target: string | null;
  params: Record<string, unknown>;
  outcome: string | null;
  at: Date;
}

/** Who did what, when (table operator_actions). Params never hold secrets or personal data. */
@Injectable()
export class OperatorActionsService {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async record(entries: ActionRecord | ActionRecord[]): Promise<void> {
    const list = Array.isArray(entries) ? entries : [entries];
    if (list.length === 0) return;
    await this.ds
      .createQueryBuilder()
      .insert()
      .into(OperatorActionEntity)
      .values(
        list.map((e) => ({
          tokenName: e.tokenName,
          action: e.action,
          target: e.target ?? null,
          params: e.params ?? {},
          outcome: e.outcome ?? null,
          at: () => 'now()',
        })),
      )
      .execute();
  }

  async list(q: {
    tokenName?: string;
    action?: string;
    from?: string;
    to?: string;
    limit: number;
    offset: number;
  }): Promise<Page<ActionRow>> {
    const query = this.ds
      .getRepository(OperatorActionEntity)
      .createQueryBuilder('a')
      .orderBy('a.at', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .limit(q.limit + 1)
      .offset(q.offset);
    if (q.tokenName !== undefined) query.andWhere('a.tokenName = :tokenName', { tokenName: q.tokenName });
    if (q.action !== undefined) query.andWhere('a.action = :action', { action: q.action });
    if (q.from !== undefined) query.andWhere('a.at >= :from', { from: q.from });
    if (q.to !== undefined) query.andWhere('a.at < :to', { to: q.to });
    const rows: ActionRow[] = (await query.getMany()).map((a) => ({
      id: a.id,
      tokenName: a.tokenName,
      action: a.action,
      target: a.target,
      params: a.params as Record<string, unknown>,
      outcome: a.outcome,
      at: a.at,
    }));
    return toPage(rows, q.limit, q.offset);
  }
}
