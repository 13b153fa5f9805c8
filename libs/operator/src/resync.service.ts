import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DATA_SOURCE } from '@libs/runtime';
import { ResyncRequestStore } from '@libs/work-requests';
import { ResyncRequestEntity } from '@libs/database';
import { Page, toPage } from './paging.util';

export interface ResyncRow {
  id: string;
  schemeId: string;
  orderNo: string;
  requestedBy: string;
  requestedAt: Date;
  state: string;
  result: string | null;
  doneAt: Date | null;
}

/**
 * Resync requests (table resync_requests): the extractor leader re-fetches each order from WDT
 * with a narrow window and re-emits it. One pending request per scheme and order is enough, so a
 * second request while one is pending returns the pending one.
 */
@Injectable()
export class ResyncService {
  private readonly requests = new ResyncRequestStore();

  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async request(
    schemeId: string,
    orderNo: string,
    requestedBy: string,
    manager: EntityManager = this.ds.manager,
    trigger: 'resync' | 'repush' = 'resync',
  ): Promise<{ id: string; state: string; created: boolean }> {
    // Serialises concurrent requests for one order, so two operators never create two pending rows.
    return this.requests.request(manager, schemeId, orderNo, requestedBy, trigger);
  }

  /** Requests for many orders of one scheme, each in its own transaction (lock held briefly). */
  async requestMany(
    schemeId: string,
    orderNos: string[],
    requestedBy: string,
  ): Promise<Array<{ orderNo: string; id: string; state: string; created: boolean }>> {
    const out: Array<{ orderNo: string; id: string; state: string; created: boolean }> = [];
    for (const orderNo of [...new Set(orderNos)]) {
      const r = await this.ds.transaction((tx) => this.request(schemeId, orderNo, requestedBy, tx));
      out.push({ orderNo, ...r });
    }
    return out;
  }

  async get(id: string): Promise<ResyncRow | undefined> {
    const row = await this.ds.getRepository(ResyncRequestEntity).findOneBy({ id });
    return row ? toResyncRow(row) : undefined;
  }

  async list(q: {
    state?: string;
    schemeId?: string;
    orderNo?: string;
    limit: number;
    offset: number;
  }): Promise<Page<ResyncRow>> {
    const rows = await this.ds.getRepository(ResyncRequestEntity).find({
      where: { state: q.state, schemeId: q.schemeId, orderNo: q.orderNo },
      order: { requestedAt: 'DESC', id: 'ASC' },
      take: q.limit + 1,
      skip: q.offset,
    });
    return toPage(rows.map(toResyncRow), q.limit, q.offset);
  }
}

function toResyncRow(r: ResyncRequestEntity): ResyncRow {
  return {
    id: r.id,
    schemeId: r.schemeId,
    orderNo: r.orderNo,
    requestedBy: r.requestedBy,
    requestedAt: r.requestedAt,
    state: r.state,
    result: r.result,
    doneAt: r.doneAt,
  };
}
