import {
  type KingdeeApi,
  type KingdeeBillTarget,
  KingdeeClient,
  type KingdeeSaveOptions,
  type KingdeeViewTarget,
} from './kingdee.client';
import type { KingdeeClientDeps, KingdeeClientOptions } from './kingdee.options';
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

/**
 * N independent sessions. Kingdee serialises the requests of one session, so parallel calls need
 * several; the pool hands each call its own session (FIFO when all are busy).
 */
export class KingdeeSessionPool implements KingdeeApi {
  readonly size: number;
  private readonly clients: KingdeeClient[];
  private readonly idle: KingdeeClient[];
  private readonly waiters: Array<(client: KingdeeClient) => void> = [];

  constructor(options: KingdeeClientOptions, deps: KingdeeClientDeps = {}) {
    const size = options.sessions ?? KINGDEE_DEFAULTS.sessions;
    if (!Number.isInteger(size) || size < 1) {
      throw new KingdeeError({
        kind: 'permanent',
        code: 'KD_CONFIG',
        message: 'kingdee client config: sessions must be >= 1',
      });
    }
    this.size = size;
    this.clients = Array.from({ length: size }, () => new KingdeeClient(options, deps));
    this.idle = [...this.clients];
  }

  /** Sessions currently lent out. */
  get busy(): number {
    return this.size - this.idle.length;
  }

  /** Calls waiting for a free session. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Waits for a free session; call `release()` exactly once when done. */
  async acquire(): Promise<KingdeeLease> {
    const client =
      this.idle.pop() ?? (await new Promise<KingdeeClient>((resolve) => this.waiters.push(resolve)));
    let released = false;
    return {
      client,
      release: () => {
        if (released) return;
        released = true;
        const next = this.waiters.shift();
        if (next) next(client);
        else this.idle.push(client);
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

  /** Logs every session in (in parallel); optional warm-up before a run. */
  async ensureSessions(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.ensureSession()));
  }

  /** Forgets every session; the next calls log in again. */
  invalidateAll(): void {
    for (const c of this.clients) c.invalidateSession();
  }

  toJSON(): Record<string, unknown> {
    return { kind: 'KingdeeSessionPool', size: this.size, busy: this.busy, waiting: this.waiting };
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
