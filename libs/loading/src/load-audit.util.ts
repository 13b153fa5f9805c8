import { AuditEvent, KingdeeDocument } from '@libs/contracts';
import { deterministicUuid } from '@libs/kafka';

const BILL_FOUND: ReadonlySet<string> = new Set(['loaded']);

/**
 * The loader's audit event for one document. Its id is derived from the bill, the document version
 * and the outcome, so the same outcome reported twice (a redelivery, a take-over, a re-announcement)
 * is recorded once by the audit writer.
 */
export function loadAuditEvent(
  doc: KingdeeDocument,
  status: AuditEvent['status'],
  extra: Partial<AuditEvent> = {},
  distinct = '',
  /** Set for reports made once per delivery (e.g. "already loaded"): the message's position. */
  emission?: string,
): AuditEvent {
  return {
    eventType: 'sync.audit',
    schemaVersion: 1,
    eventId: deterministicUuid(
      'load',
      doc.schemeId,
      doc.billKey,
      doc.contentHash,
      status,
      extra.kingdeeId ?? extra.errorMessage ?? distinct,
      // Each failed call to Kingdee is an attempt of its own in the trail, even with the same outcome;
      // a bill's existence is one fact, however often (and by whom) it is reported.
      ...(extra.attemptId && !BILL_FOUND.has(status) ? [extra.attemptId] : []),
      ...(emission ? [emission] : []),
    ),
    schemeId: doc.schemeId,
    sourceKey: doc.sourceKey,
    stage: 'loader',
    status,
    occurredAt: new Date().toISOString(),
    correlationId: doc.correlationId,
    billKey: doc.billKey,
    sourceEventId: doc.sourceEventId,
    sourceFingerprint: doc.sourceFingerprint,
    contentHash: doc.contentHash,
    ...(doc.sourceVersion ? { sourceVersion: doc.sourceVersion } : {}),
    ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)),
  };
}
