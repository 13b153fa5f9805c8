import { resolve } from 'node:path';
import { formatShanghai } from '@libs/common';
import { StackRunner } from '@tools/devstack';
import { eventually, readAll } from '../support/test-env';

const root = resolve(__dirname, '../..');
const SCHEME = 'wdt-stockout-return-to-kingdee-pur-mrb';
const TOKEN = 'work-requests-operator-token-0123';

interface RangeRequest {
  id: string;
  state: string;
  progress: { done: number; total: number | null };
  message: string | null;
}

interface Preview {
  id: string;
  state: string;
  error: string | null;
  record: Record<string, unknown> | null;
  request: unknown;
  preconditions: Array<{ name: string; passed: boolean; message: string }>;
  codes: Array<{ field: string; formId: string; code: string; state: string; message: string }>;
}

/**
 * Requests the operator writes and the workers carry out, on the real stack (both sandboxes, extractor,
 * transformer, loader and operator as processes, real Kafka and Postgres): a backfill by the extractor
 * leading the scheme, a replay of the transform stage by the transformer, cancelling a running
 * backfill, and live previews by order number (WDT read by the extractor, codes checked in Kingdee by
 * the loader).
 */
describe('work requests: backfill, replay, cancel and live previews carried out by the workers', () => {
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
  const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/wdt_kingdee';
  let stack: StackRunner;
  const now = Date.now();
  const day = 86_400_000;
  // Older than the extractor's first poll (7 days back): only a backfill reads these.
  const rangeFrom = now - 21 * day;
  const rangeTo = now - 19 * day;
  const backfilled = ['BF-0001', 'BF-0002', 'BF-0003', 'BF-0004', 'BF-0005', 'PV-NOLINES', 'PV-GYS999'];

  const api = async <T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${stack.url('operator')}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const finished = (id: string, timeoutMs = 60_000) =>
    eventually(
      `range request ${id} to finish`,
      async () => {
        const r = (await api<RangeRequest>('GET', `/api/range-requests/${id}`)).body;
        return ['done', 'failed', 'cancelled'].includes(r.state) ? r : undefined;
      },
      timeoutMs,
    );
  const previewed = (id: string, timeoutMs = 60_000) =>
    eventually(
      `preview ${id} to finish`,
      async () => {
        const p = (await api<Preview>('GET', `/api/previews/${id}`)).body;
        return ['done', 'failed'].includes(p.state) ? p : undefined;
      },
      timeoutMs,
    );
  const documentsOf = async (orderNos: string[], atLeast: number) => {
    const all = await readAll({ brokers }, stack.topics.kingdeeDocument, atLeast);
    return all.filter((m) => orderNos.includes((JSON.parse(m.value) as { sourceKey: string }).sourceKey));
  };

  beforeAll(async () => {
    stack = new StackRunner({
      root,
      brokers,
      databaseUrl,
      services: ['loader', 'transformer', 'extractor', 'operator'],
      operatorToken: TOKEN,
      env: { LOG_LEVEL: 'warn', WORK_REQUEST_POLL_MS: '300' },
    });
    await stack.prepare();
    await stack.startSandboxes();
    const at = (i: number) => formatShanghai(rangeFrom + 3_600_000 * (i + 1));
    await stack.wdtAdmin('POST', '/orders', {
      orders: [
        ...backfilled.slice(0, 5).map((orderNo, i) => ({
          order_no: orderNo,
          status: 110,
          consign_time: at(i),
          warehouse_no: 'SH01',
          provider_no: 'GYS001',
        })),
        {
          order_no: 'PV-NOLINES',
          status: 110,
          consign_time: at(5),
          warehouse_no: 'SH01',
          provider_no: 'GYS001',
          details_list: [],
        },
        {
          order_no: 'PV-GYS999',
          status: 110,
          consign_time: at(6),
          warehouse_no: 'SH01',
          provider_no: 'GYS999',
        },
      ],
    });
    await stack.startServices();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await stack?.cleanup();
  });

  it('a backfill is carried out by the extractor leading the scheme: every order of the range on the raw topic, progress total = orders in range', async () => {
    const created = await api<RangeRequest>('POST', '/api/backfills', {
      schemeId: SCHEME,
      from: formatShanghai(rangeFrom),
      to: formatShanghai(rangeTo),
    });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ kind: 'backfill', stage: 'extract', state: 'queued' });
    const done = await finished(created.body.id);
    expect(done).toMatchObject({
      state: 'done',
      progress: { done: backfilled.length, total: backfilled.length },
    });
    const raw = await readAll({ brokers }, stack.topics.rawStockout, backfilled.length);
    const emitted = raw
      .map((m) => JSON.parse(m.value) as { orderNo: string; trigger: string })
      .filter((e) => e.trigger === 'backfill')
      .map((e) => e.orderNo);
    expect(new Set(emitted)).toEqual(new Set(backfilled));
    const actions = await api<{ items: Array<{ action: string; params: Record<string, unknown> }> }>(
      'GET',
      '/api/actions?action=backfill',
    );
    expect(actions.body.items.some((a) => a.params.requestId === created.body.id)).toBe(true);
  });

  it('a replay of the transform stage is carried out by the transformer and re-emits the documents', async () => {
    const mapped = backfilled.filter((o) => o !== 'PV-NOLINES');
    // The live transformer mapped the backfilled raw events once.
    const before = await eventually('the first documents', async () => {
      const docs = await documentsOf(mapped, 1);
      return new Set(docs.map((d) => JSON.parse(d.value).sourceKey)).size === mapped.length
        ? docs
        : undefined;
    });
    const created = await api<RangeRequest>('POST', '/api/replays', {
      schemeId: SCHEME,
      stage: 'transform',
      from: new Date(now - 60_000).toISOString(),
      to: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(created.status).toBe(202);
    const done = await finished(created.body.id);
    expect(done.state).toBe('done');
    expect(done.progress.done).toBe(done.progress.total);
    expect(done.progress.done).toBeGreaterThanOrEqual(backfilled.length);
    const after = await eventually('the re-emitted documents', async () => {
      const docs = await documentsOf(mapped, before.length + mapped.length);
      return docs.length >= before.length + mapped.length ? docs : undefined;
    });
    for (const orderNo of mapped)
      expect(after.filter((d) => JSON.parse(d.value).sourceKey === orderNo).length).toBeGreaterThanOrEqual(2);
  });

  it('cancels a queued request at once and a running one through its worker', async () => {
    // A slow WDT keeps a long backfill running while it is cancelled.
    await stack.wdtAdmin('PUT', '/knobs', { latencyMs: 1500 });
    try {
      const running = await api<RangeRequest>('POST', '/api/backfills', {
        schemeId: SCHEME,
        from: formatShanghai(now - 200 * day),
        to: formatShanghai(now - 22 * day),
      });
      // Queued behind the running one (one backfill at a time per leader): cancelled without a worker.
      const queued = await api<RangeRequest>('POST', '/api/backfills', {
        schemeId: SCHEME,
        from: formatShanghai(now - 300 * day),
        to: formatShanghai(now - 250 * day),
      });
      await eventually('the backfill to run', async () => {
        const r = (await api<RangeRequest>('GET', `/api/range-requests/${running.body.id}`)).body;
        return r.state === 'running';
      });
      const cancelledQueued = await api<RangeRequest>('POST', `/api/range-requests/${queued.body.id}/cancel`);
      expect(cancelledQueued.status).toBe(200);
      expect(cancelledQueued.body.state).toBe('cancelled');
      const asked = await api<RangeRequest>('POST', `/api/range-requests/${running.body.id}/cancel`);
      expect(asked.body).toMatchObject({ state: 'running', cancelRequested: true });
      const end = await finished(running.body.id);
      expect(end).toMatchObject({ state: 'cancelled', message: 'cancelled by an operator' });
      expect((await api('POST', `/api/range-requests/${running.body.id}/cancel`)).status).toBe(409);
      const list = await api<{ items: RangeRequest[] }>(
        'GET',
        '/api/range-requests?kind=backfill&state=cancelled',
      );
      expect(list.body.items.map((r) => r.id).sort()).toEqual([queued.body.id, running.body.id].sort());
    } finally {
      await stack.wdtAdmin('PUT', '/knobs', { latencyMs: 0 });
    }
  });

  it('previews an order from WDT: the BatchSave body, its preconditions and a supplier missing in Kingdee', async () => {
    const created = await api<Preview>('POST', '/api/previews', { schemeId: SCHEME, orderNo: 'PV-GYS999' });
    expect(created.status).toBe(202);
    expect(created.body.state).toBe('fetching');
    const p = await previewed(created.body.id);
    expect(p.state).toBe('done');
    expect(p.error).toBeNull();
    expect(JSON.stringify(p.request)).toContain('"FBillNo":"PV-GYS999"');
    expect(p.preconditions.map((c) => [c.name, c.passed])).toEqual([
      ['not-cancelled', true],
      ['shipped-or-completed', true],
      ['has-goods-lines', true],
    ]);
    expect(p.codes).toContainEqual(
      expect.objectContaining({ formId: 'BD_Supplier', code: 'GYS999', state: 'missing' }),
    );
    expect(p.codes.filter((c) => c.formId === 'BD_MATERIAL').length).toBeGreaterThan(0);
    expect(p.codes.filter((c) => c.formId === 'BD_MATERIAL').every((c) => c.state === 'ok')).toBe(true);
    // Personal data masked in what is stored and shown.
    const order = await stack.wdtAdmin('GET', '/orders/PV-GYS999');
    const wdtRecord = (order.order ?? order) as Record<string, unknown>;
    expect(p.record?.order_no).toBe('PV-GYS999');
    expect(p.record?.receiver_name).not.toEqual(wdtRecord.receiver_name);
    expect(JSON.stringify(p)).not.toContain(String(wdtRecord.receiver_mobile));
  });

  it('previews a supplier forbidden in Kingdee after an admin change, and a record failing a precondition', async () => {
    await stack.kingdeeAdmin('PATCH', '/base-data/suppliers/GYS001', { enabled: false });
    const forbidden = await previewed(
      (await api<Preview>('POST', '/api/previews', { schemeId: SCHEME, orderNo: 'BF-0001' })).body.id,
    );
    expect(forbidden.codes).toContainEqual(
      expect.objectContaining({ formId: 'BD_Supplier', code: 'GYS001', state: 'forbidden' }),
    );
    const noLines = await previewed(
      (await api<Preview>('POST', '/api/previews', { schemeId: SCHEME, orderNo: 'PV-NOLINES' })).body.id,
    );
    expect(noLines.preconditions).toContainEqual({
      name: 'has-goods-lines',
      passed: false,
      message: 'order has no goods lines',
    });
  });

  it('answers an order WDT does not have, and a draft that does not validate', async () => {
    const missing = await previewed(
      (await api<Preview>('POST', '/api/previews', { schemeId: SCHEME, orderNo: 'NOSUCH-ORDER' })).body.id,
    );
    expect(missing).toMatchObject({ state: 'failed', error: 'order NOSUCH-ORDER not found in WDT' });
    const bad = await api<{ issues: Array<{ path: Array<string | number>; message: string }> }>(
      'POST',
      '/api/previews',
      { schemeId: SCHEME, orderNo: 'BF-0001', schemeYaml: 'id: x\nenabled: maybe\n' },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.issues.length).toBeGreaterThan(0);
    expect(bad.body.issues.every((i) => Array.isArray(i.path) && typeof i.message === 'string')).toBe(true);
  });
});
