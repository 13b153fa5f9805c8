import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DATA_SOURCE } from '@libs/runtime';
import { Page, SqlFilter, toPage } from './paging.util';

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

const COLUMNS = `id::text AS id, token_name AS "tokenName", action, target, params, outcome, at`;

/** Who did what, when (table operator_actions). Params never hold secrets or personal data. */
@Injectable()
export class OperatorActionsService {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async record(entries: ActionRecord | ActionRecord[]): Promise<void> {
    const list = Array.isArray(entries) ? entries : [entries];
    if (list.length === 0) return;
    await this.ds.query(
      `INSERT INTO operator_actions (token_name, action, target, params, outcome, at)
       SELECT u.token_name, u.action, u.target, u.params::jsonb, u.outcome, now()
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
           AS u(token_name, action, target, params, outcome)`,
      [
        list.map((e) => e.tokenName),
        list.map((e) => e.action),
        list.map((e) => e.target ?? null),
        list.map((e) => JSON.stringify(e.params ?? {})),
        list.map((e) => e.outcome ?? null),
      ],
    );
  }

  async list(q: {
    tokenName?: string;
    action?: string;
    from?: string;
    to?: string;
    limit: number;
    offset: number;
  }): Promise<Page<ActionRow>> {
    const f = new SqlFilter()
      .add('token_name = ?', q.tokenName)
      .add('action = ?', q.action)
      .add('at >= ?', q.from)
      .add('at < ?', q.to);
    const rows: ActionRow[] = await this.ds.query(
      `SELECT ${COLUMNS} FROM operator_actions ${f.where}
        ORDER BY at DESC, id DESC LIMIT ${f.param(q.limit + 1)} OFFSET ${f.param(q.offset)}`,
      f.params,
    );
    return toPage(rows, q.limit, q.offset);
  }
}
