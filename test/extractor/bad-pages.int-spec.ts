import { ManualClock, parseShanghai } from '@libs/common';
import { AuditEventSchema, decodeEvent, DeadLetterEnvelope, DeadLetterEnvelopeSchema } from '@libs/contracts';
import { PostgresExtractionStore } from '@libs/extraction';
import { pipelineErrors } from '@libs/metrics';
import { Scheme } from '@libs/scheme';
import { WdtSandbox } from '../../apps/wdt-sandbox/src';
import { admin, extractorFixtures, schemeWith as patchedScheme } from '../support/extractor-fixtures';
import { readAll, TestEnv } from '../support/test-env';

/**
 * Bad WDT pages (issue 10, finding 7): corrupted records and pages from the sandbox's `corruptions`
 * knob, read over HTTP by the real client, emitted to the real broker, cursor in real Postgres.
 */
const MAX_ATTEMPTS = 3;
/** Longest a poll of these tests may take: every page's retries at the maximum backoff, twice (re-read). */
const POLL_BOUND_MS = 2 * MAX_ATTEMPTS * 200 + 2000;

function schemeWith(id: string, initial: string): Scheme {
  return patchedScheme(id, { cursor: { initial, lookback: '0s', safetyLag: '0s' } });
}

const order = (orderNo: string, consignTime: string) => ({
  order_no: orderNo,
  status: 110,
  consign_time: consignTime,
  warehouse_no: 'SH01',
  provider_no: 'GYS001',
  details_list: [{ spec_no: 'BWB-500-W', goods_count: '2.0000' }],
});

describe('extractor: bad WDT pages never stall and never hide an order', () => {
  const clock = new ManualClock(parseShanghai('2026-11-20 12:00:00')!);
  const fx = extractorFixtures('bad-pages', { partitions: 1, clock });
  // Set once the fixtures' own beforeAll (registered first) has run.
  let t: TestEnv;
  let sandbox: WdtSandbox;
  let store: PostgresExtractionStore;
  beforeAll(() => {
    ({ t, sandbox, store } = fx);
  });

  function service(scheme: Scheme) {
    const client = fx.client({
      maxAttempts: MAX_ATTEMPTS,
      backoff: { initialDelayMs: 20, rateLimitedInitialDelayMs: 50, maxDelayMs: 200 },
    });
    return fx.service(scheme, client);
  }

  const rawEvents = fx.rawEvents;

  async function deadLetters(schemeId: string, expectAtLeast = 0): Promise<DeadLetterEnvelope[]> {
    return (await readAll(t, t.topics.deadLetter, expectAtLeast, expectAtLeast === 0 ? 3000 : 30000))
      .map((m) => decodeEvent(DeadLetterEnvelopeSchema, m.value, 'dead letter'))
      .filter((e) => e.schemeId === schemeId);
  }

  beforeEach(() => {
    clock.set(parseShanghai('2026-11-20 12:00:00')!);
  });

  it('heals a record corrupted once in transit by re-reading the window: nothing parked, the good record emitted', async () => {
    await admin(sandbox, 'POST', '/orders', {
      orders: [order('HEAL-1', '2026-11-20 08:00:00'), order('HEAL-2', '2026-11-20 08:01:00')],
    });
    await admin(sandbox, 'PATCH', '/knobs', {
      corruptions: [
        { kind: 'details_not_array', order: 'HEAL-1', times: 1 },
        { kind: 'missing_order_no', order: 'HEAL-2', times: 1 },
      ],
    });
    const stats = await service(schemeWith('heal', '2026-11-20 07:00:00')).poll();
    // Both corruptions hit the first read of the (one-page) window, none the re-read.
    const outcomes = (await admin(sandbox, 'GET', '/requests')).map((r: { outcome: string }) => r.outcome);
    expect(outcomes).toEqual(['fault:corrupted:details_not_array+missing_order_no', 'ok:2']);
    expect(stats).toMatchObject({ emitted: 2, parked: 0 });
    const events = await rawEvents('heal', 2);
    expect(events.map((e) => e.orderNo).sort()).toEqual(['HEAL-1', 'HEAL-2']);
    expect(Array.isArray(events.find((e) => e.orderNo === 'HEAL-1')!.record.details_list)).toBe(true);
    expect(await deadLetters('heal')).toEqual([]);
  });

  it(
    'parks a persistent null record with its window and position under a hash key; the rest of the page is emitted and the cursor moves',
    async () => {
      await admin(sandbox, 'POST', '/orders', {
        orders: [
          order('NULL-A', '2026-11-20 09:00:00'),
          order('NULL-B', '2026-11-20 09:01:00'),
          order('NULL-C', '2026-11-20 09:02:00'),
        ],
      });
      await admin(sandbox, 'PATCH', '/knobs', { corruptions: [{ kind: 'null_record', order: 'NULL-B' }] });
      const stats = await service(schemeWith('null-record', '2026-11-20 08:30:00')).poll();
      expect(stats).toMatchObject({ emitted: 2, parked: 1 });
      expect((await rawEvents('null-record', 2)).map((e) => e.orderNo).sort()).toEqual(['NULL-A', 'NULL-C']);
      expect((await store.getCursor('null-record'))?.cursorValue).toBe('2026-11-20 12:00:00');
      const [parked] = await deadLetters('null-record', 1);
      expect(parked.sourceKey).toMatch(/^hash:[0-9a-f]{16}$/);
      expect(parked.errorMessage).toContain('2026-11-20 08:30:00');
      expect(parked.errorMessage).toContain('2026-11-20 12:00:00');
      expect(parked.errorMessage).toMatch(/page 0, position 1\b/);
      expect(parked.payload).toEqual({ storage: 'inline', encoding: 'utf8', data: 'null' });
      const audits = (await readAll(t, t.topics.audit, 1))
        .map((m) => decodeEvent(AuditEventSchema, m.value, 'audit'))
        .filter((a) => a.schemeId === 'null-record');
      expect(audits.map((a) => [a.sourceKey, a.status])).toEqual([[parked.sourceKey, 'dead_lettered']]);
    },
    3 * POLL_BOUND_MS + 10_000,
  );

  it('parks records without order_no under stockout:<id>; two in different windows get different keys', async () => {
    const noOrderNo = (id: string, at: string) => ({
      stockout_id: id,
      status: '110',
      consign_time: at,
      modified: at,
      warehouse_no: 'SH01',
      details_list: [],
    });
    await admin(sandbox, 'POST', '/orders', {
      raw: true,
      orders: [noOrderNo('880001', '2026-11-20 08:00:00')],
    });
    const scheme = schemeWith('no-order-no', '2026-11-20 07:00:00');
    clock.set(parseShanghai('2026-11-20 10:00:00')!);
    expect(await service(scheme).poll()).toMatchObject({ parked: 1 });
    await admin(sandbox, 'POST', '/orders', {
      raw: true,
      orders: [noOrderNo('880002', '2026-11-20 11:00:00')],
    });
    clock.set(parseShanghai('2026-11-20 12:00:00')!);
    expect(await service(scheme).poll()).toMatchObject({ parked: 1 });
    const parked = await deadLetters('no-order-no', 2);
    expect(parked.map((p) => p.sourceKey).sort()).toEqual(['stockout:880001', 'stockout:880002']);
    expect(parked.find((p) => p.sourceKey === 'stockout:880001')!.errorMessage).toMatch(
      /no order_no.*2026-11-20 07:00:00.*2026-11-20 10:00:00.*page 0, position 0/,
    );
  });

  it('names the real size limit and the record size when a record is too large for the raw topic', async () => {
    await admin(sandbox, 'POST', '/orders', {
      orders: [{ ...order('BIG-1', '2026-11-20 08:00:00'), remark: 'x'.repeat(1_100_000) }],
    });
    const stats = await service(schemeWith('oversize', '2026-11-20 07:00:00')).poll();
    const [parked] = await deadLetters('oversize', 1);
    expect(parked.sourceKey).toBe('BIG-1');
    expect(parked.errorMessage).toMatch(/\b11\d{5} bytes\b/);
    expect(parked.errorMessage).toContain('1047552-byte limit');
    expect(parked.errorMessage).toContain('KAFKA_MAX_MESSAGE_BYTES');
    expect(parked.errorMessage).not.toContain(' 0-byte');
    expect(parked.errorMessage).toMatch(/page 0, position 0/);
    expect(stats).toMatchObject({ emitted: 0, parked: 1 });
  });

  it(
    'retries a non-JSON page a bounded number of times, then reports it (lastError, metric) while another scheme goes on',
    async () => {
      await admin(sandbox, 'POST', '/orders', {
        orders: [
          order('PAGE-OK', '2026-11-20 08:00:00'),
          { ...order('NEIGHBOUR-1', '2026-11-20 12:40:00'), warehouse_no: 'BJ02' },
        ],
      });
      const broken = schemeWith('non-json', '2026-11-20 07:00:00');
      // Another scheme (one warehouse): its pages do not hold the broken record.
      const neighbour: Scheme = {
        ...schemeWith('non-json-neighbour', '2026-11-20 12:00:00'),
      };
      neighbour.source = { ...neighbour.source, filters: { warehouse_no: ['BJ02'] } };
      clock.set(parseShanghai('2026-11-20 12:00:00')!);
      expect(await service(broken).poll()).toMatchObject({ emitted: 1 });
      await admin(sandbox, 'POST', '/orders', { orders: [order('PAGE-BAD', '2026-11-20 12:30:00')] });
      await admin(sandbox, 'PATCH', '/knobs', {
        corruptions: [{ kind: 'non_json_page', order: 'PAGE-BAD' }],
      });
      await admin(sandbox, 'POST', '/stats/reset');
      clock.set(parseShanghai('2026-11-20 13:00:00')!);
      const errorsBefore = await extractorErrors();
      const [failed, other] = await Promise.allSettled([service(broken).poll(), service(neighbour).poll()]);
      expect(failed.status).toBe('rejected');
      expect(String((failed as PromiseRejectedResult).reason)).toMatch(/page_no 0.*not a JSON object/);
      expect(other).toMatchObject({ status: 'fulfilled', value: { emitted: 1 } });
      expect((await rawEvents('non-json-neighbour', 1)).map((e) => e.orderNo)).toEqual(['NEIGHBOUR-1']);
      // Retried a bounded number of times, then reported; the broken scheme's cursor stays put.
      expect((await admin(sandbox, 'GET', '/stats')).faults.corrupted).toBe(MAX_ATTEMPTS);
      expect((await store.getCursor('non-json'))?.cursorValue).toBe('2026-11-20 12:00:00');
      const [row] = await t.ds.query(`SELECT last_error FROM sync_cursors WHERE scheme_id = 'non-json'`);
      expect(row.last_error).toMatch(/not a JSON object/);
      expect(await extractorErrors()).toBeGreaterThan(errorsBefore);
    },
    3 * POLL_BOUND_MS + 10_000,
  );
});

async function extractorErrors(): Promise<number> {
  return (await pipelineErrors.get()).values
    .filter((v) => v.labels.stage === 'extractor')
    .reduce((sum, v) => sum + v.value, 0);
}
