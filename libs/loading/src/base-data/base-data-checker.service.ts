import { AppLogger, silentLogger } from '@libs/common';
import { decodeEvent, KingdeeDocumentSchema } from '@libs/contracts';
import { AuditPublisher } from '@libs/audit';
import { ParkedMessageStore } from '@libs/parking';
import { Scheme } from '@libs/scheme';
import { KingdeeConnection } from '../connection-circuit';
import { loadAuditEvent } from '../load-audit.util';
import { BaseDataInspector } from './base-data-inspector';
import { BASE_DATA_PARK_REASON, BaseDataWaitlist, StoredWait, WaitingCode } from './base-data-waitlist.store';

export interface BaseDataCheckerOptions {
  owner: string;
  /** Scheduled check (`LOADER_BASE_DATA_CHECK_MS`). */
  checkMs: number;
  /** How often operators' check requests are looked for. */
  requestPollMs: number;
  /** Longest wait (`LOADER_BASE_DATA_MAX_WAIT_HOURS`), then `failed` with the diagnosis. */
  maxWaitMs: number;
}

export interface BaseDataCheckerDeps {
  waitlist: BaseDataWaitlist;
  parking: ParkedMessageStore;
  inspector: BaseDataInspector;
  audit: AuditPublisher;
  schemes: (id: string) => Scheme | undefined;
  connectionFor: (scheme: Scheme) => KingdeeConnection;
  options: BaseDataCheckerOptions;
  logger?: AppLogger;
}

export interface BaseDataCheckResult {
  /** Distinct codes looked up. */
  checked: number;
  /** Orders given back to the drainers (their codes are usable now). */
  released: number;
  /** Orders that waited too long: now `failed`. */
  expired: number;
  /** Orders still waiting. */
  waiting: number;
}

/**
 * Re-checks the codes waiting orders need — on a schedule, and at once when an operator asks (a row
 * in `base_data_check_requests`) — with one fresh `ExecuteBillQuery` per form for all of them. Orders
 * whose codes are all usable are released to the drainers, which load them through the normal path
 * (claims, fences, look-ups); orders past the longest wait end `failed` with the diagnosis. After
 * each check `onReport` gets the codes still waited for (one alert lists them).
 */
export class BaseDataChecker {
  /** Codes still waited for, after each check (and after orders started waiting). */
  onReport?: (codes: WaitingCode[]) => void;
  private readonly logger: AppLogger;
  private timers: NodeJS.Timeout[] = [];
  /** Checks run one at a time per process. */
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = true;

  constructor(private readonly deps: BaseDataCheckerDeps) {
    this.logger = deps.logger ?? silentLogger;
  }

  get store(): BaseDataWaitlist {
    return this.deps.waitlist;
  }

  start(): void {
    this.stopped = false;
    const every = (ms: number, fn: () => Promise<unknown>) => {
      const tick = () => {
        if (this.stopped) return;
        void fn()
          .catch((err: Error) =>
            this.logger.warn({ err: err.message }, 'base-data check failed; trying again'),
          )
          .finally(() => {
            if (!this.stopped) this.timers.push(setTimeout(tick, ms));
          });
      };
      this.timers.push(setTimeout(tick, ms));
    };
    every(this.deps.options.checkMs, () => this.checkNow());
    every(this.deps.options.requestPollMs, () => this.runRequested());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.forEach(clearTimeout);
    this.timers = [];
    await this.queue.catch(() => undefined);
  }

  /** Carries out operators' pending check requests (one check for all of them); returns how many. */
  runRequested(): Promise<number> {
    return this.serial(async () => {
      const ids = await this.deps.waitlist.takeRequests(this.deps.options.owner, 10 * 60_000);
      if (ids.length === 0) return 0;
      const result = await this.checkOnce();
      await this.deps.waitlist.finishRequests(ids, { ...result });
      return ids.length;
    });
  }

  /** One check now (the "run now" hook). */
  checkNow(): Promise<BaseDataCheckResult> {
    return this.serial(() => this.checkOnce());
  }

  /** The codes orders wait for, with the orders. */
  async waiting(): Promise<WaitingCode[]> {
    return BaseDataWaitlist.group(await this.deps.waitlist.pending(this.deps.options.maxWaitMs));
  }

  /** Reports the codes still waited for (after orders started waiting). */
  async report(): Promise<void> {
    const codes = await this.waiting();
    if (codes.length > 0) this.onReport?.(codes);
  }

  private async checkOnce(): Promise<BaseDataCheckResult> {
    const waits = await this.deps.waitlist.pending(this.deps.options.maxWaitMs);
    const expiredKeys = new Set(waits.filter((w) => w.expired).map(orderKey));
    const expired = await this.expire(waits.filter((w) => expiredKeys.has(orderKey(w))));
    const live = waits.filter((w) => !expiredKeys.has(orderKey(w)));
    const result: BaseDataCheckResult = { checked: 0, released: 0, expired, waiting: 0 };
    // Per Kingdee connection: one fresh look-up per form for every code waited for.
    const byConnection = new Map<KingdeeConnection, StoredWait[]>();
    for (const w of live) {
      const scheme = this.deps.schemes(w.schemeId);
      if (!scheme) continue; // its scheme is gone: stays listed
      const c = this.deps.connectionFor(scheme);
      byConnection.set(c, [...(byConnection.get(c) ?? []), w]);
    }
    for (const [connection, list] of byConnection) {
      const refs = dedupe(list.map((w) => w.ref));
      let findings;
      try {
        findings = await this.deps.inspector.inspect(connection, refs, { fresh: true });
      } catch (error) {
        this.logger.warn(
          { err: (error as Error).message },
          'base data could not be checked; orders keep waiting',
        );
        continue;
      }
      result.checked += refs.length;
      const finding = new Map(findings.map((f) => [refKey(f.ref), f]));
      const orders = new Map<string, StoredWait[]>();
      for (const w of list) orders.set(orderKey(w), [...(orders.get(orderKey(w)) ?? []), w]);
      const release = new Map<string, string[]>();
      const still: StoredWait[] = [];
      for (const ws of orders.values()) {
        const open = ws.filter((w) => finding.get(refKey(w.ref))?.problem !== 'usable');
        if (open.length === 0)
          release.set(ws[0].schemeId, [...(release.get(ws[0].schemeId) ?? []), ws[0].billKey]);
        else
          still.push(
            ...open.map((w) => {
              const f = finding.get(refKey(w.ref));
              return f && f.problem !== 'usable' ? { ...w, problem: f.problem, diagnosis: f.diagnosis } : w;
            }),
          );
      }
      for (const [schemeId, keys] of release) {
        result.released += await this.deps.parking.release(schemeId, keys, BASE_DATA_PARK_REASON);
        await this.deps.waitlist.forget(schemeId, keys);
      }
      // What holds may have changed (created, but not yet allocated …): listed as it is now.
      await this.deps.waitlist.record(still);
      result.waiting += new Set(still.map(orderKey)).size;
    }
    if (result.released > 0 || result.expired > 0) this.logger.info({ ...result }, 'base data checked');
    await this.report();
    return result;
  }

  /** Orders past the longest wait: `failed` with the diagnosis, no longer parked. */
  private async expire(waits: StoredWait[]): Promise<number> {
    const bySchemes = new Map<string, StoredWait[]>();
    for (const w of waits) bySchemes.set(w.schemeId, [...(bySchemes.get(w.schemeId) ?? []), w]);
    let n = 0;
    for (const [schemeId, list] of bySchemes) {
      const keys = [...new Set(list.map((w) => w.billKey))];
      const rows = (await this.deps.parking.find(schemeId, keys)).filter(
        (r) => r.reason === BASE_DATA_PARK_REASON,
      );
      const events = rows.flatMap((row) => {
        try {
          const doc = decodeEvent(
            KingdeeDocumentSchema,
            row.payload,
            `parked document ${schemeId}/${row.key}`,
          );
          const mine = list.filter((w) => w.billKey === row.key);
          const hours = Math.round(this.deps.options.maxWaitMs / 3600_000);
          const diagnosis = [...new Set(mine.map((w) => w.diagnosis))].join('; ');
          const kingdee = mine.find((w) => w.kingdeeMessage)?.kingdeeMessage;
          return [
            loadAuditEvent(doc, 'failed', {
              errorMessage: `${diagnosis}${kingdee ? ` — Kingdee: ${kingdee}` : ''}`,
              errorField: mine[0]?.ref.field,
              errorClass: 'BaseDataMissing',
              reason: `waited ${hours} h for base data in Kingdee since ${mine[0]?.since.toISOString()}; given up`,
            }),
          ];
        } catch (error) {
          this.logger.error(
            { scheme: schemeId, key: row.key, err: (error as Error).message },
            'unreadable parked document',
          );
          return [];
        }
      });
      await this.deps.audit.publish(events);
      await this.deps.parking.remove(rows);
      await this.deps.waitlist.forget(schemeId, keys);
      n += rows.length;
    }
    return n;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.catch(() => undefined).then(fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function orderKey(w: { schemeId: string; billKey: string }): string {
  return `${w.schemeId}\u0000${w.billKey}`;
}

function refKey(r: { form: string; code: string; org: string | null }): string {
  return `${r.form}\u0000${r.code.toUpperCase()}\u0000${r.org ?? ''}`;
}

function dedupe<T extends { form: string; code: string; org: string | null }>(refs: T[]): T[] {
  const seen = new Map<string, T>();
  for (const r of refs) if (!seen.has(refKey(r))) seen.set(refKey(r), r);
  return [...seen.values()];
}
