import { randomBytes } from 'node:crypto';
import { createIsolatedEnv, IsolatedEnv } from '@tools/devstack';
import { createKafka, EventProducer } from '@libs/kafka';
import { z } from 'zod';

/** Isolated real topics and Postgres schema for one test file (see `createIsolatedEnv`). */
export type TestEnv = IsolatedEnv;

export function createTestEnv(
  label: string,
  options: { partitions?: number; maxMessageBytes?: number } = {},
): Promise<TestEnv> {
  return createIsolatedEnv(label, { prefix: 'test', ...options });
}

/** Publishes `events` on `topic`, each keyed (and correlated) by `key(event)`, under its own event type. */
export async function publishKeyed<T extends { eventType: string }>(
  producer: EventProducer,
  topic: string,
  schema: z.ZodType<T>,
  events: T[],
  key: (event: T) => string,
): Promise<void> {
  await producer.publish(
    events.map((e) => ({
      topic,
      key: key(e),
      value: e,
      schema,
      eventType: e.eventType,
      correlationId: key(e),
    })),
  );
}

/** Polls `probe` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false | null>,
  timeoutMs = 60000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/**
 * Reads every message currently on a topic (from the beginning) with a throw-away group, on a client
 * of its own: sharing the kafkajs client of a running consumer starved the reader in practice.
 */
export async function readAll(
  env: { brokers: string[] },
  topic: string,
  expectAtLeast: number,
  timeoutMs = 30000,
): Promise<
  Array<{
    key: string | null;
    value: string;
    headers: Record<string, string>;
    partition: number;
    offset: string;
  }>
> {
  const kafka = createKafka({ brokers: env.brokers, clientId: `reader-${randomBytes(3).toString('hex')}` });
  const consumer = kafka.consumer({
    groupId: `reader-${topic}-${randomBytes(4).toString('hex')}`,
    sessionTimeout: 10000,
    maxWaitTimeInMs: 100,
  });
  const out: Array<{
    key: string | null;
    value: string;
    headers: Record<string, string>;
    partition: number;
    offset: string;
  }> = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      out.push({
        key: message.key?.toString() ?? null,
        value: message.value?.toString() ?? '',
        headers,
        partition,
        offset: message.offset,
      });
    },
  });
  try {
    await eventually(
      `${expectAtLeast} messages on ${topic}`,
      async () => out.length >= expectAtLeast,
      timeoutMs,
    ).catch((err: Error) => {
      throw new Error(`${err.message} (have ${out.length})`);
    });
    // Give stragglers a moment, so "at least" reads do not miss a duplicate.
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await consumer.disconnect();
  }
  return out;
}
