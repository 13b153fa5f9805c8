import type { KingdeeApi, KingdeeBillTarget, KingdeeSaveOptions, KingdeeViewTarget } from './kingdee-api';
import { KingdeeClient } from './kingdee.client';
import type { KingdeeClientDeps, KingdeeClientOptions } from './kingdee.options';
import type { KingdeeSessionSlots, KingdeeSlotHold } from './kingdee-session-slots';
import { KINGDEE_DEFAULTS } from './kingdee.options';
import { KingdeeError } from './kingdee.errors';
import type {
  KingdeeBillQuery,
  KingdeeOperationResult,
  KingdeeQueryRow,
  KingdeeSaveResult,
  KingdeeViewResult,
} from './kingdee.types';

export interface KingdeeLease {
  client: KingdeeClient;
  release(): void;
}

export interface KingdeeSessionPoolDeps extends KingdeeClientDeps {
  /**
   * The account's session cap shared with other processes: the pool then uses at most the slots it
   * holds (logins included) and waits while it holds none. Without it every session is its own to use.
   */
  slots?: KingdeeSessionSlots;
}

/**
 * N independent sessions. Kingdee serialises the requests of one session, so parallel calls need
 * several; the pool hands each call its own session (FIFO when all are busy). With `slots` it uses
 * sessions 0..held−1 only and forgets the session of any it no longer holds.
 */
export class KingdeeSessionPool implements KingdeeApi {
  readonly size: number;
  private readonly clients: KingdeeClient[];
  private readonly inUse: boolean[];
  private busyCount = 0;
  private readonly waiters: Array<{ resolve: (index: number) => void; reject: (error: Error) => void }> = [];
  private readonly slots?: KingdeeSessionSlots;
  private slotHold?: Promise<KingdeeSlotHold>;
  /** Slots held (from `onChange`); only meaningful with `slots`. */
  private heldSlots = 0;
  private closed = false;

  constructor(options: KingdeeClientOptions, deps: KingdeeSessionPoolDeps = {}) {
    const size = options.sessions ?? KINGDEE_DEFAULTS.sessions;
    if (!Number.isInteger(size) || size < 1) {
      throw new KingdeeError({
        kind: 'permanent',
        code: 'KD_CONFIG',
        message: 'kingdee client config: sessions must be >= 1',
      });
    }
    const { slots, ...clientDeps } = deps;
    this.size = size;
    this.slots = slots;
    this.clients = Array.from({ length: size }, () => new KingdeeClient(options, clientDeps));
    this.inUse = this.clients.map(() => false);
  }

  /** Sessions currently lent out. */
  get busy(): number {
    return this.busyCount;
  }

  /** Calls waiting for a free session. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Sessions the pool may use at once now: its size, or with shared slots the slots it holds (at most its size). */
  get usable(): number {
    return this.slots ? Math.min(this.size, this.heldSlots) : this.size;
  }

  /** Waits for a free session; call `release()` exactly once when done. */
  async acquire(): Promise<KingdeeLease> {
    if (this.closed) throw new Error('Kingdee session pool closed');
    this.startSlots();
    const index =
      (this.waiters.length === 0 ? this.takeFree() : undefined) ??
      (await new Promise<number>((resolve, reject) => this.waiters.push({ resolve, reject })));
    let released = false;
    return {
      client: this.clients[index],
      release: () => {
        if (released) return;
        released = true;
        this.inUse[index] = false;
        this.busyCount -= 1;
        // A session beyond the slots held is forgotten once its call is done.
        if (index >= this.usable) this.clients[index].invalidateSession();
        this.dispatch();
      },
    };
  }

  async withClient<T>(fn: (client: KingdeeClient) => Promise<T>): Promise<T> {
    const lease = await this.acquire();
    try {
      return await fn(lease.client);
    } finally {
      lease.release();
    }
  }

  /** Logs every session in (in parallel); optional warm-up before a run. With slots: the held ones. */
  async ensureSessions(): Promise<void> {
    if (!this.slots) {
      await Promise.all(this.clients.map((c) => c.ensureSession()));
      return;
    }
    this.startSlots();
    if (this.slotHold) await this.slotHold;
    const count = Math.max(1, this.usable);
    await Promise.all(Array.from({ length: count }, () => this.withClient((c) => c.ensureSession())));
  }

  /** Forgets every session; the next calls log in again. */
  invalidateAll(): void {
    for (const c of this.clients) c.invalidateSession();
  }

  /** Gives the shared slots back (when the pool has them) and refuses further calls; waiting calls reject. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('Kingdee session pool closed'));
    const hold = this.slotHold;
    this.slotHold = undefined;
    if (hold) await (await hold.catch(() => undefined))?.release();
    this.heldSlots = 0;
    this.invalidateAll();
  }

  /** Asks for the shared slots on first use (once). */
  private startSlots(): void {
    if (!this.slots || this.slotHold) return;
    const { leases, account, cap } = this.slots;
    const hold = leases.hold({
      account,
      cap,
      want: this.size,
      onChange: (held) => this.slotsChanged(held),
      inUse: () => this.busyCount,
    });
    this.slotHold = hold;
    hold.catch((error: unknown) => {
      // Let the next call ask again; the calls waiting now fail with the reason.
      if (this.slotHold === hold) this.slotHold = undefined;
      const reason = error instanceof Error ? error : new Error(String(error));
      for (const waiter of this.waiters.splice(0)) waiter.reject(reason);
    });
  }

  private slotsChanged(held: number): void {
    if (this.closed) return;
    this.heldSlots = held;
    // Idle sessions beyond the slots held are forgotten now; busy ones when their call ends.
    for (let i = this.usable; i < this.size; i += 1) if (!this.inUse[i]) this.clients[i].invalidateSession();
    this.dispatch();
  }

  /** The lowest free session below the usable count, if fewer than that many are busy. */
  private takeFree(): number | undefined {
    const usable = this.usable;
    if (this.busyCount >= usable) return undefined;
    for (let i = 0; i < usable; i += 1) {
      if (!this.inUse[i]) {
        this.inUse[i] = true;
        this.busyCount += 1;
        return i;
      }
    }
    return undefined;
  }

  private dispatch(): void {
    while (this.waiters.length > 0) {
      const index = this.takeFree();
      if (index === undefined) return;
      this.waiters.shift()!.resolve(index);
    }
  }

  toJSON(): Record<string, unknown> {
    return {
      kind: 'KingdeeSessionPool',
      size: this.size,
      busy: this.busy,
      waiting: this.waiting,
      ...(this.slots ? { usable: this.usable } : {}),
    };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `KingdeeSessionPool ${JSON.stringify(this.toJSON())}`;
  }

  batchSave(
    formId: string,
    models: Record<string, unknown>[],
    options?: KingdeeSaveOptions,
  ): Promise<KingdeeSaveResult> {
    return this.withClient((c) => c.batchSave(formId, models, options));
  }

  save(
    formId: string,
    model: Record<string, unknown>,
    options?: KingdeeSaveOptions,
  ): Promise<KingdeeSaveResult> {
    return this.withClient((c) => c.save(formId, model, options));
  }

  submit(formId: string, target: KingdeeBillTarget): Promise<KingdeeOperationResult> {
    return this.withClient((c) => c.submit(formId, target));
  }

  audit(formId: string, target: KingdeeBillTarget): Promise<KingdeeOperationResult> {
    return this.withClient((c) => c.audit(formId, target));
  }

  delete(formId: string, target: KingdeeBillTarget): Promise<KingdeeOperationResult> {
    return this.withClient((c) => c.delete(formId, target));
  }

  view(formId: string, target: KingdeeViewTarget): Promise<KingdeeViewResult> {
    return this.withClient((c) => c.view(formId, target));
  }

  executeBillQuery(query: KingdeeBillQuery, signal?: AbortSignal): Promise<unknown[][]> {
    return this.withClient((c) => c.executeBillQuery(query, signal));
  }

  executeBillQueryObjects(query: KingdeeBillQuery, signal?: AbortSignal): Promise<KingdeeQueryRow[]> {
    return this.withClient((c) => c.executeBillQueryObjects(query, signal));
  }
}
