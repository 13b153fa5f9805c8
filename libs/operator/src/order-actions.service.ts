import { randomUUID } from 'node:crypto';
import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditRepository } from '@libs/audit';
import { AuditEvent } from '@libs/contracts';
import { DATA_SOURCE } from '@libs/runtime';
import { OperatorActionsService } from './operator-actions.service';

/** Latest outcomes there is nothing to close about: the newest version holds its bill. */
const NOTHING_TO_CLOSE = ['loaded', 'duplicate'];

/**
 * An operator's decisions about orders and dead letters, each with the token's name and a reason,
 * in the order's history and the action log. Closing never touches the bill fact; a newer source
 * version reopens a closed order.
 */
@Injectable()
export class OrderActionsService {
  private readonly repo: AuditRepository;

  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    private readonly actions: OperatorActionsService,
  ) {
    this.repo = new AuditRepository(ds);
  }

  async closeOrder(
    schemeId: string,
    orderNo: string,
    reason: string,
    by: string,
  ): Promise<{ schemeId: string; orderNo: string; status: 'closed'; closedDeadLetters: number }> {
    const rows: Array<{ status: string }> = await this.ds.query(
      `SELECT status FROM audit_orders WHERE scheme_id = $1 AND source_key = $2`,
      [schemeId, orderNo],
    );
    if (!rows[0]) throw new NotFoundException(`no audit record of order ${orderNo} in scheme ${schemeId}`);
    if (NOTHING_TO_CLOSE.includes(rows[0].status))
      throw new BadRequestException(
        `order ${orderNo} is ${rows[0].status}: its newest version holds its bill`,
      );
    const event: AuditEvent = {
      eventType: 'sync.audit',
      schemaVersion: 1,
      eventId: randomUUID(),
      schemeId,
      sourceKey: orderNo,
      stage: 'operator',
      status: 'closed',
      occurredAt: new Date().toISOString(),
      correlationId: orderNo,
      reason,
      actor: by,
    };
    await this.repo.recordAuditEvents([event]);
    const closed: unknown[] = await this.ds.query(
      `UPDATE dead_letters SET state = 'closed', closed_at = now(), closed_by = $3, closed_reason = $4
        WHERE scheme_id = $1 AND source_key = $2 AND state = 'parked' RETURNING event_id`,
      [schemeId, orderNo, by, reason],
    );
    await this.actions.record({
      tokenName: by,
      action: 'close.order',
      target: `${schemeId}/${orderNo}`,
      params: { reason },
      outcome: `closed (was ${rows[0].status}; ${closed.length} dead letter(s) closed)`,
    });
    return { schemeId, orderNo, status: 'closed', closedDeadLetters: closed.length };
  }

  async closeDeadLetter(id: string, reason: string, by: string): Promise<{ id: string; state: 'closed' }> {
    const rows: Array<{ state: string }> = await this.ds.query(
      `UPDATE dead_letters d SET state = 'closed', closed_at = now(), closed_by = $2, closed_reason = $3
         FROM dead_letters old WHERE d.event_id = $1 AND old.event_id = d.event_id RETURNING old.state`,
      [id, by, reason],
    );
    if (!rows[0]) throw new NotFoundException(`no dead letter ${id}`);
    await this.actions.record({
      tokenName: by,
      action: 'close.dead_letter',
      target: id,
      params: { reason },
      outcome: `closed (was ${rows[0].state})`,
    });
    return { id, state: 'closed' };
  }
}
