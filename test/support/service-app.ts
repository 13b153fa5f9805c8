import { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RawStockoutEvent } from '@libs/contracts';
import { startKafkaTransport } from '@libs/runtime';

/**
 * A service module started in this process on a free port. The module reads its configuration from
 * process.env, as in production: `env` is set for its creation only, then the environment restored.
 */
export async function startServiceApp(
  /** Called with `env` in place: service modules read their configuration when created. */
  module: () => DynamicModule,
  env: Record<string, string>,
): Promise<{ app: INestApplication; base: string }> {
  const app = await withEnv(env, () =>
    NestFactory.create<INestApplication>(module(), { logger: false, abortOnError: false }),
  );
  // As production starts it: the Kafka transport (its @EventPattern handlers) after the bootstrap hooks.
  await startKafkaTransport(app);
  await app.listen(0, '127.0.0.1');
  return { app, base: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}` };
}

/**
 * Runs `fn` with `env` in process.env (service modules read their configuration when created and
 * compiled), then restores the environment.
 */
export async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

/** A raw stockout event for `orderNo`: by default of the shipped scheme, one goods line, a receiver. */
export function rawStockoutEvent(
  orderNo: string,
  options: { schemeId?: string; record?: Record<string, unknown> } = {},
): RawStockoutEvent {
  return {
    eventType: 'wdt.stockout-return.raw',
    schemaVersion: 1,
    eventId: randomUUID(),
    schemeId: options.schemeId ?? 'wdt-stockout-return-to-kingdee-pur-mrb',
    source: { system: 'wdt', sid: 'sid', gateway: 'qimen', method: 'wdt.stockout.order.query.return' },
    orderNo,
    extractedAt: new Date().toISOString(),
    sourceWindow: { axis: 'consign_time', start: '2026-11-28 00:00:00', end: '2026-11-28 02:00:00' },
    fingerprint: randomUUID(),
    trigger: 'poll',
    record: options.record ?? {
      stockout_id: '50012',
      order_no: orderNo,
      warehouse_no: 'SH01',
      status: '110',
      consign_time: '2026-11-28 01:30:00',
      provider_no: 'GYS001',
      modified: '2026-11-28 01:31:07',
      receiver_name: '张三',
      receiver_mobile: '13812345678',
      details_list: [{ rec_id: '100120', spec_no: 'BWB-500-W', goods_count: '2.0000' }],
    },
  };
}
