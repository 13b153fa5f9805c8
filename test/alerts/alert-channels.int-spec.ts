import { createHmac, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import {
  AlertMonitor,
  AlertNotifier,
  createAlertMonitor,
  DingTalkAlertClient,
  ManualTimers,
  WebhookAlertClient,
  WeComAlertClient,
} from '@libs/alerts';
import { ManualClock } from '@libs/common';
import { AuditEvent } from '@libs/contracts';
import { createTestEnv, TestEnv } from '../support/test-env';

interface Received {
  method: string;
  url: string;
  contentType: string;
  body: Record<string, unknown>;
}

/** A real HTTP receiver on 127.0.0.1, port 0, answering like the robots do (`{"errcode":0}`). */
class Receiver {
  readonly requests: Received[] = [];
  answer: { status: number; body: unknown } = { status: 200, body: { errcode: 0, errmsg: 'ok' } };
  private server?: Server;
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({
          method: req.method ?? '',
          url: req.url ?? '',
          contentType: String(req.headers['content-type']),
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        });
        res.writeHead(this.answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(this.answer.body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

const NOW = Date.parse('2026-11-28T04:00:00.000Z');
const MIN = 60_000;

function failedEvent(i: number): AuditEvent {
  return {
    eventType: 'sync.audit',
    schemaVersion: 1,
    eventId: randomUUID(),
    schemeId: 'scheme-a',
    sourceKey: `CT${String(i).padStart(4, '0')}`,
    stage: 'loader',
    status: 'failed',
    occurredAt: new Date(NOW).toISOString(),
    correlationId: `CT${i}`,
    errorMessage: '供应商编码 GYS001 不存在',
    errorField: 'FSupplierId',
  };
}

function capturingLogger() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg?: string }> = [];
  const at = (level: string) => (obj: Record<string, unknown> | string, msg?: string) =>
    lines.push({ level, obj: typeof obj === 'string' ? {} : obj, msg: typeof obj === 'string' ? obj : msg });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('alert channels against a real HTTP receiver', () => {
  const receiver = new Receiver();

  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());
  beforeEach(() => {
    receiver.requests.length = 0;
    receiver.answer = { status: 200, body: { errcode: 0, errmsg: 'ok' } };
  });

  const message = {
    key: 'failed:scheme-a',
    severity: 'warning' as const,
    title: 'Order CT1 failed to load',
    text: '**Kingdee says** 供应商不存在',
    occurredAt: new Date(NOW).toISOString(),
  };

  it('posts the generic webhook JSON', async () => {
    await new WebhookAlertClient(`${receiver.base}/hook`).send(message);
    expect(receiver.requests).toEqual([
      { method: 'POST', url: '/hook', contentType: 'application/json; charset=utf-8', body: message },
    ]);
  });

  it('posts DingTalk markdown with a correct HMAC-SHA256 signature', async () => {
    const secret = 'SEC0123456789abcdef0123456789abcdef';
    const clock = new ManualClock(NOW);
    await new DingTalkAlertClient(`${receiver.base}/robot/send?access_token=tok123`, secret, clock).send(
      message,
    );
    const [req] = receiver.requests;
    expect(req.body).toEqual({
      msgtype: 'markdown',
      markdown: { title: message.title, text: `### ${message.title}\n\n${message.text}` },
    });
    const url = new URL(req.url, receiver.base);
    expect(url.pathname).toBe('/robot/send');
    expect(url.searchParams.get('access_token')).toBe('tok123');
    expect(url.searchParams.get('timestamp')).toBe(String(NOW));
    // Recomputed here, independently: base64(HMAC-SHA256(secret, timestamp + "\n" + secret)), url-encoded.
    const expected = createHmac('sha256', secret).update(`${NOW}\n${secret}`).digest('base64');
    expect(url.searchParams.get('sign')).toBe(expected);
    expect(req.url).toContain(`&sign=${encodeURIComponent(expected)}`);
  });

  it('posts DingTalk without timestamp/sign when no secret is set', async () => {
    await new DingTalkAlertClient(`${receiver.base}/robot/send?access_token=t`).send(message);
    expect(receiver.requests[0].url).toBe('/robot/send?access_token=t');
  });

  it('posts WeCom markdown content', async () => {
    await new WeComAlertClient(`${receiver.base}/cgi-bin/webhook/send?key=k1`).send(message);
    expect(receiver.requests[0]).toMatchObject({
      url: '/cgi-bin/webhook/send?key=k1',
      body: { msgtype: 'markdown', markdown: { content: `### ${message.title}\n${message.text}` } },
    });
  });

  it('rejects robot answers with a non-zero errcode, and the notifier only logs that (no URL)', async () => {
    receiver.answer = { status: 200, body: { errcode: 310000, errmsg: 'sign not match' } };
    const client = new DingTalkAlertClient(`${receiver.base}/robot/send?access_token=secret-token`, 'S');
    await expect(client.send(message)).rejects.toThrow(/errcode 310000 sign not match/);
    const { lines, logger } = capturingLogger();
    const unreachable = new WebhookAlertClient('http://127.0.0.1:1/hook', 2000);
    const notifier = new AlertNotifier([client, unreachable], { minIntervalMs: 5 * MIN, logger });
    expect(() => notifier.notify({ ...message })).not.toThrow();
    await notifier.flush();
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors.map((l) => l.obj.channel).sort()).toEqual(['dingtalk', 'webhook']);
    expect(JSON.stringify(lines)).not.toContain('secret-token');
  });

  it('folds 100 failures into 1 immediate alert + 1 summary on every configured channel', async () => {
    const clock = new ManualClock(NOW);
    const timers = new ManualTimers(clock);
    const monitor = createAlertMonitor(
      {
        ALERT_WEBHOOK_URL: `${receiver.base}/hook`,
        ALERT_DINGTALK_URL: `${receiver.base}/ding?access_token=a`,
        ALERT_DINGTALK_SECRET: 'dingsecret',
        ALERT_WECOM_URL: `${receiver.base}/wecom?key=b`,
        ALERT_LAG_THRESHOLD_SECONDS: 600,
        ALERT_MIN_INTERVAL_SECONDS: 300,
      },
      { clock, timers },
    );
    monitor.onAuditEvents(Array.from({ length: 100 }, (_, i) => failedEvent(i)));
    await monitor.settled();
    const hooks = () => receiver.requests.filter((r) => r.url === '/hook').map((r) => r.body);
    expect(receiver.requests).toHaveLength(3); // one per channel
    expect(hooks()).toHaveLength(1);
    expect(hooks()[0]).toMatchObject({ key: 'failed:scheme-a', title: expect.stringContaining('CT0000') });
    expect(String(hooks()[0].text)).toContain('供应商编码 GYS001 不存在 (field FSupplierId)');

    timers.advance(300_000);
    await monitor.settled();
    expect(receiver.requests).toHaveLength(6);
    expect(hooks()).toHaveLength(2);
    expect(hooks()[1]).toMatchObject({ key: 'failed:scheme-a', folded: 99 });
    expect(String(hooks()[1].text)).toMatch(
      /^99 more records failed in the last 5 min:\n- CT0001: 供应商编码/,
    );
    const wecom = receiver.requests.filter((r) => r.url.startsWith('/wecom')).at(-1)!;
    expect(JSON.stringify(wecom.body)).toContain('99 more records failed in the last 5 min');

    timers.advance(300_000); // quiet interval: nothing more
    await monitor.settled();
    expect(receiver.requests).toHaveLength(6);
  });
});

describe('AlertMonitor.checkLag against real Postgres', () => {
  let t: TestEnv;
  const receiver = new Receiver();

  beforeAll(async () => {
    t = await createTestEnv('alerts');
    await receiver.start();
  });
  afterAll(async () => {
    await receiver.stop();
    await t.cleanup();
  });

  it('alerts for a non-paused scheme whose last success is older than the threshold', async () => {
    const clock = new ManualClock(NOW);
    const timers = new ManualTimers(clock);
    const insert = `INSERT INTO sync_cursors (scheme_id, axis, cursor_value, last_success_at, last_error, paused, updated_at)
      VALUES ($1, 'consign_time', '2026-11-28 11:00:00', $2, $3, $4, $5)`;
    await t.ds.query(insert, ['lagging', new Date(NOW - 11 * MIN), 'WDT 503', false, new Date(NOW - MIN)]);
    await t.ds.query(insert, ['paused-one', new Date(NOW - 60 * MIN), null, true, new Date(NOW - MIN)]);
    await t.ds.query(insert, ['fresh', new Date(NOW - 2 * MIN), null, false, new Date(NOW - MIN)]);
    await t.ds.query(insert, ['never-ok', null, 'auth failed', false, new Date(NOW - 20 * MIN)]);
    const notifier = new AlertNotifier([new WebhookAlertClient(`${receiver.base}/hook`)], {
      minIntervalMs: 5 * MIN,
      clock,
      timers,
    });
    const monitor = new AlertMonitor(notifier, { lagThresholdMs: 10 * MIN, clock, timers });
    const lagging = await monitor.checkLag(t.ds);
    expect(lagging.map((l) => [l.schemeId, l.lagMs])).toEqual([
      ['lagging', 11 * MIN],
      ['never-ok', 20 * MIN],
    ]);
    await notifier.settled();
    expect(receiver.requests.map((r) => r.body.key).sort()).toEqual(['lag:lagging', 'lag:never-ok']);
    const lag = receiver.requests.find((r) => r.body.key === 'lag:lagging')!;
    expect(lag.body.title).toBe('Extraction lagging 11 min: lagging');
    expect(String(lag.body.text)).toContain('WDT 503');

    // Periodic checks: the repeats fold into the key's summary.
    monitor.startLagChecks(t.ds, MIN);
    for (let i = 0; i < 5; i++) {
      timers.advance(MIN);
      await monitor.settled();
    }
    // Five periodic checks found both schemes lagging again: folded, and sent as one summary each
    // when the 5-minute window ended.
    const sent = () => receiver.requests.map((r) => [r.body.key, r.body.folded ?? 0]);
    expect(sent()).toEqual(
      expect.arrayContaining([
        ['lag:lagging', 0],
        ['lag:never-ok', 0],
        ['lag:lagging', 4],
        ['lag:never-ok', 4],
      ]),
    );
    expect(sent()).toHaveLength(4);
    await monitor.stop();
    expect(receiver.requests).toHaveLength(6); // the fifth check's repeats, flushed on stop
    expect(sent().slice(4)).toEqual(
      expect.arrayContaining([
        ['lag:lagging', 1],
        ['lag:never-ok', 1],
      ]),
    );
  });
});
