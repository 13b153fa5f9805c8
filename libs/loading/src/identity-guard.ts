import { AppLogger } from '@libs/common';
import { AuditPublisher } from '@libs/audit';
import { Scheme } from '@libs/scheme';
import { ClaimStore } from './claim.store';
import { KingdeeConnection } from './connection-circuit';
import { loadAuditEvent } from './load-audit.util';
import { Work } from './load-work';

/** One bill key, one scheme, per Kingdee account and form (see `admit`). */
export class IdentityGuard {
  constructor(
    private readonly claims: ClaimStore,
    private readonly audit: AuditPublisher,
    private readonly logger: AppLogger,
  ) {}

  /**
   * Registers the bill keys as this scheme's in its Kingdee account and form; a key another scheme
   * already holds there (another shop's order with the same number, under a key template without
   * `{{$sid}}`) is never written: the order ends `failed` (identity_collision), naming both schemes.
   * Returns the works that may be claimed.
   */
  async admit(scheme: Scheme, connection: KingdeeConnection, works: Work[]): Promise<Work[]> {
    const register = this.claims.registerIdentities?.bind(this.claims);
    if (!register || works.length === 0) return works;
    const account = connection.account ?? connection.id;
    const formId = scheme.target.formId;
    const foreign = await register(
      scheme.id,
      account,
      formId,
      works.map((w) => w.doc.billKey),
    );
    if (foreign.size === 0) return works;
    const refused = works.filter((w) => foreign.has(w.doc.billKey));
    await this.audit.publish(
      refused.map((w) =>
        loadAuditEvent(w.doc, 'failed', {
          errorClass: 'identity_collision',
          errorField: w.doc.idempotencyField,
          errorMessage:
            `${w.doc.idempotencyField} "${w.doc.billKey}" is already the bill of scheme "${foreign.get(w.doc.billKey)}" ` +
            `in Kingdee account ${account} (form ${formId}): writing it would overwrite or duplicate another shop's order. ` +
            `Key the schemes' bills by shop, e.g. target.idempotencyKey.source '{{$sid}}-{{order_no}}' (scheme:check refuses colliding keys).`,
        }),
      ),
    );
    this.logger.error(
      { scheme: scheme.id, account, formId, bills: refused.map((w) => w.doc.billKey).slice(0, 20) },
      'bill keys of another scheme in the same Kingdee account: not written',
    );
    return works.filter((w) => !foreign.has(w.doc.billKey));
  }
}
