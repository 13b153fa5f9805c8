import { AppLogger, silentLogger } from '@libs/common';
import { KingdeeDocument } from '@libs/contracts';
import { KingdeeFieldError } from '@libs/kingdee-client';
import { ParkedMessageStore } from '@libs/parking';
import { Scheme } from '@libs/scheme';
import { KingdeeConnection } from '../connection-circuit';
import { triageErrors } from './base-data-diagnosis';
import { BaseDataInspector } from './base-data-inspector';
import { BASE_DATA_PARK_REASON, BaseDataWait, BaseDataWaitlist } from './base-data-waitlist.store';

/** A refusal of one document, as the resolver decided it (`failed`). */
export interface Refusal {
  doc: KingdeeDocument;
  message: string;
  field?: string;
  errors?: KingdeeFieldError[];
}

/** A refusal that is only about base data: the order waits instead of failing. */
export interface BaseDataVerdict {
  /** `supplier GYS999 does not exist in Kingdee` (several joined by `; `). */
  diagnosis: string;
  /** Kingdee's field of the first code. */
  field: string;
  waits: BaseDataWait[];
}

/** Parked for base data until released by the checker; past this the checker ends them. */
const PARK_AHEAD_MS = 24 * 3600_000;

/**
 * Decides which refusals are only about base data (every Kingdee message a required / not-found
 * message on a reference field whose code the inspector finds unusable), and makes those orders wait:
 * parked (reason `base_data`, not offered to drainers until released) and listed by code.
 */
export class BaseDataTriage {
  private readonly logger: AppLogger;
  /** Called after orders started waiting (the checker reports the codes). */
  onWaiting?: () => void;

  constructor(
    private readonly inspector: BaseDataInspector,
    private readonly waitlist: BaseDataWaitlist,
    private readonly parking: ParkedMessageStore,
    private readonly maxWaitMs: number,
    logger: AppLogger = silentLogger,
  ) {
    this.logger = logger;
  }

  /** Verdicts for the refusals that are only about base data (the others stay failed). */
  async review<K>(
    connection: KingdeeConnection,
    items: Map<K, Refusal>,
    signal?: AbortSignal,
  ): Promise<Map<K, BaseDataVerdict>> {
    const out = new Map<K, BaseDataVerdict>();
    const candidates = [...items].flatMap(([k, r]) => {
      const errors = r.errors ?? [];
      const refs = triageErrors(r.doc.model, errors);
      return refs ? [{ k, r, refs }] : [];
    });
    if (candidates.length === 0) return out;
    let findings;
    try {
      findings = await this.inspector.inspect(
        connection,
        candidates.flatMap((c) => c.refs),
        { signal },
      );
    } catch (error) {
      this.logger.warn(
        { err: (error as Error).message, orders: candidates.length },
        'base data could not be checked; the refusals stay failed',
      );
      return out;
    }
    let i = 0;
    for (const { k, r, refs } of candidates) {
      const mine = findings.slice(i, i + refs.length);
      i += refs.length;
      const problems = mine.filter((f) => f.problem !== 'usable');
      // Every code usable: Kingdee refused it for something else.
      if (problems.length === 0) continue;
      out.set(k, {
        diagnosis: problems.map((f) => f.diagnosis).join('; '),
        field: problems[0].ref.field,
        waits: problems.map((f) => ({
          schemeId: r.doc.schemeId,
          billKey: r.doc.billKey,
          sourceKey: r.doc.sourceKey,
          ref: f.ref,
          problem: f.problem as BaseDataWait['problem'],
          diagnosis: f.diagnosis,
          kingdeeMessage: r.message,
        })),
      });
    }
    return out;
  }

  /** Parks the documents (nothing waits behind them) and lists what they wait for. */
  async wait(
    scheme: Scheme,
    items: Array<{ doc: KingdeeDocument; verdict: BaseDataVerdict }>,
  ): Promise<void> {
    if (items.length === 0) return;
    const now = Date.now();
    await this.parking.park(
      items.map(({ doc, verdict }, n) => ({
        schemeId: scheme.id,
        key: doc.billKey,
        reason: BASE_DATA_PARK_REASON,
        detail: `${verdict.diagnosis}; loads by itself once usable in Kingdee`,
        // Its own origin: a drained row re-parked here is not removed as drained, and a newer
        // version from the topic still replaces it.
        origin: { topic: 'loader:base-data', partition: 0, offset: String(now * 1000 + n) },
        payload: Buffer.from(JSON.stringify(doc)),
      })),
      this.maxWaitMs + PARK_AHEAD_MS,
    );
    await this.waitlist.record(items.flatMap((i) => i.verdict.waits));
    this.onWaiting?.();
  }
}
