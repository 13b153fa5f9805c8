import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppLogger } from '@libs/common';
import { SANDBOX_WRITE_METHODS, type SandboxWriteMethod } from './sandbox.options';
import { BodyError } from './sandbox-body.util';
import type { SandboxFaultLog } from './sandbox-fault-log.service';
import {
  exceptionAfterSaveReply,
  isSuccessReply,
  nginxErrorPage,
  successCount,
  truncateJson,
  withoutDIndex,
  withoutLastEntity,
} from './sandbox-fault-replies.util';
import type { SandboxSettings } from './sandbox-faults.service';
import { sendJson, sendText } from './sandbox-http.util';
import { errorReply } from './sandbox-reply.util';
import type { SandboxOutcome, SandboxStats } from './sandbox-stats.service';

/** One write call as the server hands it over (session checks, latency, throttling already passed). */
export interface WriteCall {
  req: IncomingMessage;
  res: ServerResponse;
  method: SandboxWriteMethod;
  service: string;
  /** Set-Cookie values of a session issued for this request (signed requests). */
  cookies: string[];
  /** Applies the write and returns Kingdee's reply; throws {@link BodyError} on a malformed request. */
  apply(options: { autoAuditFails?: boolean }): unknown;
  /** The refusal of a Submit/Audit (nothing applied); throws {@link BodyError} like `apply`. */
  refuse(): unknown;
}

/** Faults decided before the write is applied (they change what is applied, or when). */
const BEFORE_APPLY = ['submitAuditFailure', 'lateCommit', 'exceptionAfterSave'] as const;
/** Faults decided after the write was applied (they change only the reply). */
const AFTER_APPLY = [
  'lostResponse',
  'http5xxAfterCommit',
  'truncatedReply',
  'omitDIndex',
  'shortEntities',
] as const;
export type WriteFault = (typeof BEFORE_APPLY)[number] | (typeof AFTER_APPLY)[number];

const SAVES: readonly SandboxWriteMethod[] = ['Save', 'BatchSave'];

/** The write methods each fault can hit at all; the `faultMethods` knob narrows this further. */
const FAULT_SCOPE: Record<WriteFault, readonly SandboxWriteMethod[]> = {
  submitAuditFailure: ['Submit', 'Audit'],
  lateCommit: SANDBOX_WRITE_METHODS,
  exceptionAfterSave: SAVES,
  lostResponse: SANDBOX_WRITE_METHODS,
  http5xxAfterCommit: SANDBOX_WRITE_METHODS,
  truncatedReply: SANDBOX_WRITE_METHODS,
  omitDIndex: SAVES,
  shortEntities: SAVES,
};

/**
 * Whether `fault` may hit `method`. Checked before the dice are rolled so a `next*` counter is
 * spent only on a call it can actually hurt (a query or an unrelated write leaves it armed).
 */
export function faultApplies(
  fault: WriteFault,
  method: SandboxWriteMethod,
  faultMethods: readonly string[],
): boolean {
  return FAULT_SCOPE[fault].includes(method) && faultMethods.includes(method);
}

/** Reply-dependent conditions: a fault that would not change this reply does not fire on it. */
function replyAllows(fault: WriteFault, reply: unknown): boolean {
  if (fault === 'omitDIndex') return successCount(reply) >= 1;
  if (fault === 'shortEntities') return isSuccessReply(reply) && successCount(reply) >= 2;
  return true;
}

/**
 * The fault injection around one write: what happens before it is applied (refusal, late commit,
 * an exception after the save) and what the client sees after (lost reply, proxy 5xx, truncated or
 * incomplete JSON). At most one write fault per call: the first that fires, in the order above.
 */
export class SandboxWriteFaults {
  /** Replies kept open by the `hold` lost-response mode. */
  private readonly held = new Set<ServerResponse>();
  /** Cancel functions of late commits still holding. */
  private readonly holds = new Set<() => void>();

  constructor(
    private readonly settings: SandboxSettings,
    private readonly log: SandboxFaultLog,
    private readonly stats: SandboxStats,
    private readonly logger: AppLogger,
  ) {}

  async run(call: WriteCall): Promise<void> {
    const before = this.pick(BEFORE_APPLY, call.method);
    if (before === 'lateCommit') {
      const late = this.lateCommit(call);
      // Held by a proxy in front, not by IIS: the session is free for other calls meanwhile.
      if (!this.settings.knobs.lateCommitLocksSession) {
        late.catch((err: Error) => this.logger.error({ err: err.message }, 'sandbox: late commit failed'));
        return;
      }
      return late;
    }
    if (before === 'submitAuditFailure') {
      const refused = this.attempt(() => call.refuse());
      this.reply(call, refused.outcome, refused.reply);
      return;
    }
    const draft = before === 'exceptionAfterSave' && this.settings.knobs.exceptionAfterSaveMode === 'draft';
    const applied = this.attempt(() => call.apply({ autoAuditFails: draft }));
    // A malformed request applied nothing: no after-commit fault can follow it.
    if (applied.outcome === 'bad_request') return this.reply(call, applied.outcome, applied.reply);
    if (before === 'exceptionAfterSave') return this.reply(call, 'business_error', exceptionAfterSaveReply());
    const after = this.pick(AFTER_APPLY, call.method, applied.reply);
    switch (after) {
      case 'lostResponse':
        return this.loseResponse(call);
      case 'http5xxAfterCommit':
        return this.proxyError(call);
      case 'truncatedReply': {
        this.stats.record(call.service, 'truncated_reply');
        const text = truncateJson(JSON.stringify(applied.reply));
        const headers: Record<string, string[]> =
          call.cookies.length > 0 ? { 'Set-Cookie': call.cookies } : {};
        return sendText(call.res, 200, 'application/json; charset=utf-8', text, headers);
      }
      case 'omitDIndex':
        return this.reply(call, applied.outcome, withoutDIndex(applied.reply));
      case 'shortEntities':
        return this.reply(call, applied.outcome, withoutLastEntity(applied.reply));
      default:
        return this.reply(call, applied.outcome, applied.reply);
    }
  }

  /** Cancels pending late commits (not applied) and ends held replies: `close()` must not hang. */
  close(): void {
    for (const cancel of [...this.holds]) cancel();
    for (const res of this.held) res.destroy();
    this.held.clear();
  }

  private pick<F extends WriteFault>(
    faults: readonly F[],
    method: SandboxWriteMethod,
    reply?: unknown,
  ): F | null {
    const faultMethods = this.settings.knobs.faultMethods;
    for (const fault of faults) {
      if (!faultApplies(fault, method, faultMethods)) continue;
      if (reply !== undefined && !replyAllows(fault, reply)) continue;
      if (this.log.fire(fault)) return fault;
    }
    return null;
  }

  private attempt(fn: () => unknown): { reply: unknown; outcome: SandboxOutcome } {
    try {
      const reply = fn();
      return { reply, outcome: isSuccessReply(reply) ? 'ok' : 'business_error' };
    } catch (err) {
      if (!(err instanceof BodyError)) throw err;
      return { reply: errorReply(8, err.message), outcome: 'bad_request' };
    }
  }

  private reply(call: WriteCall, outcome: SandboxOutcome, body: unknown): void {
    this.stats.record(call.service, outcome);
    sendJson(call.res, 200, body, call.cookies);
  }

  /** The write has been applied; its reply never arrives. */
  private loseResponse(call: WriteCall): void {
    const mode = this.settings.knobs.lostResponseMode;
    this.stats.record(call.service, 'lost_response');
    this.logger.debug({ service: call.service, mode }, 'sandbox: losing the response');
    if (mode === 'destroy') call.req.socket.destroy();
    else {
      this.held.add(call.res);
      call.res.on('close', () => this.held.delete(call.res));
    }
  }

  /** The write has been applied; the proxy in front answers with its own HTML error page. */
  private proxyError(call: WriteCall): void {
    const status = this.settings.knobs.http5xxAfterCommitStatus;
    this.stats.record(call.service, 'http_5xx');
    sendText(call.res, status, 'text/html', nginxErrorPage(status), { Server: 'nginx' });
  }

  /**
   * Holds the request (the session stays locked, nothing applied), then applies it whether or not
   * the client is still there — IIS does not stop a request whose client disconnected — and answers
   * only if it is.
   */
  private async lateCommit(call: WriteCall): Promise<void> {
    const { res } = call;
    let clientGone = false;
    res.on('close', () => {
      if (!res.writableEnded) clientGone = true;
    });
    this.log.lateCommitStarted();
    const elapsed = await this.hold(this.settings.knobs.lateCommitHoldMs);
    if (!elapsed) {
      // Cancelled by close(): the server went away before committing.
      this.log.lateCommitEnded(false);
      res.destroy();
      return;
    }
    const applied = this.attempt(() => call.apply({}));
    clientGone ||= res.destroyed || call.req.socket.destroyed;
    this.log.lateCommitEnded(clientGone && applied.outcome !== 'bad_request');
    this.logger.debug({ service: call.service, clientGone }, 'sandbox: late commit applied');
    if (clientGone) this.stats.record(call.service, applied.outcome);
    else this.reply(call, applied.outcome, applied.reply);
  }

  /** Resolves true after `ms`, or false when cancelled by {@link close}. */
  private hold(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const cancel = (): void => {
        clearTimeout(timer);
        this.holds.delete(cancel);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.holds.delete(cancel);
        resolve(true);
      }, ms);
      this.holds.add(cancel);
    });
  }
}
