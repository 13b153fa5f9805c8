import { randomUUID } from 'node:crypto';
import { AuditEvent } from '@libs/contracts';
import { applyEvent, OrderFacts } from './order-facts';

let clock = Date.parse('2026-12-04T02:00:00Z');
function event(status: AuditEvent['status'], extra: Partial<AuditEvent> = {}): AuditEvent {
  clock += 1000;
  return {
    eventType: 'sync.audit',
    schemaVersion: 1,
    eventId: randomUUID(),
    schemeId: 's1',
    sourceKey: 'SO1',
    stage: 'loader',
    status,
    occurredAt: new Date(clock).toISOString(),
    correlationId: 'SO1',
    ...extra,
  };
}
const v1 = '2026-12-01 10:00:00|0000000000000000005';
const v2 = '2026-12-02 10:00:00|0000000000000000009';

function fold(events: AuditEvent[]): OrderFacts {
  let row: OrderFacts | undefined;
  for (const e of events) row = applyEvent(row, e);
  return row!;
}

describe('order facts: the bill and the latest version, never confused', () => {
  it('a stale re-push that dead-letters again neither reopens the order nor clears its bill', () => {
    const row = fold([
      event('dead_lettered', { stage: 'transformer', sourceVersion: v1, errorMessage: 'bad quantity' }),
      event('loaded', {
        sourceVersion: v2,
        kingdeeId: '100',
        kingdeeNumber: 'MRB1',
        attemptId: randomUUID(),
      }),
      event('dead_lettered', { stage: 'transformer', sourceVersion: v1, errorMessage: 'bad quantity' }),
    ]);
    expect(row).toMatchObject({
      status: 'loaded',
      billState: 'audited',
      kingdeeNumber: 'MRB1',
      latestVersion: v2,
    });
  });

  it('a newer version that fails keeps the bill of the older one visible', () => {
    const row = fold([
      event('loaded', { sourceVersion: v1, kingdeeId: '100', kingdeeNumber: 'MRB1' }),
      event('failed', {
        sourceVersion: v2,
        errorMessage: 'FSupplierID: 字段"供应商"是必填项',
        attemptId: randomUUID(),
      }),
    ]);
    expect(row).toMatchObject({
      status: 'failed',
      billState: 'audited',
      kingdeeId: '100',
      latestVersion: v2,
    });
  });

  it('an event without a version never replaces a versioned outcome, except an operator', () => {
    const loaded = fold([event('loaded', { sourceVersion: v1, kingdeeId: '1' })]);
    expect(applyEvent(loaded, event('dead_lettered', { stage: 'extractor' })).status).toBe('loaded');
    const closed = applyEvent(
      fold([event('failed', { sourceVersion: v1, errorMessage: 'x' })]),
      event('closed', { stage: 'operator', actor: 'alice', reason: 'entered by hand' }),
    );
    expect(closed).toMatchObject({ status: 'closed', closedBy: 'alice', closedReason: 'entered by hand' });
  });

  it('a closed order is reopened by a newer version, not by a retry of the same one', () => {
    const closed = fold([
      event('failed', { sourceVersion: v1, errorMessage: 'x' }),
      event('closed', { stage: 'operator', actor: 'alice', reason: 'known' }),
    ]);
    expect(applyEvent(closed, event('failed', { sourceVersion: v1, errorMessage: 'x' })).status).toBe(
      'closed',
    );
    expect(applyEvent(closed, event('parked', { sourceVersion: v2 })).status).toBe('parked');
  });

  it('counts every call to Kingdee, and audited never drops back to saved', () => {
    const row = fold([
      event('failed', { sourceVersion: v1, attemptId: randomUUID(), errorMessage: 'x' }),
      event('failed', { sourceVersion: v1, attemptId: randomUUID(), errorMessage: 'x' }),
      event('loaded', { sourceVersion: v1, attemptId: randomUUID(), kingdeeId: '7', kingdeeNumber: 'N7' }),
      event('saved_not_audited', { sourceVersion: v1, kingdeeId: '7', kingdeeNumber: 'N7' }),
    ]);
    expect(row).toMatchObject({ attempts: 3, billState: 'audited', status: 'loaded' });
  });
});
