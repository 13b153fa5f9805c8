import { DataSource } from 'typeorm';
import { ReconcileStagingEntity } from '@libs/database';
import type { ComparisonPlan, QueryRow, SourceEntry } from '../reconcile.types';

export type StagingSide = 'source' | 'target';

/** Rows per staging INSERT and per keyset page read back. */
const WRITE_BATCH = 500;
const READ_PAGE = 1000;

/** A target row's identity within its key: the bill and its line(s), so a page read twice dedupes. */
export function targetItemId(plan: ComparisonPlan, row: QueryRow): string {
  return [row.FID, ...plan.entries.map((e) => row[e.entryIdKey])]
    .map((v) => (v === undefined || v === null ? '' : String(v)))
    .join(':');
}

/** Compares decimal id text numerically (ids exceed 2^53 in theory, so by length then text). */
function compareIds(a: string, b: string): number {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) {
    const x = a.replace(/^0+(?=\d)/, '');
    const y = b.replace(/^0+(?=\d)/, '');
    if (x.length !== y.length) return x.length - y.length;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareItemIds(a: string, b: string): number {
  const pa = a.split(':');
  const pb = b.split(':');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const c = compareIds(pa[i] ?? '', pb[i] ?? '');
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * `reconcile_staging`: both sides of a run, written as read (a re-read page overwrites its rows)
 * and read back by key in `COLLATE "C"` order (JS code-unit order, as `reconcileStreams` expects),
 * a page at a time, so a run never holds a side in memory.
 */
export class ReconcileStagingStore {
  constructor(
    private readonly ds: DataSource,
    private readonly readPage = READ_PAGE,
  ) {}

  /** Stages source entries (item = order number; an order read again replaces its entry). */
  async stageSource(runId: string, entries: readonly SourceEntry[]): Promise<void> {
    await this.upsert(
      runId,
      'source',
      entries.map((e) => ({ key: e.key, item: e.orderNo, payload: e })),
    );
  }

  /** Stages ExecuteBillQuery rows (item = FID and entry ids: a row read twice is stored once). */
  async stageTarget(runId: string, plan: ComparisonPlan, rows: readonly QueryRow[]): Promise<void> {
    await this.upsert(
      runId,
      'target',
      rows.map((r) => {
        const key = r[plan.keyQueryKey];
        return {
          key: key === undefined || key === null ? '' : String(key),
          item: targetItemId(plan, r),
          payload: r,
        };
      }),
    );
  }

  private async upsert(
    runId: string,
    side: StagingSide,
    items: ReadonlyArray<{ key: string; item: string; payload: unknown }>,
  ): Promise<void> {
    // One statement may not touch a row twice: the last copy of a row within a batch wins.
    const unique = new Map<string, { key: string; item: string; payload: unknown }>();
    for (const i of items) unique.set(`${i.key}\u0000${i.item}`, i);
    const all = [...unique.values()];
    for (let i = 0; i < all.length; i += WRITE_BATCH) {
      const batch = all.slice(i, i + WRITE_BATCH);
      // Raw: an upsert of a batch from jsonb_to_recordset (one statement per chunk).
      await this.ds.query(
        `INSERT INTO reconcile_staging (run_id, side, bill_key, item_id, payload)
         SELECT $1::uuid, $2, x.k, x.i, x.p
           FROM jsonb_to_recordset($3::jsonb) AS x(k text, i text, p jsonb)
         ON CONFLICT (run_id, side, bill_key, item_id) DO UPDATE SET payload = EXCLUDED.payload`,
        [runId, side, JSON.stringify(batch.map((b) => ({ k: b.key, i: b.item, p: b.payload })))],
      );
    }
  }

  /** Staged rows of a side in key order (`COLLATE "C"`, then item id), page by page. */
  async *rows(
    runId: string,
    side: StagingSide,
  ): AsyncGenerator<{ key: string; item: string; payload: unknown }> {
    let after: [string, string] | undefined;
    for (;;) {
      // Raw: keyset paging on (bill_key, item_id) in COLLATE "C" order.
      const page: Array<{ bill_key: string; item_id: string; payload: unknown }> = await this.ds.query(
        `SELECT bill_key, item_id, payload FROM reconcile_staging
          WHERE run_id = $1 AND side = $2
            AND ($3::text IS NULL OR (bill_key COLLATE "C", item_id COLLATE "C") > ($3::text COLLATE "C", $4::text COLLATE "C"))
          ORDER BY bill_key COLLATE "C", item_id COLLATE "C" LIMIT $5`,
        [runId, side, after?.[0] ?? null, after?.[1] ?? null, this.readPage],
      );
      for (const r of page) yield { key: r.bill_key, item: r.item_id, payload: r.payload };
      if (page.length < this.readPage) return;
      const last = page[page.length - 1];
      after = [last.bill_key, last.item_id];
    }
  }

  /** Source entries in key order. */
  async *source(runId: string): AsyncGenerator<SourceEntry> {
    for await (const r of this.rows(runId, 'source')) yield r.payload as SourceEntry;
  }

  /**
   * Target rows in key order; within a key by FID, then entry id, numerically (what
   * `groupBillsByKey` needs). Holds one key's rows at a time.
   */
  async *target(runId: string): AsyncGenerator<QueryRow> {
    let key: string | undefined;
    let held: Array<{ item: string; payload: unknown }> = [];
    const flush = function* (): Generator<QueryRow> {
      held.sort((a, b) => compareItemIds(a.item, b.item));
      for (const h of held) yield h.payload as QueryRow;
      held = [];
    };
    for await (const r of this.rows(runId, 'target')) {
      if (r.key !== key) {
        yield* flush();
        key = r.key;
      }
      held.push({ item: r.item, payload: r.payload });
    }
    yield* flush();
  }

  /** Distinct keys over both sides (the compare phase's total). */
  async countKeys(runId: string): Promise<number> {
    // Raw: count(DISTINCT) as text (exact beyond 2^53).
    const rows: Array<{ n: string }> = await this.ds.query(
      `SELECT count(DISTINCT bill_key)::text AS n FROM reconcile_staging WHERE run_id = $1`,
      [runId],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Source keys without any staged target row, in key order, a page at a time. */
  async *sourceKeysWithoutTarget(runId: string): AsyncGenerator<string> {
    let after: string | null = null;
    for (;;) {
      // Raw: an anti-join (NOT EXISTS) with keyset paging in COLLATE "C" order.
      const page: Array<{ bill_key: string }> = await this.ds.query(
        `SELECT DISTINCT s.bill_key COLLATE "C" AS bill_key FROM reconcile_staging s
          WHERE s.run_id = $1 AND s.side = 'source'
            AND ($2::text IS NULL OR s.bill_key COLLATE "C" > $2::text COLLATE "C")
            AND NOT EXISTS (SELECT 1 FROM reconcile_staging t
                             WHERE t.run_id = s.run_id AND t.side = 'target' AND t.bill_key = s.bill_key)
          ORDER BY 1 LIMIT $3`,
        [runId, after, this.readPage],
      );
      for (const r of page) yield r.bill_key;
      if (page.length < this.readPage) return;
      after = page[page.length - 1].bill_key;
    }
  }

  async clear(runId: string): Promise<void> {
    await this.ds.getRepository(ReconcileStagingEntity).delete({ runId });
  }
}
