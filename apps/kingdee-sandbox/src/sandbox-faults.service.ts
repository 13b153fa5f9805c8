import type { KingdeeSandboxKnobs, KingdeeSandboxSwitches } from './sandbox.options';
import { knobsPatchSchema, switchesPatchSchema } from './sandbox-settings.schema';

/** mulberry32: a small seeded PRNG so rate knobs are reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type NumericKnob = {
  [K in keyof KingdeeSandboxKnobs]: KingdeeSandboxKnobs[K] extends number ? K : never;
}[keyof KingdeeSandboxKnobs];

/** Each diced fault and its knobs: the deterministic `next*` counter, then the seeded `*Rate`. */
export const FAULT_KNOBS = {
  http5xxBefore: ['next5xx', 'http5xxRate'],
  http5xxAfterCommit: ['next5xxAfterCommit', 'http5xxAfterCommitRate'],
  lostResponse: ['nextLostResponses', 'lostResponseRate'],
  lateCommit: ['nextLateCommits', 'lateCommitRate'],
  exceptionAfterSave: ['nextExceptionsAfterSave', 'exceptionAfterSaveRate'],
  truncatedReply: ['nextTruncatedReplies', 'truncatedReplyRate'],
  omitDIndex: ['nextOmitDIndex', 'omitDIndexRate'],
  shortEntities: ['nextShortEntities', 'shortEntitiesRate'],
  submitAuditFailure: ['nextSubmitAuditFailures', 'submitAuditFailureRate'],
  throttled: ['nextThrottles', 'throttleRate'],
  sessionDrop: ['nextSessionDrops', 'sessionDropRate'],
} as const satisfies Record<string, readonly [NumericKnob, NumericKnob]>;

export type DicedFault = keyof typeof FAULT_KNOBS;
type CounterKnob = (typeof FAULT_KNOBS)[DicedFault][0];
type RateKnob = (typeof FAULT_KNOBS)[DicedFault][1];

/** Current knobs and switches, and the dice for fault injection. */
export class SandboxSettings {
  knobs: KingdeeSandboxKnobs;
  switches: KingdeeSandboxSwitches;
  private random: () => number;

  constructor(
    private readonly initialKnobs: KingdeeSandboxKnobs,
    private readonly initialSwitches: KingdeeSandboxSwitches,
    private readonly seed: number,
  ) {
    this.knobs = structuredClone(initialKnobs);
    this.switches = structuredClone(initialSwitches);
    this.random = mulberry32(seed);
  }

  /** Validates and applies a partial update; throws a ZodError on bad input. */
  patchKnobs(patch: unknown): KingdeeSandboxKnobs {
    const parsed = knobsPatchSchema.parse(patch);
    this.knobs = { ...this.knobs, ...structuredClone(parsed) };
    return this.knobs;
  }

  patchSwitches(patch: unknown): KingdeeSandboxSwitches {
    const parsed = switchesPatchSchema.parse(patch);
    this.switches = { ...this.switches, ...parsed };
    return this.switches;
  }

  resetKnobs(): void {
    this.knobs = structuredClone(this.initialKnobs);
    this.random = mulberry32(this.seed);
  }

  resetSwitches(): void {
    this.switches = structuredClone(this.initialSwitches);
  }

  /** Fires when the next-N counter is positive (and decrements it) or the rate dice says so. */
  fire(counter: CounterKnob, rate: RateKnob): boolean {
    if (this.knobs[counter] > 0) {
      this.knobs[counter] -= 1;
      return true;
    }
    const p = this.knobs[rate];
    return p > 0 && this.random() < p;
  }

  /** {@link fire} with the knobs of a fault. */
  fireFault(fault: DicedFault): boolean {
    const [counter, rate] = FAULT_KNOBS[fault];
    return this.fire(counter, rate);
  }
}
