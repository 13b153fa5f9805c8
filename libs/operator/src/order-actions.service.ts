import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryRows } from '@libs/database';
import { AuditRepository } from '@libs/audit';
import { AuditEvent } from '@libs/contracts';
import { ClaimOverrides } from '@libs/loading';
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
    this.claims = new ClaimOverrides(ds);
  }

  private readonly claims: ClaimOverrides;

  private async orderRow(
    schemeId: string,
    orderNo: string,
  ): Promise<{ status: string; billKey: string | null; billState: string }> {
    // Raw: inside the action's transaction, in the API's names.
    const rows: Array<{ status: string; billKey: string | null; billState: string }> = await this.ds.query(
      `SELECT status, bill_key AS "billKey", bill_state AS "billState" FROM audit_orders WHERE scheme_id = $1 AND source_key = $2`,
      [schemeId, orderNo],
    );
    if (!rows[0]) throw new NotFoundException(`no audit record of order ${orderNo} in scheme ${schemeId}`);
    return rows[0];
  }

  private operatorEvent(
    schemeId: string,
    orderNo: string,
    status: AuditEvent['status'],
    by: string,
    reason: string,
    extra: Partial<AuditEvent> = {},
  ): AuditEvent {
    return {
      eventType: 'sync.audit',
      schemaVersion: 1,
      eventId: randomUUID(),
      schemeId,
      sourceKey: orderNo,
      stage: 'operator',
      status,
      occurredAt: new Date().toISOString(),
      correlationId: orderNo,
      reason,
      actor: by,
      ...extra,
    };
  }

  private requireBillKey(orderNo: string, row: { billKey: string | null }): string {
    if (!row.billKey)
      throw new BadRequestException(`order ${orderNo} never reached the loader: its bill key is unknown`);
    return row.billKey;
  }

  /**
   * The order's bill exists in Kingdee (a person found it): the claim records it, nobody writes it
   * again, and the trail shows the bill with who linked it.
   */
  async link(
    schemeId: string,
    orderNo: string,
    bill: { number: string; kingdeeId?: string },
    reason: string,
    by: string,
  ): Promise<{ schemeId: string; orderNo: string; bill: { state: 'audited'; number: string } }> {
    const row = await this.orderRow(schemeId, orderNo);
    const billKey = this.requireBillKey(orderNo, row);
    const r = await this.claims.link(
      schemeId,
      billKey,
      { kingdeeId: bill.kingdeeId ?? null, number: bill.number },
      `linked by ${by}: ${reason}`,
    );
    if (!r.linked)
      throw new ConflictException(
        `order ${orderNo} is being written by a loader right now (claim ${r.state}); try again in a few seconds`,
      );
    await this.repo.recordAuditEvents([
      this.operatorEvent(
        schemeId,
        orderNo,
        'loaded',
        by,
        `linked to bill ${bill.number} by ${by}: ${reason}`,
        {
          kingdeeNumber: bill.number,
          ...(bill.kingdeeId ? { kingdeeId: bill.kingdeeId } : {}),
          billKey,
        },
      ),
    ]);
    await this.dropWaiting(schemeId, orderNo);
    await this.actions.record({
      tokenName: by,
      action: 'link.bill',
      target: `${schemeId}/${orderNo}`,
      params: { reason, number: bill.number, kingdeeId: bill.kingdeeId ?? null },
      outcome: `linked (was ${row.status})`,
    });
    return { schemeId, orderNo, bill: { state: 'audited', number: bill.number } };
  }

  /**
   * No bill of the order exists in Kingdee (a person looked): its claim is freed for one write and
   * the order is read again from WDT, so it loads once.
   */
  async confirmAbsent(
    schemeId: string,
    orderNo: string,
    reason: string,
    by: string,
    requestResync: (schemeId: string, orderNo: string) => Promise<{ id: string }>,
  ): Promise<{ schemeId: string; orderNo: string; claim: 'free'; resyncRequestId: string }> {
    const row = await this.orderRow(schemeId, orderNo);
    const billKey = this.requireBillKey(orderNo, row);
    const r = await this.claims.confirmAbsent(
      schemeId,
      billKey,
      `${by} confirmed no bill in Kingdee: ${reason}`,
    );
    if (!r.freed)
      throw new ConflictException(
        `order ${orderNo}'s claim is ${r.state}: confirm a bill absent only for settling, conflict_in_erp, duplicate_in_erp or failed orders`,
      );
    await this.repo.recordAuditEvents([
      this.operatorEvent(
        schemeId,
        orderNo,
        'parked',
        by,
        `${by} confirmed no bill exists in Kingdee (${reason}); one write allowed, reading the order again`,
      ),
    ]);
    // Raw: part of one transaction with the claim change; now() on the database clock.
    await this.ds.query(
      `UPDATE audit_orders SET bill_state = 'none', kingdee_id = NULL, kingdee_number = NULL, bill_at = now(),
              bill_source = $3 WHERE scheme_id = $1 AND source_key = $2`,
      [schemeId, orderNo, `operator:${by}`],
    );
    const resync = await requestResync(schemeId, orderNo);
    await this.actions.record({
      tokenName: by,
      action: 'confirm_absent',
      target: `${schemeId}/${orderNo}`,
      params: { reason, resyncRequestId: resync.id },
      outcome: `claim freed (was ${r.state ?? 'none'}); re-read requested`,
    });
    return { schemeId, orderNo, claim: 'free', resyncRequestId: resync.id };
  }

  /** Documents of the order parked to wait (paused scheme, base data): nobody is to load them now. */
  private async dropWaiting(schemeId: string, orderNo: string): Promise<number> {
    // Raw: part of the close transaction (the order's base-data waits go with it).
    await this.ds.query(`DELETE FROM base_data_waits WHERE scheme_id = $1 AND source_key = $2`, [
      schemeId,
      orderNo,
    ]);
    // Raw: DELETE … RETURNING says whether anything was parked.
    const rows = await queryRows<unknown>(
      this.ds,
      `DELETE FROM parked_messages WHERE scheme_id = $1 AND message_key = $2 RETURNING 1`,
      [schemeId, orderNo],
    );
    return rows.length;
  }

  /** Submit/Audit of a saved bill are tried again at once. */
  async retryAudit(
    schemeId: string,
    orderNo: string,
    reason: string,
    by: string,
  ): Promise<{ schemeId: string; orderNo: string; retrying: true }> {
    const row = await this.orderRow(schemeId, orderNo);
    const billKey = this.requireBillKey(orderNo, row);
    if (!(await this.claims.retryAudit(schemeId, billKey)))
      throw new ConflictException(
        `order ${orderNo} has no bill waiting for Submit/Audit (claim ${await this.claims.state(schemeId, billKey)})`,
      );
    await this.actions.record({
      tokenName: by,
      action: 'retry_audit',
      target: `${schemeId}/${orderNo}`,
      params: { reason },
      outcome: 'Submit/Audit retried at the next settler pass',
    });
    return { schemeId, orderNo, retrying: true };
  }

  async closeOrder(
    schemeId: string,
    orderNo: string,
    reason: string,
    by: string,
  ): Promise<{ schemeId: string; orderNo: string; status: 'closed'; closedDeadLetters: number }> {
    const row = await this.orderRow(schemeId, orderNo);
    if (NOTHING_TO_CLOSE.includes(row.status))
      throw new BadRequestException(`order ${orderNo} is ${row.status}: its newest version holds its bill`);
    const event = this.operatorEvent(schemeId, orderNo, 'closed', by, reason);
    await this.repo.recordAuditEvents([event]);
    const dropped = await this.dropWaiting(schemeId, orderNo);
    // Raw: UPDATE … RETURNING the dead letters it closed.
    const closed = await queryRows<unknown>(
      this.ds,
      `UPDATE dead_letters SET state = 'closed', closed_at = now(), closed_by = $3, closed_reason = $4
        WHERE scheme_id = $1 AND source_key = $2 AND state = 'parked' RETURNING event_id`,
      [schemeId, orderNo, by, reason],
    );
    await this.actions.record({
      tokenName: by,
      action: 'close.order',
      target: `${schemeId}/${orderNo}`,
      params: { reason },
      outcome: `closed (was ${row.status}; ${closed.length} dead letter(s) closed, ${dropped} waiting document(s) dropped)`,
    });
    return { schemeId, orderNo, status: 'closed', closedDeadLetters: closed.length };
  }

  async closeDeadLetter(id: string, reason: string, by: string): Promise<{ id: string; state: 'closed' }> {
    // Raw: UPDATE … FROM a self-join returns the state before the update.
    const rows = await queryRows<{ state: string }>(
      this.ds,
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
