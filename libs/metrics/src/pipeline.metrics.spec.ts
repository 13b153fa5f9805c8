import { Writable } from 'node:stream';
import pino from 'pino';
import { register } from 'prom-client';
import { AppLogger, parseShanghai, silentLogger } from '@libs/common';
import { isDebugEnabled, orderLogger } from './correlation.util';
import {
  countError,
  countErrorClass,
  countRecords,
  errorClassOf,
  observeBatchSaveSize,
  observeBatchSize,
  observeKingdeeRequest,
  observeWdtRequest,
  recordExtractorCursor,
  setConsumerLag,
  setKingdeeCircuitOpen,
} from './pipeline.metrics';

/** Value of one sample of a metric (exact labels; `suffix` e.g. `_count` for histograms), if any. */
async function sample(
  name: string,
  labels: Record<string, string>,
  suffix = '',
): Promise<number | undefined> {
  const metric = register.getSingleMetric(name);
  if (!metric) return undefined;
  const { values } = await metric.get();
  const hit = values.find(
    (v) =>
      ((v as { metricName?: string }).metricName ?? name) === `${name}${suffix}` &&
      Object.keys(v.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want),
  );
  return hit?.value;
}

class Kinded extends Error {
  constructor(
    readonly kind: string,
    readonly code?: string,
  ) {
    super(`failed: ${kind}`);
  }
}

beforeEach(() => register.resetMetrics());

describe('pipeline metrics', () => {
  it('counts records per stage and outcome, zero counts included', async () => {
    countRecords('transformer', 'in', 3);
    countRecords('transformer', 'document', 2);
    countRecords('transformer', 'document');
    countRecords('transformer', 'skipped', 0);
    expect(await sample('pipeline_records_total', { stage: 'transformer', outcome: 'in' })).toBe(3);
    expect(await sample('pipeline_records_total', { stage: 'transformer', outcome: 'document' })).toBe(3);
    expect(await sample('pipeline_records_total', { stage: 'transformer', outcome: 'skipped' })).toBe(0);
    expect(await sample('pipeline_records_total', { stage: 'loader', outcome: 'in' })).toBeUndefined();
  });

  it('classes errors by code, else name, as bounded label values', async () => {
    class MappingError extends Error {
      override readonly name = 'MappingError';
      readonly code = 'VALUE_MAP_MISS';
    }
    class ContractViolationError extends Error {
      override readonly name = 'ContractViolationError';
    }
    expect(errorClassOf(new MappingError('x'))).toBe('VALUE_MAP_MISS');
    expect(errorClassOf(new ContractViolationError('x'))).toBe('ContractViolationError');
    expect(errorClassOf(new Kinded('transient', 'KD_TIMEOUT'))).toBe('KD_TIMEOUT');
    expect(errorClassOf(Object.assign(new Error('x'), { code: 'order CT-1 has 张三 in it' }))).toBe('Error');
    expect(errorClassOf('boom')).toBe('UnknownError');
    countError('transformer', new MappingError('x'));
    countError('transformer', new MappingError('y'));
    countErrorClass('loader', 'KD_MSGCODE_11');
    countErrorClass('loader', 'not a class: 13812345678 广东省');
    expect(
      await sample('pipeline_errors_total', { stage: 'transformer', error_class: 'VALUE_MAP_MISS' }),
    ).toBe(2);
    expect(await sample('pipeline_errors_total', { stage: 'loader', error_class: 'KD_MSGCODE_11' })).toBe(1);
    expect(await sample('pipeline_errors_total', { stage: 'loader', error_class: 'Error' })).toBe(1);
  });

  it('observes batch sizes in a histogram per stage', async () => {
    observeBatchSize('transformer', 7);
    observeBatchSize('transformer', 200);
    observeBatchSaveSize('scheme-a', 50);
    expect(await sample('pipeline_batch_size', { stage: 'transformer' }, '_count')).toBe(2);
    expect(await sample('pipeline_batch_size', { stage: 'transformer' }, '_sum')).toBe(207);
    expect(await sample('pipeline_batch_size', { stage: 'transformer', le: '10' }, '_bucket')).toBe(1);
    expect(await sample('loader_batch_save_size', { scheme: 'scheme-a' }, '_count')).toBe(1);
  });

  it('times API calls by outcome and passes results and errors through untouched', async () => {
    await expect(observeWdtRequest('qimen', async () => 'page')).resolves.toBe('page');
    const limited = new Kinded('rate_limited');
    await expect(
      observeWdtRequest('qimen', async () => {
        throw limited;
      }),
    ).rejects.toBe(limited);
    await expect(
      observeWdtRequest('native', async () => {
        throw new Error('no kind');
      }),
    ).rejects.toThrow('no kind');
    await expect(
      observeKingdeeRequest('DynamicFormService.BatchSave', () => new Promise((r) => setTimeout(r, 30, 1))),
    ).resolves.toBe(1);
    const ambiguous = new Kinded('ambiguous', 'KD_RESPONSE_LOST');
    await expect(
      observeKingdeeRequest('DynamicFormService.BatchSave', async () => {
        throw ambiguous;
      }),
    ).rejects.toBe(ambiguous);

    const wdt = 'wdt_api_request_duration_seconds';
    expect(await sample(wdt, { gateway: 'qimen', outcome: 'ok' }, '_count')).toBe(1);
    expect(await sample(wdt, { gateway: 'qimen', outcome: 'rate_limited' }, '_count')).toBe(1);
    expect(await sample(wdt, { gateway: 'native', outcome: 'error' }, '_count')).toBe(1);
    const kd = 'kingdee_api_request_duration_seconds';
    const service = 'DynamicFormService.BatchSave';
    expect(await sample(kd, { service, outcome: 'ok' }, '_count')).toBe(1);
    expect(await sample(kd, { service, outcome: 'ok' }, '_sum')).toBeGreaterThanOrEqual(0.025);
    expect(await sample(kd, { service, outcome: 'ambiguous' }, '_count')).toBe(1);
  });

  it('sets consumer lag per partition from the high watermark, never below zero', async () => {
    setConsumerLag('g', 'raw', 0, '120', '99');
    setConsumerLag('g', 'raw', 1, '5', '4');
    setConsumerLag('g', 'raw', 2, '9007199254740999', '9007199254740000');
    setConsumerLag('g', 'raw', 3, '10', '20');
    expect(await sample('kafka_consumer_lag', { group: 'g', topic: 'raw', partition: '0' })).toBe(20);
    expect(await sample('kafka_consumer_lag', { group: 'g', topic: 'raw', partition: '1' })).toBe(0);
    expect(await sample('kafka_consumer_lag', { group: 'g', topic: 'raw', partition: '2' })).toBe(998);
    expect(await sample('kafka_consumer_lag', { group: 'g', topic: 'raw', partition: '3' })).toBe(0);
    setConsumerLag('g', 'raw', 0, '120', '119');
    expect(await sample('kafka_consumer_lag', { group: 'g', topic: 'raw', partition: '0' })).toBe(0);
  });

  it('sets the cursor age of a scheme from a Shanghai wall-clock cursor and the poller clock', async () => {
    const cursor = parseShanghai('2026-11-28 11:55:00')!;
    recordExtractorCursor('s1', cursor, Date.parse('2026-11-28T04:00:00.000Z')); // 12:00 in Shanghai
    expect(await sample('extractor_cursor_age_seconds', { scheme: 's1' })).toBe(300);
    recordExtractorCursor('s1', cursor + 600_000, Date.parse('2026-11-28T04:00:00.000Z'));
    expect(await sample('extractor_cursor_age_seconds', { scheme: 's1' })).toBe(0);
  });

  it('registers the loader circuit gauge only once it is used', async () => {
    expect(await register.metrics()).not.toContain('loader_kingdee_circuit_open');
    setKingdeeCircuitOpen(true);
    expect(await sample('loader_kingdee_circuit_open', { connection: 'default' })).toBe(1);
    setKingdeeCircuitOpen(false);
    expect(await sample('loader_kingdee_circuit_open', { connection: 'default' })).toBe(0);
  });

  it('exposes every metric in the Prometheus text format', async () => {
    countRecords('loader', 'loaded');
    const text = await register.metrics();
    for (const name of [
      'pipeline_records_total',
      'pipeline_errors_total',
      'pipeline_batch_size',
      'loader_batch_save_size',
      'wdt_api_request_duration_seconds',
      'kingdee_api_request_duration_seconds',
      'kafka_consumer_lag',
      'extractor_cursor_age_seconds',
    ])
      expect(text).toContain(`# TYPE ${name} `);
    expect(text).toContain('pipeline_records_total{stage="loader",outcome="loaded"} 1');
  });
});

describe('order correlation in logs', () => {
  function captured(level = 'debug') {
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    const logger = pino(
      { level, redact: { paths: ['*.receiver_name', 'receiver_mobile'], censor: '[redacted]' } },
      stream,
    );
    return { logger, lines };
  }

  it('binds orderNo and correlationId on a pino child, keeping the parent redaction', () => {
    const { logger, lines } = captured();
    orderLogger(logger, 'CT-1').warn({ err: 'x', receiver_mobile: '13812345678' }, 'transform failed');
    logger.info('unrelated');
    expect(lines[0]).toMatchObject({
      orderNo: 'CT-1',
      correlationId: 'CT-1',
      err: 'x',
      msg: 'transform failed',
    });
    expect(lines[0].receiver_mobile).toBe('[redacted]');
    expect(lines[1].orderNo).toBeUndefined();
  });

  it('wraps a logger without child(), and leaves the logger alone without an order number', () => {
    const calls: unknown[][] = [];
    const record =
      (level: string) =>
      (...args: unknown[]) =>
        calls.push([level, ...args]);
    const plain = {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    };
    const logger = orderLogger(plain as AppLogger, 'CT-2');
    logger.error({ step: 'audit' }, 'failed');
    logger.info('plain message');
    expect(calls).toEqual([
      ['error', { orderNo: 'CT-2', correlationId: 'CT-2', step: 'audit' }, 'failed'],
      ['info', { orderNo: 'CT-2', correlationId: 'CT-2' }, 'plain message'],
    ]);
    expect(orderLogger(plain as AppLogger, undefined)).toBe(plain);
    expect(orderLogger(plain as AppLogger, '')).toBe(plain);
  });

  it('tells whether per-record debug lines would be written', () => {
    expect(isDebugEnabled(captured('debug').logger)).toBe(true);
    expect(isDebugEnabled(captured('info').logger)).toBe(false);
    expect(isDebugEnabled(silentLogger)).toBe(false);
  });
});
