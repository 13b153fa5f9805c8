import { KingdeeDocument } from '@libs/contracts';
import { MessageOriginRef, ParkedMessage } from '@libs/parking';

/** What a batch handler is given: whether to go on, and a signal bound to every call it makes. */
export interface LoadContext {
  isRunning(): boolean;
  signal: AbortSignal;
}

export class LoaderStoppedError extends Error {
  override readonly name = 'LoaderStoppedError';
}

/** Why a scheme's documents wait instead of loading. */
export interface Hold {
  reason: 'paused' | 'stopped' | 'circuit_open';
  detail: string;
}

/** A document on its way, with where it came from (so it can be parked). */
export interface Work {
  doc: KingdeeDocument;
  payload: Buffer;
  origin: MessageOriginRef;
  /** Set when it came out of parking (its own parked row is not a reason to wait). */
  parked?: ParkedMessage;
  startedAt: number;
}
