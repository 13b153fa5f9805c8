import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuditRepository } from '@libs/audit';
import { ManualClock, parseShanghai } from '@libs/common';
import { AuditEvent, DeadLetterEnvelope, RawStockoutEvent } from '@libs/contracts';
import { PostgresPayloadStore } from '@libs/database';
import {
  ActionView,
  AuditOrderDetailView,
  AuditOrderView,
  BaseDataCheckView,
  BaseDataWaitingView,
  buildOpenApiDocument,
  DeadLetterDetailView,
  DeadLetterView,
  pageOf,
  PauseView,
  RepushView,
  ResyncCreatedView,
  ResyncRequestView,
  SchemesView,
  StatsView,
  servedRoutes,
} from '@libs/operator';
import { OperatorAppModule } from '../../apps/operator/src/app.module';
import { createTestEnv, readAll, TestEnv } from '../support/test-env';

const SCHEME = 'wdt-stockout-return-to-kingdee-pur-mrb';
const NOW = Date.parse('2026-11-28T04:00:00.000Z'); // 12:00:00 in Shanghai
const ALICE = `alice-${randomBytes(12).toString('hex')}`;
const BOB = `bob-${randomBytes(12).toString('hex')}`;
const PERSON = {
  receiver_name: '张三丰',
  receiver_mobile: '13812345678',
  receiver_telno: '0755-86001234',
  receiver_address: '广东省深圳市南山区科技园科苑路15号',
  receiver_area: '广东省 深圳市 南山区',
  receiver_zip: '518057',
};

function rawEvent(orderNo: string): RawStockoutEvent {
  return {
    eventType: 'wdt.stockout-return.raw',
    schemaVersion: 1,
    eventId: randomUUID(),
    schemeId: SCHEME,
    source: { system: 'wdt', sid: 'sid1', gateway: 'native', method: 'wdt.stockout.order.query.return' },
    orderNo,
    extractedAt: '2026-11-28T03:00:00.000Z',
    sourceWindow: { axis: 'consign_time', start: '2026-11-28 10:00:00', end: '2026-11-28 11:00:00' },
    fingerprint: `fp-${orderNo}`,
    trigger: 'poll',
    record: { order_no: orderNo, ...PERSON, details_list: [{ spec_no: 'A', goods_count: '1.0000' }] },
  };
}

function audit(
  orderNo: string,
  status: AuditEvent['status'],
  minutesAgo: number,
  extra: Partial<AuditEvent> = {},
) {
  return {
    eventType: 'sync.audit',
    schemaVersion: 1,
    eventId: randomUUID(),
    schemeId: SCHEME,
    sourceKey: orderNo,
    stage: 'loader',
    status,
    occurredAt: new Date(NOW - minutesAgo * 60_000).toISOString(),
    correlationId: orderNo,
    ...extra,
  } as AuditEvent;
}

describe('operator API over HTTP (real Postgres, real Kafka)', () => {
  let t: TestEnv;
  let app: INestApplication;
  let base: string;
  const clock = new ManualClock(NOW);
  // Dead letters: Kafka origin inline (raw topic), Kafka origin in Postgres (document topic), extractor origin.
  const dlInline = randomUUID();
  const dlStored = randomUUID();
  const dlWdt = randomUUID();
  const rawBytes = JSON.stringify(rawEvent('CT-DLQ-1'));
  const storedBytes = Buffer.from(
    JSON.stringify({ sourceKey: 'CT-BIG-1', model: { pad: 'x'.repeat(5000) }, ...PERSON }),
  );

  const call = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const { token = ALICE, ...rest } = init;
    const headers: Record<string, string> = { ...(rest.headers as Record<string, string>) };
    if (token) headers.authorization = `Bearer ${token}`;
    if (rest.body) headers['content-type'] = 'application/json';
    return fetch(`${base}${path}`, { ...rest, headers });
  };
  const json = async (path: string, init?: RequestInit & { token?: string | null }, status = 200) => {
    const res = await call(path, init);
    const body = (await res.json()) as Record<string, unknown>;
    expect([path, res.status, res.status === status ? '' : body]).toEqual([path, status, '']);
    return body;
  };
  const post = (path: string, body: unknown, status = 200) =>
    json(path, { method: 'POST', body: JSON.stringify(body) }, status);

  beforeAll(async () => {
    t = await createTestEnv('operator');
    const repo = new AuditRepository(t.ds);
    const stored = new PostgresPayloadStore(t.ds);
    const sha = createHash('sha256').update(storedBytes).digest('hex');
    await stored.save(dlStored, storedBytes, sha);
    const envelope = (id: string, over: Partial<DeadLetterEnvelope>): DeadLetterEnvelope => ({
      eventType: 'sync.dead-letter',
      schemaVersion: 1,
      eventId: id,
      stage: 'transformer',
      schemeId: SCHEME,
      errorClass: 'MappingError',
      errorMessage: 'FSupplierId: no value map entry',
      attempts: 1,
      occurredAt: new Date(NOW - 30 * 60_000).toISOString(),
      origin: { topic: t.topics.rawStockout, partition: 1, offset: '7', key: 'CT-DLQ-1' },
      payload: { storage: 'inline', encoding: 'utf8', data: rawBytes },
      ...over,
    });
    await repo.recordDeadLetters([
      envelope(dlInline, { sourceKey: 'CT-DLQ-1' }),
      envelope(dlStored, {
        stage: 'loader',
        sourceKey: 'CT-BIG-1',
        origin: { topic: t.topics.kingdeeDocument, partition: 0, offset: '3', key: 'CT-BIG-1' },
        payload: { storage: 'postgres', ref: dlStored, sizeBytes: storedBytes.length, sha256: sha },
      }),
      envelope(dlWdt, {
        stage: 'extractor',
        sourceKey: 'CT-WDT-1',
        errorClass: 'MessageTooLargeError',
        origin: {
          topic: 'wdt:wdt.stockout.order.query.return',
          partition: 0,
          offset: 'w~x:CT-WDT-1',
          key: 'CT-WDT-1',
        },
        payload: { storage: 'inline', encoding: 'utf8', data: JSON.stringify(rawEvent('CT-WDT-1')) },
      }),
    ]);
    const events: AuditEvent[] = [
      audit('CT-DLQ-1', 'loaded', 120, { stage: 'transformer' }),
      audit('CT-DLQ-1', 'dead_lettered', 30, {
        stage: 'transformer',
        deadLetterId: dlInline,
        errorMessage: 'x',
      }),
      audit('CT-FAIL-1', 'failed', 20, { errorMessage: '供应商不存在', errorField: 'FSupplierId' }),
      audit('CT-BIG-1', 'dead_lettered', 25, { deadLetterId: dlStored }),
      audit('CT-WDT-1', 'dead_lettered', 26, { stage: 'extractor', deadLetterId: dlWdt }),
    ];
    // 26 loaded orders, one a minute from 100 to 75 minutes ago.
    for (let i = 0; i < 26; i++) events.push(audit(`CT-OK-${String(i).padStart(2, '0')}`, 'loaded', 100 - i));
    await repo.recordAuditEvents(events);
    await t.ds.query(
      `INSERT INTO sync_cursors (scheme_id, axis, cursor_value, last_run_at, last_success_at, paused, updated_at)
       VALUES ('legacy-scheme', 'modified', '2026-11-28 11:50:00', $1, $2, false, now())`,
      [new Date(NOW - 30_000), new Date(NOW - 90_000)],
    );
    await t.ds.query(
      `INSERT INTO service_status (service, instance, key, value, updated_at) VALUES
         ('loader', 'host-a-1', 'kingdee_circuit', $1, now()), ('loader', 'host-b-2', 'kingdee_circuit', $2, now())`,
      [
        JSON.stringify({ state: 'closed', lastError: null, since: '2026-11-28T03:00:00.000Z' }),
        JSON.stringify({
          state: 'open',
          lastError: 'HTTP 503 from Kingdee',
          since: '2026-11-28T03:55:00.000Z',
        }),
      ],
    );
    app = await NestFactory.create(
      OperatorAppModule.create(
        {
          ...t.env,
          OPERATOR_TOKENS: `alice:admin:${ALICE},bob:admin:${BOB}`,
          SCHEMES_DIR: 'schemes',
          LOG_LEVEL: 'silent',
        },
        { clock },
      ),
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
  });

  describe('auth', () => {
    it('answers 401 without a token or with a wrong one, 200 with a good one', async () => {
      const none = await call('/api/audit/stats', { token: null });
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(((await none.json()) as { message: string }).message).toBe('missing bearer token or session');
      // Same length, last character changed (never equal to the real token).
      const wrong = await call('/api/audit/stats', {
        token: `${ALICE.slice(0, -1)}${ALICE.endsWith('0') ? '1' : '0'}`,
      });
      expect(wrong.status).toBe(401);
      expect(
        (await call('/api/audit/stats', { headers: { authorization: `Basic ${ALICE}` }, token: null }))
          .status,
      ).toBe(401);
      expect((await call('/api/audit/stats')).status).toBe(200);
      expect((await call('/api/audit/stats', { token: BOB })).status).toBe(200);
    });

    it('protects every documented /api route but the public ones (document, sign-in); health stays public', async () => {
      const doc = (await buildOpenApiDocument()) as {
        paths: Record<string, Record<string, { security?: [] }>>;
      };
      const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => ({ path, method, public: op.security?.length === 0 })),
      );
      expect(routes).toHaveLength(51);
      for (const route of routes) {
        const path = route.path.replace(/\{([A-Za-z]+)\}/g, (_m, name: string) =>
          name === 'orderNo'
            ? 'CT-OK-01'
            : name === 'id' && route.path.startsWith('/api/schemes')
              ? SCHEME
              : dlInline,
        );
        const res = await call(path, { method: route.method.toUpperCase(), token: null });
        // Sign-in without a body is a 400; what matters is that no public route asks for a token.
        const expected = route.public ? (route.method === 'get' ? 200 : 400) : 401;
        expect([route.method, path, res.status]).toEqual([route.method, path, expected]);
      }
      expect((await call('/health', { token: null })).status).toBe(200);
      expect((await call('/metrics', { token: null })).status).toBe(200);
    });
  });

  describe('audit queries', () => {
    it("returns an order's rows and its history newest first, with its dead letters", async () => {
      const body = AuditOrderDetailView.parse(await json('/api/audit/orders/CT-DLQ-1'));
      expect(body.orders).toHaveLength(1);
      expect(body.orders[0]).toMatchObject({
        schemeId: SCHEME,
        status: 'dead_lettered',
        deadLetterId: dlInline,
      });
      expect(body.history.items.map((h) => h.status)).toEqual(['dead_lettered', 'loaded']);
      expect(body.deadLetters.map((d) => d.id)).toEqual([dlInline]);
      const paged = AuditOrderDetailView.parse(await json('/api/audit/orders/CT-DLQ-1?limit=1&offset=1'));
      expect(paged.history.items.map((h) => h.status)).toEqual(['loaded']);
      expect(paged.history.nextOffset).toBeNull();
      await json('/api/audit/orders/NO-SUCH-ORDER', undefined, 404);
    });

    it('lists by status with paging and by time range', async () => {
      const page = pageOf(AuditOrderView);
      const first = page.parse(await json('/api/audit/orders?status=loaded&limit=10'));
      expect(first.items).toHaveLength(10);
      expect(first.nextOffset).toBe(10);
      expect(first.items[0].sourceKey).toBe('CT-OK-25'); // newest first
      const last = page.parse(await json('/api/audit/orders?status=loaded&limit=10&offset=20'));
      expect(last.items.map((o) => o.sourceKey)).toEqual([
        'CT-OK-05',
        'CT-OK-04',
        'CT-OK-03',
        'CT-OK-02',
        'CT-OK-01',
        'CT-OK-00',
      ]);
      expect(last.nextOffset).toBeNull();
      const from = new Date(NOW - 80.5 * 60_000).toISOString();
      const to = new Date(NOW - 77.5 * 60_000).toISOString();
      const ranged = page.parse(await json(`/api/audit/orders?from=${from}&to=${to}`));
      expect(ranged.items.map((o) => o.sourceKey)).toEqual(['CT-OK-22', 'CT-OK-21', 'CT-OK-20']);
      const failed = page.parse(await json(`/api/audit/orders?status=failed&schemeId=${SCHEME}`));
      expect(failed.items.map((o) => [o.sourceKey, o.errorMessage, o.errorField])).toEqual([
        ['CT-FAIL-1', '供应商不存在', 'FSupplierId'],
      ]);
    });

    it('counts per status and shows the worst loader circuit state', async () => {
      const stats = StatsView.parse(await json(`/api/audit/stats?schemeId=${SCHEME}`));
      expect(stats.counts).toMatchObject({ loaded: 26, failed: 1, dead_lettered: 3, skipped: 0 });
      expect(stats.total).toBe(30);
      expect(stats.circuit.state).toBe('open');
      expect(stats.circuit.instances.find((i) => i.instance === 'host-b-2')?.lastError).toBe(
        'HTTP 503 from Kingdee',
      );
    });
  });

  describe('validation', () => {
    it('answers 400 naming the field', async () => {
      const cases: Array<[string, RequestInit | undefined, RegExp]> = [
        ['/api/audit/orders?limit=500', undefined, /^limit: /],
        ['/api/audit/orders?status=bogus', undefined, /^status: /],
        ['/api/audit/orders?from=yesterday', undefined, /^from: /],
        [
          `/api/audit/orders?from=${new Date(NOW).toISOString()}&to=${new Date(NOW - 1000).toISOString()}`,
          undefined,
          /^to: must be after from/,
        ],
        ['/api/audit/orders?stauts=failed', undefined, /^stauts: unknown parameter/],
        ['/api/dead-letters/not-a-uuid', undefined, /^id: /],
        ['/api/dead-letters?stage=nowhere', undefined, /^stage: /],
        [
          '/api/repush',
          { method: 'POST', body: JSON.stringify({ deadLetterIds: ['nope'] }) },
          /^deadLetterIds\.0: /,
        ],
        ['/api/repush', { method: 'POST', body: JSON.stringify({}) }, /^deadLetterIds: one of/],
        [
          '/api/repush',
          { method: 'POST', body: JSON.stringify({ all: { status: 'loaded' } }) },
          /^all\.status: /,
        ],
        [
          '/api/resync',
          { method: 'POST', body: JSON.stringify({ schemeId: SCHEME, orderNos: [] }) },
          /^orderNos: /,
        ],
        [
          '/api/resync',
          { method: 'POST', body: JSON.stringify({ schemeId: 'nope-scheme', orderNos: ['A'] }) },
          new RegExp(`^schemeId: unknown scheme "nope-scheme"; known schemes: .*${SCHEME}`),
        ],
        [
          '/api/repush',
          { method: 'POST', body: JSON.stringify({ orderNos: ['A'], schemeId: 'nope-scheme' }) },
          new RegExp(`^schemeId: unknown scheme "nope-scheme"; known schemes: .*${SCHEME}`),
        ],
        [
          '/api/repush',
          { method: 'POST', body: JSON.stringify({ all: { status: 'failed', schemeId: 'nope-scheme' } }) },
          new RegExp(`^all\\.schemeId: unknown scheme "nope-scheme"; known schemes: .*${SCHEME}`),
        ],
        [
          `/api/audit/orders?from=${encodeURIComponent('2026-11-28 12:00:00')}&to=${encodeURIComponent('2026-11-28 11:00:00')}`,
          undefined,
          /^to: must be after from/,
        ],
        ['/api/audit/stats?from=2026-13-01%2000:00:00', undefined, /^from: /],
      ];
      for (const [path, init, message] of cases) {
        const body = await json(path, init, 400);
        expect([path, body.message]).toEqual([path, expect.stringMatching(message)]);
      }
    });
  });

  describe('times: Shanghai wall-clock in, +08:00 out, whatever the host zone', () => {
    const zones = ['UTC', 'America/Los_Angeles', 'Pacific/Kiritimati'];
    const saved = process.env.TZ;
    afterEach(() => {
      process.env.TZ = saved;
    });

    it.each(zones)(
      'accepts "yyyy-MM-dd HH:mm:ss" and ISO times and answers with +08:00 (TZ=%s)',
      async (zone) => {
        process.env.TZ = zone;
        const page = pageOf(AuditOrderView);
        // 10:39:30 … 10:42:30 in Shanghai: the orders of 10:40, 10:41 and 10:42 (see the ISO range test).
        const ranges = [
          ['2026-11-28 10:39:30', '2026-11-28 10:42:30'],
          ['2026-11-28T10:39:30', '2026-11-28T10:42:30.000'],
          ['2026-11-28T02:39:30Z', '2026-11-28T10:42:30+08:00'],
        ];
        for (const [from, to] of ranges) {
          const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
          const ranged = page.parse(await json(`/api/audit/orders?${q}`));
          expect([from, ranged.items.map((o) => [o.sourceKey, o.lastOccurredAt])]).toEqual([
            from,
            [
              ['CT-OK-22', '2026-11-28T10:42:00.000+08:00'],
              ['CT-OK-21', '2026-11-28T10:41:00.000+08:00'],
              ['CT-OK-20', '2026-11-28T10:40:00.000+08:00'],
            ],
          ]);
        }
        const stats = StatsView.parse(await json(`/api/audit/stats?schemeId=${SCHEME}`));
        expect(stats.circuit.instances.find((i) => i.instance === 'host-b-2')?.since).toBe(
          '2026-11-28T11:55:00.000+08:00',
        );
        const detail = AuditOrderDetailView.parse(await json('/api/audit/orders/CT-FAIL-1'));
        for (const at of [detail.orders[0].lastOccurredAt, detail.history.items[0].occurredAt])
          expect(at).toBe('2026-11-28T11:40:00.000+08:00');
        // The audit event itself is shown as it was received.
        expect(detail.history.items[0].event.occurredAt).toBe('2026-11-28T03:40:00.000Z');
      },
    );
  });

  describe('personal data', () => {
    it('masks receiver data in dead-letter payloads by default and reveals it with ?reveal=pii (recorded)', async () => {
      const masked = DeadLetterDetailView.parse(await json(`/api/dead-letters/${dlInline}`));
      if (masked.payload.storage !== 'inline') throw new Error('expected an inline payload');
      const record = (masked.payload.json as { record: Record<string, string> }).record;
      expect(record).toMatchObject({
        receiver_name: '张**',
        receiver_mobile: '138****5678',
        receiver_telno: '075****1234',
        receiver_address: '广东省深圳市***',
        receiver_area: '广东省深圳市***',
        receiver_zip: '51****',
        order_no: 'CT-DLQ-1',
      });
      expect(masked.payload.masked).toBe(true);
      for (const secret of ['张三丰', '13812345678', '科技园', '86001234', '518057'])
        expect(JSON.stringify(masked)).not.toContain(secret);

      const revealed = DeadLetterDetailView.parse(await json(`/api/dead-letters/${dlInline}?reveal=pii`));
      if (revealed.payload.storage !== 'inline') throw new Error('expected an inline payload');
      expect(revealed.payload.data).toBe(rawBytes);
      expect((revealed.payload.json as { record: Record<string, string> }).record.receiver_mobile).toBe(
        '13812345678',
      );

      const actions = pageOf(ActionView).parse(await json('/api/actions?action=reveal_pii'));
      expect(actions.items[0]).toMatchObject({ tokenName: 'alice', target: `dead-letters/${dlInline}` });
    });

    it('streams a Postgres payload as stored with reveal, and masked JSON without', async () => {
      const detail = DeadLetterDetailView.parse(await json(`/api/dead-letters/${dlStored}`));
      expect(detail.payload).toMatchObject({
        storage: 'postgres',
        sizeBytes: storedBytes.length,
        sha256: createHash('sha256').update(storedBytes).digest('hex'),
        stored: true,
        href: `/api/dead-letters/${dlStored}/payload`,
      });
      const raw = await call(`/api/dead-letters/${dlStored}/payload?reveal=pii`, { token: BOB });
      expect(raw.status).toBe(200);
      expect(raw.headers.get('x-content-sha256')).toBe(
        createHash('sha256').update(storedBytes).digest('hex'),
      );
      expect(Buffer.from(await raw.arrayBuffer()).equals(storedBytes)).toBe(true);
      const maskedRes = await call(`/api/dead-letters/${dlStored}/payload`);
      expect(maskedRes.headers.get('x-payload-masked')).toBe('true');
      const masked = (await maskedRes.json()) as Record<string, unknown>;
      expect(masked).toMatchObject({
        sourceKey: 'CT-BIG-1',
        receiver_name: '张**',
        receiver_mobile: '138****5678',
      });
      const actions = pageOf(ActionView).parse(await json('/api/actions?tokenName=bob&action=reveal_pii'));
      expect(actions.items.map((a) => a.target)).toEqual([`dead-letters/${dlStored}/payload`]);
    });
  });

  describe('repair', () => {
    it('re-pushes a Kafka-origin dead letter as parked when asked (payload): original bytes and key back on its topic, row marked', async () => {
      const body = RepushView.parse(await post('/api/repush', { deadLetterIds: [dlInline], payload: true }));
      expect(body.results).toEqual([
        expect.objectContaining({
          kind: 'dead_letter',
          target: dlInline,
          outcome: 'repushed',
          topic: t.topics.rawStockout,
        }),
      ]);
      const messages = await readAll(t, t.topics.rawStockout, 1);
      expect(messages).toHaveLength(1);
      expect(messages[0].value).toBe(rawBytes);
      expect(messages[0].key).toBe('CT-DLQ-1');
      expect(messages[0].headers).toMatchObject({
        'x-repushed-by': 'alice',
        'event-type': 'wdt.stockout-return.raw',
      });
      const row = DeadLetterView.parse(await json(`/api/dead-letters/${dlInline}`));
      expect(row).toMatchObject({ state: 'repushed', repushedBy: 'alice' });
      expect(row.repushedAt).not.toBeNull();
      // A second re-push is refused unless forced.
      const again = RepushView.parse(await post('/api/repush', { deadLetterIds: [dlInline], payload: true }));
      expect(again.results[0]).toMatchObject({
        outcome: 'skipped',
        reason: expect.stringMatching(/already repushed by alice/),
      });
      const actions = pageOf(ActionView).parse(await json('/api/actions?action=repush.dead_letter'));
      expect(actions.items.map((a) => [a.tokenName, a.target, a.outcome?.split(':')[0]])).toEqual([
        ['alice', dlInline, 'skipped'],
        ['alice', dlInline, 'repushed'],
      ]);
    });

    it('re-pushes a dead letter whose bytes live in Postgres, via its order number (payload)', async () => {
      const body = RepushView.parse(await post('/api/repush', { orderNos: ['CT-BIG-1'], payload: true }));
      expect(body.results).toEqual([
        expect.objectContaining({
          kind: 'order',
          target: 'CT-BIG-1',
          outcome: 'repushed',
          deadLetterId: dlStored,
        }),
      ]);
      const messages = await readAll(t, t.topics.kingdeeDocument, 1);
      expect(Buffer.from(messages[0].value).equals(storedBytes)).toBe(true);
      expect(messages[0].key).toBe('CT-BIG-1');
    });

    it('turns a failed order and an extractor dead letter into resync requests', async () => {
      const body = RepushView.parse(
        await post('/api/repush', {
          orderNos: ['CT-FAIL-1', 'NO-SUCH-ORDER', 'CT-OK-01'],
          deadLetterIds: [dlWdt],
        }),
      );
      const byTarget = Object.fromEntries(body.results.map((r) => [r.target, r]));
      expect(byTarget[dlWdt]).toMatchObject({
        outcome: 'resync_requested',
        orderNo: 'CT-WDT-1',
        schemeId: SCHEME,
      });
      expect(byTarget['CT-FAIL-1']).toMatchObject({ outcome: 'resync_requested', schemeId: SCHEME });
      expect(byTarget['NO-SUCH-ORDER']).toMatchObject({ outcome: 'not_found' });
      expect(byTarget['CT-OK-01']).toMatchObject({ outcome: 'skipped' });
      expect(body.summary).toEqual({ resync_requested: 2, not_found: 1, skipped: 1 });

      const request = ResyncRequestView.parse(
        await json(`/api/resync/${byTarget['CT-FAIL-1'].resyncRequestId}`),
      );
      expect(request).toMatchObject({
        schemeId: SCHEME,
        orderNo: 'CT-FAIL-1',
        requestedBy: 'alice',
        state: 'pending',
      });
      const rows: Array<{ order_no: string; requested_by: string }> = await t.ds.query(
        `SELECT order_no, requested_by FROM resync_requests ORDER BY order_no`,
      );
      expect(rows).toEqual([
        { order_no: 'CT-FAIL-1', requested_by: 'alice' },
        { order_no: 'CT-WDT-1', requested_by: 'alice' },
      ]);
      expect(DeadLetterView.parse(await json(`/api/dead-letters/${dlWdt}`)).state).toBe('repushed');

      // `all` finds the failed order again: the pending request is returned, not duplicated.
      const all = RepushView.parse(
        await post('/api/repush', { all: { status: 'failed', schemeId: SCHEME } }, 200),
      );
      expect(all.results).toEqual([
        expect.objectContaining({
          target: 'CT-FAIL-1',
          outcome: 'resync_pending',
          resyncRequestId: request.id,
        }),
      ]);
      expect(all.truncated).toBe(false);
    });

    it('closes a dead letter with a reason, recorded with the token name', async () => {
      const res = await post(
        `/api/dead-letters/${dlStored}/close`,
        { reason: 'order cancelled in WDT' },
        200,
      );
      expect(res).toEqual({ id: dlStored, state: 'closed' });
      expect(DeadLetterView.parse(await json(`/api/dead-letters/${dlStored}`)).state).toBe('closed');
      const actions = pageOf(ActionView).parse(await json('/api/actions?action=close.dead_letter'));
      expect(actions.items.map((a) => [a.tokenName, a.target, a.outcome])).toEqual([
        ['alice', dlStored, 'closed (was repushed)'],
      ]);
      await post(`/api/dead-letters/${dlStored}/close`, { reason: 'no' }, 400);
    });

    it('creates resync requests with POST /api/resync and lists them', async () => {
      const created = ResyncCreatedView.parse(
        await post('/api/resync', { schemeId: SCHEME, orderNos: ['CT-OK-03', 'CT-FAIL-1'] }, 202),
      );
      expect(created.results.map((r) => [r.orderNo, r.created])).toEqual([
        ['CT-OK-03', true],
        ['CT-FAIL-1', false],
      ]);
      const list = pageOf(ResyncRequestView).parse(await json(`/api/resync?orderNo=CT-OK-03`));
      expect(list.items.map((r) => r.id)).toEqual([created.results[0].id]);
      await json(`/api/resync/${randomUUID()}`, undefined, 404);
    });
  });

  describe('schemes', () => {
    it('pauses a scheme without a cursor row (creating one) and resumes it; records both', async () => {
      const paused = PauseView.parse(
        await post(`/api/schemes/${SCHEME}/pause`, { reason: 'supplier mapping fix' }),
      );
      expect(paused).toEqual({
        schemeId: SCHEME,
        paused: true,
        changed: true,
        cursorCreated: true,
        stopCleared: false,
      });
      const [row] = (await t.ds.query(
        `SELECT axis, cursor_value, paused FROM sync_cursors WHERE scheme_id = $1`,
        [SCHEME],
      )) as Array<{ axis: string; cursor_value: string; paused: boolean }>;
      expect(row).toEqual({ axis: 'consign_time', cursor_value: '2026-11-28 12:00:00', paused: true });
      expect(PauseView.parse(await post(`/api/schemes/${SCHEME}/pause`, {})).changed).toBe(false);

      const listed = SchemesView.parse(await json('/api/schemes'));
      const scheme = listed.items.find((s) => s.id === SCHEME);
      expect(scheme).toMatchObject({ paused: true, enabled: true, inFiles: true, cursor: { ageSeconds: 0 } });
      expect(scheme?.counts).toMatchObject({ loaded: 26, failed: 1 });

      const resumed = PauseView.parse(await post(`/api/schemes/${SCHEME}/resume`, {}));
      expect(resumed).toEqual({
        schemeId: SCHEME,
        paused: false,
        changed: true,
        cursorCreated: false,
        stopCleared: false,
      });
      const [after] = (await t.ds.query(`SELECT paused FROM sync_cursors WHERE scheme_id = $1`, [
        SCHEME,
      ])) as Array<{
        paused: boolean;
      }>;
      expect(after.paused).toBe(false);
      await json('/api/schemes/no-such-scheme/pause', { method: 'POST' }, 404);

      const actions = pageOf(ActionView).parse(await json(`/api/actions?tokenName=alice&limit=200`));
      const schemeActions = actions.items.filter((a) => a.action.startsWith('scheme.')).reverse();
      expect(schemeActions.map((a) => [a.action, a.target, a.outcome])).toEqual([
        ['scheme.pause', SCHEME, 'paused (cursor row created)'],
        ['scheme.pause', SCHEME, 'already paused'],
        ['scheme.resume', SCHEME, 'resumed'],
        ['scheme.pause', 'no-such-scheme', 'not_found'],
      ]);
      expect(schemeActions[0].params).toEqual({ reason: 'supplier mapping fix' });
    });

    it('shows a stop the loader made (numbering rule) with its parked documents; resume clears it', async () => {
      await t.ds.query(
        `INSERT INTO scheme_stops (scheme_id, reason, detail, stopped_by, stopped_at)
         VALUES ($1, 'numbering rule replaced FBillNo; use FDESCRIPTION', '{}', 'loader-1', now())`,
        [SCHEME],
      );
      await t.ds.query(
        `INSERT INTO parked_messages (stage, scheme_id, message_key, reason, origin_topic, origin_partition,
           origin_offset, payload, parked_at, updated_at)
         VALUES ('loader', $1, 'CT-PARKED-1', 'stopped', 'docs', 0, 7, '\x7b7d', now(), now())`,
        [SCHEME],
      );
      const scheme = SchemesView.parse(await json('/api/schemes')).items.find((s) => s.id === SCHEME);
      expect(scheme?.stopped?.reason).toMatch(/FDESCRIPTION/);
      expect(scheme?.parkedDocuments).toBe(1);
      const resumed = PauseView.parse(await post(`/api/schemes/${SCHEME}/resume`, {}));
      expect(resumed).toMatchObject({ changed: true, stopCleared: true });
      const after = SchemesView.parse(await json('/api/schemes')).items.find((s) => s.id === SCHEME);
      expect(after?.stopped).toBeNull();
      await t.ds.query(`DELETE FROM parked_messages WHERE scheme_id = $1`, [SCHEME]);
    });

    it('shows lag, cursor age and the circuit, including schemes known only from their cursor', async () => {
      const listed = SchemesView.parse(await json('/api/schemes'));
      expect(listed.circuit.state).toBe('open');
      const legacy = listed.items.find((s) => s.id === 'legacy-scheme');
      expect(legacy).toMatchObject({
        inFiles: false,
        paused: false,
        lagSeconds: 90,
        cursor: { axis: 'modified', value: '2026-11-28 11:50:00', ageSeconds: 600 },
        circuit: 'open',
      });
      expect(parseShanghai('2026-11-28 11:50:00')).toBe(NOW - 600_000);
      const paged = SchemesView.parse(await json('/api/schemes?limit=1'));
      expect(paged.items).toHaveLength(1);
      expect(paged.nextOffset).toBe(1);
    });
  });

  describe('base data', () => {
    it('lists the codes orders wait for in Kingdee, with their orders', async () => {
      await t.ds.query(
        `INSERT INTO parked_messages (stage, scheme_id, message_key, reason, detail, origin_topic, origin_partition,
                origin_offset, payload, parked_at, updated_at, drain_until)
         VALUES ('loader', $1, 'CT-BD-1', 'base_data', 'supplier GYS999 does not exist in Kingdee', 'loader:base-data',
                 0, 1, $2, now(), now(), now() + interval '1 day')`,
        [SCHEME, Buffer.from('{}')],
      );
      await t.ds.query(
        `INSERT INTO base_data_waits (scheme_id, bill_key, source_key, form_id, noun, field, code, org, problem,
                diagnosis, kingdee_message, since, updated_at)
         VALUES ($1, 'CT-BD-1', 'CT-BD-1', 'BD_Supplier', 'supplier', 'FSupplierID', 'GYS999', '101', 'missing',
                 'supplier GYS999 does not exist in Kingdee', '字段"供应商"是必填项', now(), now())`,
        [SCHEME],
      );
      const body = BaseDataWaitingView.parse(await json('/api/base-data/waiting'));
      expect(body.items).toEqual([
        expect.objectContaining({
          form: 'BD_Supplier',
          code: 'GYS999',
          org: '101',
          problem: 'missing',
          diagnosis: 'supplier GYS999 does not exist in Kingdee',
          count: 1,
          orders: [expect.objectContaining({ schemeId: SCHEME, orderNo: 'CT-BD-1', billKey: 'CT-BD-1' })],
        }),
      ]);
    });

    it('asks the loader for a check now: a request row, recorded as an action (the operator never calls Kingdee)', async () => {
      const body = BaseDataCheckView.parse(await post('/api/base-data/check', {}, 202));
      expect(body.state).toBe('pending');
      const rows: Array<{ id: string; requested_by: string; state: string }> = await t.ds.query(
        `SELECT id::text AS id, requested_by, state FROM base_data_check_requests`,
      );
      expect(rows).toEqual([{ id: body.id, requested_by: 'alice', state: 'pending' }]);
      const [action] = await t.ds.query(
        `SELECT token_name, action FROM operator_actions WHERE action = 'base_data.check'`,
      );
      expect(action).toEqual({ token_name: 'alice', action: 'base_data.check' });
    });
  });

  describe('OpenAPI', () => {
    it('serves exactly the committed docs/openapi.json', async () => {
      const served = await json('/api/openapi.json', { token: null });
      const committed = JSON.parse(
        readFileSync(join(__dirname, '../../docs/openapi.json'), 'utf8'),
      ) as unknown;
      // Semantic: key order does not matter (the file is what @nestjs/swagger generated, pretty-printed).
      expect(served).toEqual(committed);
      expect(served).toEqual(JSON.parse(JSON.stringify(await buildOpenApiDocument())));
    });

    it('documents every route the app serves, and nothing else', async () => {
      const served = servedRoutes().map((r) => r.key);
      const doc = (await buildOpenApiDocument()) as { paths: Record<string, Record<string, unknown>> };
      const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m} ${path}`),
      );
      expect(served.sort()).toEqual(documented.sort());
    });
  });
});
