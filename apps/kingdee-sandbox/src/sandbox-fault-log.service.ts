import type { DicedFault, SandboxSettings } from './sandbox-faults.service';

/** Every fault the sandbox can inject, as counted by `GET /admin/faults`. */
export const INJECTED_FAULTS = [
  'http5xxBefore',
  'http5xxAfterCommit',
  'lostResponse',
  'lateCommit',
  'exceptionAfterSave',
  'truncatedReply',
  'omitDIndex',
  'shortEntities',
  'submitAuditFailure',
  'throttled',
  'sessionDrop',
  'sessionCallLimit',
] as const satisfies readonly (DicedFault | 'sessionCallLimit')[];

export type InjectedFault = (typeof INJECTED_FAULTS)[number];

export interface SandboxFaultsSnapshot {
  /** Firings per fault since the last stats reset. */
  injected: Record<InjectedFault, number>;
  /** Late commits applied after their client had disconnected: the writes a client cannot know about. */
  commitsAfterClientGaveUp: number;
  /** Late commits still holding (a gauge: not cleared by a reset). */
  lateCommitsPending: number;
}

function zeroes(): Record<InjectedFault, number> {
  return Object.fromEntries(INJECTED_FAULTS.map((f) => [f, 0])) as Record<InjectedFault, number>;
}

/**
 * Rolls the fault dice and counts what fired, so a test can tell whether the faults it asked for were
 * really injected (a fault test that injected nothing proves nothing).
 */
export class SandboxFaultLog {
  private injected = zeroes();
  private gaveUp = 0;
  private pending = 0;

  constructor(private readonly settings: SandboxSettings) {}

  /** Fires the fault's counter or rate knob; counts it when it fires. */
  fire(fault: DicedFault): boolean {
    const fired = this.settings.fireFault(fault);
    if (fired) this.count(fault);
    return fired;
  }

  count(fault: InjectedFault): void {
    this.injected[fault] += 1;
  }

  lateCommitStarted(): void {
    this.pending += 1;
  }

  /** A late commit ended: applied (`clientGone` when its client had disconnected) or cancelled. */
  lateCommitEnded(clientGone: boolean): void {
    this.pending = Math.max(0, this.pending - 1);
    if (clientGone) this.gaveUp += 1;
  }

  snapshot(): SandboxFaultsSnapshot {
    return {
      injected: { ...this.injected },
      commitsAfterClientGaveUp: this.gaveUp,
      lateCommitsPending: this.pending,
    };
  }

  reset(): void {
    this.injected = zeroes();
    this.gaveUp = 0;
  }
}
