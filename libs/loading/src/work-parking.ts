import { AuditPublisher } from '@libs/audit';
import { countRecords } from '@libs/metrics';
import { ParkedMessageStore } from '@libs/parking';
import { Scheme } from '@libs/scheme';
import { loadAuditEvent } from './load-audit.util';
import { Work } from './load-work';

/**
 * Parks documents that must wait (their scheme held, their circuit open, an earlier version of their
 * order still being written) so the partition moves on: a parked row with the original bytes, and —
 * for holds a person should see — a `parked` audit event with the reason.
 */
export class WorkParking {
  constructor(
    private readonly parking: ParkedMessageStore,
    private readonly audit: AuditPublisher,
    /** How long a document parked behind another of its key waits before it is tried again. */
    private readonly behindRetryMs: number,
  ) {}

  async park(scheme: Scheme, works: Work[], reason: string, detail: string, audit: boolean): Promise<void> {
    await this.parking.park(
      works.map((w) => ({
        schemeId: scheme.id,
        key: w.doc.billKey,
        reason,
        detail,
        origin: w.origin,
        payload: w.payload,
      })),
      audit ? undefined : this.behindRetryMs,
    );
    if (audit)
      await this.audit.publish(
        works.map((w) => loadAuditEvent(w.doc, 'parked', { reason: `${reason}: ${detail}` }, reason)),
      );
    countRecords('loader', 'parked', works.length);
  }
}
