import { Scheme } from '@libs/scheme';

export interface SettlePolicyOptions {
  /** The Kingdee client's own timeout (KINGDEE_TIMEOUT_MS). */
  clientTimeoutMs: number;
  /** How long Kingdee may still execute a request the client gave up on (IIS executionTimeout). */
  serverExecutionTimeoutMs: number;
  /** KINGDEE_SETTLE_WINDOW_MS: last write → earliest look-up that may conclude "not written". */
  settleWindowMs: number;
}

/**
 * When "not written" may be concluded after an ambiguous write (libs/loading/README.md, rule 5),
 * and what a scheme asks of a bill before it counts as loaded.
 */
export class SettlePolicy {
  constructor(readonly options: SettlePolicyOptions) {}

  /**
   * The window after the last write. With unique bill numbers enforced and the key on FBillNo, a
   * commit later than client timeout + server execution would be refused as a duplicate number (and
   * then found), so that bound applies whatever the configured settle window.
   */
  windowFor(scheme: Scheme): number {
    if (scheme.target.uniqueBillNo === 'enforced' && scheme.target.idempotencyKey.field === 'FBillNo')
      return this.options.clientTimeoutMs + this.options.serverExecutionTimeoutMs;
    return this.options.settleWindowMs;
  }
}

/** Whether the scheme asked for audited bills (FDocumentStatus C), not just saved ones. */
export function wantsAudit(scheme: Scheme): boolean {
  return (
    scheme.target.submitMode === 'separate' || scheme.target.requestOptions.IsAutoSubmitAndAudit !== false
  );
}

export const keyIsBillNo = (scheme: Scheme): boolean => scheme.target.idempotencyKey.field === 'FBillNo';
