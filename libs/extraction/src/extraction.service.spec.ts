import { ManualClock, formatShanghai, parseShanghai } from '@libs/common';
import { RawStockoutEvent } from '@libs/contracts';
import { loadSchemeFile, Scheme } from '@libs/scheme';
import { register } from 'prom-client';
import {
  CursorState,
  ExtractionStore,
  RawEventSink,
  SourcePage,
  SourceQuery,
  SourceQueryOptions,
  StockoutSource,
} from './extraction.ports';
import { ExtractionService } from './extraction.service';

const shipped = loadSchemeFile('schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml');

function record(n: number, consignTime: string, modified = consignTime): Record<string, unknown> {
  return {
    stockout_id: String(1000 + n),
    order_no: `CT${n}`,
    warehouse_no: 'SH01',
    status: '110',
    consign_time: consignTime,
    provider_no: 'GYS001',
    modified,
    details_list: [{ rec_id: String(5000 + n), spec_no: 'BWB-500-W', goods_count: '1.0000' }],
  };
}

/** An in-memory WDT: records filtered by consign time, paged; `onRequest` sees each page request. */
class FakeSource implements StockoutSource {
  readonly gateway = 'native' as const;
  readonly log: string[] = [];
  readonly queries: Array<{ query: SourceQuery; options: SourceQueryOptions }> = [];
  /** Pages to serve restarted once: after this page number, a pass at a smaller size (as a server cap). */
  restartAfterPage?: { pageNo: number; size: number };
  constructor(public records: Array<Record<string, unknown>>) {}

  async *queryPages(query: SourceQuery, options: SourceQueryOptions): AsyncIterable<SourcePage> {
    this.queries.push({ query, options });
    const from = parseShanghai(query.startTime)!;
    const to = parseShanghai(query.endTime)!;
    const hits = this.records.filter((r) => {
      const at = parseShanghai(r.consign_time as string)!;
      return at >= from && at <= to;
    });
    let size = query.pageSize ?? 100;
    let restarted = false;
    for (let pass = 0; pass < 2; pass++) {
      const count = Math.max(1, Math.ceil(hits.length / size));
      for (let pageNo = 0; pageNo < count; pageNo++) {
        this.log.push(`request page ${pageNo} (size ${size})`);
        const items = hits
          .slice(pageNo * size, (pageNo + 1) * size)
          .map((record, position) => ({ record: structuredClone(record), pageNo, position }));
        const cut = pass === 0 && this.restartAfterPage?.pageNo === pageNo;
        yield {
          items,
          pageNo,
          pageSize: size,
          totalCount: hits.length,
          httpCalls: 1,
          last: pageNo === count - 1 && !cut,
          ...(restarted && pageNo === 0 ? { restarted: true } : {}),
        };
        if (cut) break;
        if (pageNo === count - 1) return;
      }
      size = this.restartAfterPage!.size;
      restarted = true;
    }
  }

  /** The whole window (the last pass), as the WDT client's queryAll builds it from the pages. */
  async queryAll(query: SourceQuery, options: SourceQueryOptions) {
    let pages: SourcePage[] = [];
    for await (const page of this.queryPages(query, options))
      pages = page.restarted ? [page] : [...pages, page];
    const items = pages.flatMap((p) => p.items);
    return {
      records: items.map((i) => i.record as Record<string, unknown>),
      items,
      totalCount: pages[0].totalCount,
      totalCountChanged: false,
      httpCalls: pages.length,
      pages: pages.length,
    };
  }
}

class FakeStore implements ExtractionStore {
  cursor?: CursorState;
  readonly fingerprints = new Map<string, string>();
  readonly commits: Array<{ orders: string[]; cursor?: string }> = [];
  constructor(private readonly log: string[]) {}
  async getCursor() {
    return this.cursor;
  }
  async getFingerprints(_schemeId: string, orderNos: string[]) {
    return new Map(
      orderNos.flatMap((o) => (this.fingerprints.has(o) ? [[o, this.fingerprints.get(o)!]] : [])),
    );
  }
  async commitWindow(
    _schemeId: string,
    emitted: Array<{ orderNo: string; fingerprint: string }>,
    cursor?: { axis: string; value: string },
  ) {
    this.log.push(
      `commit ${emitted.map((e) => e.orderNo).join(',')}${cursor ? ` cursor ${cursor.value}` : ''}`,
    );
    for (const e of emitted) this.fingerprints.set(e.orderNo, e.fingerprint);
    this.commits.push({ orders: emitted.map((e) => e.orderNo), cursor: cursor?.value });
    if (cursor)
      this.cursor = { axis: cursor.axis, cursorValue: cursor.value, paused: false, sweepValue: null };
  }
  async recordRun() {}
  async knownOrder() {
    return undefined;
  }
  async takeResyncRequests() {
    return [];
  }
  async completeResync() {}
}

class FakeSink implements RawEventSink {
  readonly events: RawStockoutEvent[] = [];
  constructor(private readonly log: string[]) {}
  async publish(events: RawStockoutEvent[]) {
    this.log.push(`publish ${events.map((e) => e.orderNo).join(',')}`);
    this.events.push(...events);
  }
  async parkMalformed() {}
}

const NOW = parseShanghai('2026-11-20 12:00:00')!;

function setup(records: Array<Record<string, unknown>>, patch: Partial<Scheme['source']> = {}) {
  const scheme: Scheme = {
    ...shipped,
    id: 'unit',
    source: {
      ...shipped.source,
      ...patch,
      cursor: { ...shipped.source.cursor, initial: '2026-11-20 11:00:00', ...(patch.cursor ?? {}) },
    },
  };
  const clock = new ManualClock(NOW);
  const source = new FakeSource(records);
  const store = new FakeStore(source.log);
  const sink = new FakeSink(source.log);
  const service = new ExtractionService(scheme, source, store, sink, clock, { sid: 's', method: 'm' });
  return { scheme, clock, source, store, sink, service };
}

const at = (minutesAfter11: number) =>
  formatShanghai(parseShanghai('2026-11-20 11:00:00')! + minutesAfter11 * 60_000);

describe('ExtractionService (streaming)', () => {
  it("publishes each page's records before the next page is requested; fingerprints and cursor only after the window", async () => {
    const records = Array.from({ length: 5 }, (_, i) => record(i, at(10 + i)));
    const { source, service, store } = setup(records, { pageSize: 2, pageOrder: 'first_to_last' });
    const stats = await service.poll();
    expect(source.log).toEqual([
      'request page 0 (size 2)',
      'publish CT0,CT1',
      'request page 1 (size 2)',
      'publish CT2,CT3',
      'request page 2 (size 2)',
      'publish CT4',
      'commit CT0,CT1,CT2,CT3,CT4 cursor 2026-11-20 11:59:59',
    ]);
    expect(stats).toMatchObject({ emitted: 5, fetched: 5, unchanged: 0 });
    expect(store.commits).toHaveLength(1);
  });

  it('does not emit again what a re-page (server cap) yields a second time in the same window', async () => {
    const records = Array.from({ length: 6 }, (_, i) => record(i, at(10 + i)));
    const { source, service, sink } = setup(records, { pageSize: 4, pageOrder: 'first_to_last' });
    source.restartAfterPage = { pageNo: 0, size: 2 };
    const stats = await service.poll();
    expect(sink.events.map((e) => e.orderNo)).toEqual(['CT0', 'CT1', 'CT2', 'CT3', 'CT4', 'CT5']);
    expect(stats).toMatchObject({ emitted: 6, fetched: 6 });
    expect(source.log.at(-1)).toBe('commit CT0,CT1,CT2,CT3,CT4,CT5 cursor 2026-11-20 11:59:59');
  });

  it('keeps a bounded sample of emitted keys over many windows, and every key of a targeted read', async () => {
    // 45 orders, one a minute, in 5-minute windows: a long backfill must not hold every order number.
    const records = Array.from({ length: 45 }, (_, i) => record(i, at(1 + i)));
    const { service } = setup(records, {
      pageSize: 4,
      cursor: { ...shipped.source.cursor, initial: '2026-11-20 11:00:00', maxWindow: '5m' },
    });
    const stats = (await service.poll())!;
    expect(stats.emitted).toBe(45);
    expect(stats.windows.length).toBeGreaterThan(5);
    expect(stats.emittedKeys).toEqual(Array.from({ length: 20 }, (_, i) => `CT${i}`));
    expect(stats.windows.every((w) => w.emittedKeys === undefined)).toBe(true);
    const only = new Set(Array.from({ length: 30 }, (_, i) => `CT${i + 10}`));
    const targeted = await service.backfill(at(0), at(50), { force: true, trigger: 'resync', only });
    expect(new Set(targeted.emittedKeys)).toEqual(only);
  });

  it('a crash before the window ends re-emits it (cursor and fingerprints untouched), never loses it', async () => {
    const records = Array.from({ length: 4 }, (_, i) => record(i, at(10 + i)));
    const { source, service, store, sink } = setup(records, { pageSize: 2, pageOrder: 'first_to_last' });
    const publish = sink.publish.bind(sink);
    let calls = 0;
    sink.publish = async (events) => {
      if (++calls === 2) throw new Error('broker gone');
      await publish(events);
    };
    await expect(service.poll()).rejects.toThrow('broker gone');
    expect(store.commits).toEqual([]);
    expect(store.cursor).toBeUndefined();
    sink.publish = publish;
    source.log.length = 0;
    await service.poll();
    expect(sink.events.map((e) => e.orderNo)).toEqual(['CT0', 'CT1', 'CT0', 'CT1', 'CT2', 'CT3']);
  });

  it('polls from cursor − overlap; the lookback re-read finds a late record and counts it', async () => {
    const { source, service, store, sink, clock } = setup([record(1, at(10))]);
    await service.poll(); // cursor → 11:59:59
    expect(store.cursor?.cursorValue).toBe('2026-11-20 11:59:59');
    expect(source.queries[0].options.priority).toBe('normal');
    clock.set(NOW + 10_000);
    // Written late: consigned 2 minutes before the cursor, visible only now.
    source.records.push(record(2, formatShanghai(parseShanghai('2026-11-20 11:57:59')!)));
    source.queries.length = 0;
    await service.poll();
    expect(source.queries[0].query.startTime).toBe('2026-11-20 11:59:29'); // cursor − 30 s
    expect(sink.events.map((e) => e.orderNo)).toEqual(['CT1']); // the poll does not reach it
    const lateBefore = await lateCount('unit');
    source.queries.length = 0;
    const stats = await service.lookback();
    expect(source.queries[0].query).toMatchObject({
      startTime: '2026-11-20 11:50:09',
      endTime: '2026-11-20 11:59:39',
    });
    expect(source.queries[0].options.priority).toBe('background');
    expect(stats).toMatchObject({ emitted: 1 });
    expect(sink.events.map((e) => e.orderNo)).toEqual(['CT1', 'CT2']);
    expect((await lateCount('unit')) - lateBefore).toBe(1);
    // The lookback does not move the cursor, and what it emitted is not late a second time.
    expect(store.cursor?.cursorValue).toBe('2026-11-20 12:00:09');
    await service.lookback();
    expect((await lateCount('unit')) - lateBefore).toBe(1);
  });
});

async function lateCount(scheme: string): Promise<number> {
  const metric = register.getSingleMetric('extractor_late_records_total');
  if (!metric) return 0;
  return (await metric.get()).values.find((v) => v.labels.scheme === scheme)?.value ?? 0;
}
