// Example consumer for other teams: follows the raw stockout or the audit topic with its own consumer
// group, validates every message against @libs/contracts and prints one line per event.
//   node dist/examples/audit-tail/src/main.js --topic audit --group my-team [--from-beginning]
// See examples/audit-tail/README.md and docs/consumers.md.
import { CommanderError } from 'commander';
import { Kafka, KafkaMessage, logLevel } from 'kafkajs';
import { describeMessage, TailMessage } from './tail-format.util';
import { parseTailOptions, TailOptions } from './tail-options.util';

function toTailMessage(topic: string, partition: number, m: KafkaMessage): TailMessage {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    headers[k] =
      last === undefined ? undefined : Buffer.isBuffer(last) ? last.toString('utf8') : String(last);
  }
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ? m.key.toString('utf8') : null,
    value: m.value,
    headers,
  };
}

async function run(options: TailOptions): Promise<void> {
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ssl: options.ssl,
    sasl: options.sasl,
    logLevel: logLevel.ERROR,
  });
  const consumer = kafka.consumer({ groupId: options.groupId });
  const counts = { events: 0, invalid: 0 };
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await consumer.disconnect().catch(() => undefined);
    process.stderr.write(`audit-tail: stopped after ${counts.events} events, ${counts.invalid} invalid\n`);
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  consumer.on(consumer.events.CRASH, (event) => {
    if (event.payload.restart) return;
    process.stderr.write(`audit-tail: consumer crashed: ${event.payload.error.message}\n`);
    void stop(1);
  });

  await consumer.connect();
  await consumer.subscribe({ topic: options.topic, fromBeginning: options.fromBeginning });
  process.stderr.write(
    `audit-tail: ${options.kind} topic ${options.topic}, group ${options.groupId}, brokers ${options.brokers.join(',')}\n`,
  );
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const out = describeMessage(options.kind, toTailMessage(topic, partition, message), {
        showRecord: options.showRecord,
      });
      if (out.stream === 'out') {
        counts.events += 1;
        process.stdout.write(`${out.line}\n`);
      } else {
        counts.invalid += 1;
        process.stderr.write(`${out.line}\n`);
      }
    },
  });
}

async function main(): Promise<void> {
  let options: TailOptions;
  try {
    options = parseTailOptions(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.code === 'commander.helpDisplayed' ? 0 : 2);
    process.stderr.write(`audit-tail: ${(err as Error).message}\n`);
    process.exit(2);
  }
  await run(options);
}

main().catch((err: Error) => {
  process.stderr.write(`audit-tail failed: ${err.message}\n`);
  process.exit(1);
});
