import { ManualClock } from '@libs/common';
import { loadServiceConfig } from '@libs/config';
import { alertChannelsFromConfig, AlertSettings, createAlertMonitor } from './alert-factory.util';
import { AlertMonitor } from './alert-monitor.service';
import { AlertNotifier } from './alert-notifier.service';
import { AlertChannel, AlertMessage } from './alert.types';
import { ManualTimers } from './manual-timers.util';

class RecordingChannel implements AlertChannel {
  readonly name = 'recording';
  readonly sent: AlertMessage[] = [];
  async send(message: AlertMessage): Promise<void> {
    this.sent.push(message);
  }
}

const MIN = 60_000;

function setup() {
  const clock = new ManualClock(Date.parse('2026-11-28T04:00:00Z'));
  const timers = new ManualTimers(clock);
  const channel = new RecordingChannel();
  const notifier = new AlertNotifier([channel], { minIntervalMs: 5 * MIN, clock, timers });
  return { clock, timers, channel, notifier };
}

const alert = (key: string, item: string) => ({
  key,
  severity: 'warning' as const,
  title: `t ${key}`,
  text: item,
  summary: { what: 'records failed', item },
});

describe('AlertNotifier rate limiting', () => {
  it('sends the first alert at once and folds repeats into one summary at the end of the interval', async () => {
    const { timers, channel, notifier } = setup();
    for (let i = 0; i < 13; i++) notifier.notify(alert('failed:s', `CT${i}`));
    await notifier.settled();
    expect(channel.sent.map((m) => m.text)).toEqual(['CT0']);
    timers.advance(5 * MIN - 1);
    await notifier.settled();
    expect(channel.sent).toHaveLength(1);
    timers.advance(1);
    await notifier.settled();
    expect(channel.sent).toHaveLength(2);
    expect(channel.sent[1].folded).toBe(12);
    expect(channel.sent[1].text).toMatch(/^12 more records failed in the last 5 min:\n- CT1\n/);
    expect(channel.sent[1].text).toContain('- … and 2 more'); // 10 named, 2 counted
  });

  it('keeps keys apart, and an idle key starts over with an immediate alert', async () => {
    const { timers, channel, notifier } = setup();
    notifier.notify(alert('failed:a', 'A1'));
    notifier.notify(alert('failed:b', 'B1'));
    await notifier.settled();
    expect(channel.sent.map((m) => m.key)).toEqual(['failed:a', 'failed:b']);
    timers.advance(5 * MIN); // nothing folded: no summary, windows close
    await notifier.settled();
    expect(channel.sent).toHaveLength(2);
    expect(timers.size).toBe(0);
    notifier.notify(alert('failed:a', 'A2'));
    await notifier.settled();
    expect(channel.sent.map((m) => m.text)).toEqual(['A1', 'B1', 'A2']);
  });

  it('sends one summary per interval during a long outage', async () => {
    const { timers, channel, notifier } = setup();
    for (let minute = 0; minute < 15; minute++) {
      notifier.notify(alert('circuit_open:loader', `m${minute}`));
      timers.advance(MIN);
    }
    await notifier.settled();
    // immediate + a summary at 5, 10 and 15 minutes
    expect(channel.sent.map((m) => m.folded ?? 0)).toEqual([0, 4, 5, 5]);
  });

  it('never throws when a channel fails, and flush sends pending summaries', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    const errors: string[] = [];
    const failing: AlertChannel = { name: 'broken', send: () => Promise.reject(new Error('HTTP 500')) };
    const ok = new RecordingChannel();
    const logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: (o: unknown) => errors.push(JSON.stringify(o)),
    };
    const notifier = new AlertNotifier([failing, ok], { minIntervalMs: MIN, clock, timers, logger });
    expect(() => notifier.notify(alert('k', '1'))).not.toThrow();
    notifier.notify(alert('k', '2'));
    await notifier.flush();
    expect(ok.sent.map((m) => m.folded ?? 0)).toEqual([0, 1]);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain('HTTP 500');
    expect(timers.size).toBe(0);
  });
});

describe('AlertMonitor', () => {
  it('alerts on failed and dead-lettered orders only, with the order and Kingdee message', async () => {
    const { channel, notifier } = setup();
    const monitor = new AlertMonitor(notifier, { lagThresholdMs: 10 * MIN });
    const base = {
      eventType: 'sync.audit' as const,
      schemaVersion: 1 as const,
      eventId: '00000000-0000-4000-8000-000000000000',
      schemeId: 's1',
      stage: 'loader' as const,
      occurredAt: '2026-11-28T04:00:00.000Z',
      correlationId: 'c',
    };
    monitor.onAuditEvents([
      { ...base, sourceKey: 'CT1', status: 'loaded' },
      {
        ...base,
        sourceKey: 'CT2',
        status: 'failed',
        errorMessage: '物料编码不存在',
        errorField: 'FMaterialId',
      },
      { ...base, sourceKey: 'CT3', status: 'dead_lettered', errorMessage: 'bad json' },
      { ...base, sourceKey: 'CT4', status: 'skipped', reason: 'precondition' },
    ]);
    await notifier.settled();
    expect(channel.sent.map((m) => m.key)).toEqual(['failed:s1', 'dead_lettered:s1']);
    expect(channel.sent[0].title).toContain('CT2');
    expect(channel.sent[0].text).toContain('物料编码不存在 (field FMaterialId)');
  });

  it('alerts when the circuit opens and notes the recovery when it closes', async () => {
    const { channel, notifier } = setup();
    const monitor = new AlertMonitor(notifier, { lagThresholdMs: 10 * MIN, service: 'loader' });
    monitor.onCircuitState('closed'); // nothing to recover from
    monitor.onCircuitState('open', 'HTTP 503');
    monitor.onCircuitState('half_open');
    monitor.onCircuitState('closed');
    await notifier.settled();
    expect(channel.sent.map((m) => [m.key, m.severity])).toEqual([
      ['circuit_open:loader', 'critical'],
      ['circuit_closed:loader', 'info'],
    ]);
    expect(channel.sent[0].text).toContain('HTTP 503');
  });
});

describe('createAlertMonitor from service config', () => {
  it('accepts the loader and audit-writer configs and picks the configured channels', () => {
    const base = { KAFKA_BROKERS: '127.0.0.1:9092', DATABASE_URL: 'postgres://u@h/x' };
    const audit: AlertSettings = loadServiceConfig('audit-writer', {
      ...base,
      ALERT_DINGTALK_URL: 'https://oapi.dingtalk.com/robot/send?access_token=x',
      ALERT_WECOM_URL: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=y',
    });
    expect(audit.ALERT_MIN_INTERVAL_SECONDS).toBe(300);
    expect(audit.ALERT_LAG_THRESHOLD_SECONDS).toBe(600);
    expect(alertChannelsFromConfig(audit).map((c) => c.name)).toEqual(['dingtalk', 'wecom']);
    const loader: AlertSettings = loadServiceConfig('loader', {
      ...base,
      KINGDEE_SERVER_URL: 'https://erp.example.com/k3cloud/',
      KINGDEE_ACCT_ID: 'a',
      KINGDEE_USERNAME: 'u',
      KINGDEE_APP_ID: 'i',
      KINGDEE_APP_SECRET: 's',
      ALERT_WEBHOOK_URL: 'https://hooks.example.com/x',
    });
    expect(alertChannelsFromConfig(loader).map((c) => c.name)).toEqual(['webhook']);
    expect(createAlertMonitor(loader)).toBeInstanceOf(AlertMonitor);
  });

  it('refuses a malformed webhook URL at boot without echoing it', () => {
    expect(() =>
      loadServiceConfig('audit-writer', {
        KAFKA_BROKERS: '127.0.0.1:9092',
        DATABASE_URL: 'postgres://u@h/x',
        ALERT_WECOM_URL: 'not a url key=secret123',
      }),
    ).toThrow(/ALERT_WECOM_URL: .*\(set \(value hidden\)\)/);
  });
});

describe('AlertMonitor base-data alert', () => {
  it('lists every code and how many orders it blocks, once per interval', async () => {
    const { channel, notifier } = setup();
    const monitor = new AlertMonitor(notifier, { lagThresholdMs: 10 * MIN });
    const codes = [
      { code: 'GYS999', diagnosis: 'supplier GYS999 does not exist in Kingdee', orders: [1, 2, 3] },
      { code: 'M-1', diagnosis: 'material M-1 is forbidden in Kingdee', orders: [1] },
    ];
    monitor.onBaseDataWaiting(codes);
    monitor.onBaseDataWaiting(codes);
    monitor.onBaseDataWaiting([]);
    await notifier.settled();
    expect(channel.sent).toHaveLength(1);
    expect(channel.sent[0]).toMatchObject({
      key: 'base_data_waiting:loader',
      title: '4 orders wait for base data in Kingdee (2 codes)',
    });
    expect(channel.sent[0].text).toContain('- supplier GYS999 does not exist in Kingdee: 3 orders');
    expect(channel.sent[0].text).toContain('- material M-1 is forbidden in Kingdee: 1 order');
  });
});
