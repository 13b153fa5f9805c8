import { AuditEvent } from '@libs/contracts';
import { AuditPublisher } from '@libs/audit';
import { countRecords } from '@libs/metrics';
import { Scheme } from '@libs/scheme';
import { ClaimStore, FINAL_STATES } from './claim.store';
import { loadAuditEvent } from './load-audit.util';
import { Work } from './load-work';

/**
 * Documents whose bill already has a final outcome are never written again: each delivery is
 * answered in the audit trail (the original `loaded` re-announced under its own event id, then
 * `duplicate` or `changed_after_load`; a conflict or duplicate in the ERP repeated as it stands).
 */
export class ResolvedDocuments {
  constructor(private readonly audit: AuditPublisher) {}

  /** Documents of bills with a final outcome are audited and dropped; the rest are returned. */
  async announce(
    scheme: Scheme,
    works: Work[],
    rows: Awaited<ReturnType<ClaimStore['read']>>,
  ): Promise<Work[]> {
    const rest: Work[] = [];
    const events: AuditEvent[] = [];
    const settled = { duplicate: 0, changed_after_load: 0 };
    for (const w of works) {
      const row = rows.get(w.doc.billKey);
      if (!row || !FINAL_STATES.includes(row.state)) {
        rest.push(w);
        continue;
      }
      const doc = w.doc;
      const kingdee = {
        kingdeeId: row.kingdeeId ?? undefined,
        kingdeeNumber: row.kingdeeNumber ?? undefined,
      };
      if (row.state !== 'loaded') {
        // A conflict or duplicate in the ERP waits for a person: no write, the same status again.
        events.push(
          loadAuditEvent(doc, row.state as AuditEvent['status'], {
            ...kingdee,
            errorMessage: row.reason ?? undefined,
            errorClass: row.state === 'conflict_in_erp' ? 'ConflictInErp' : 'DuplicateInErp',
          }),
        );
        continue;
      }
      // Re-announce the original "loaded" outcome under its own (deterministic) event id: if a crash
      // lost it between settling the claim and publishing, the audit trail still gets it.
      const changed = row.contentHash !== null && row.contentHash !== doc.contentHash;
      // The bill holds the loaded content, not this version's: re-announced without a version.
      events.push(
        loadAuditEvent(
          {
            ...doc,
            contentHash: row.contentHash ?? doc.contentHash,
            sourceVersion: changed ? undefined : doc.sourceVersion,
          },
          'loaded',
          kingdee,
        ),
      );
      const status =
        changed && scheme.target.onChangedAfterLoad === 'record' ? 'changed_after_load' : 'duplicate';
      settled[status] += 1;
      events.push(
        loadAuditEvent(
          doc,
          status,
          {
            ...kingdee,
            reason: changed
              ? `order changed after its bill ${row.kingdeeNumber ?? ''} was loaded; ${status === 'changed_after_load' ? 'needs a person' : 'ignored by scheme policy'}`
              : `already loaded as ${row.kingdeeNumber ?? row.kingdeeId ?? 'a bill'}; not sent again`,
          },
          '',
          // Each delivery (a resync, a re-push, a replay) is answered in the trail.
          `${w.origin.topic}/${w.origin.partition}@${w.origin.offset}`,
        ),
      );
    }
    await this.audit.publish(events);
    countRecords('loader', 'duplicate', settled.duplicate);
    countRecords('loader', 'changed_after_load', settled.changed_after_load);
    return rest;
  }
}
