import { silentLogger } from '@libs/common';
import { loadServiceConfig } from '@libs/config';
import { TopicNames } from '@libs/contracts';
import { PostgresPayloadStore, createDataSource, initializeDataSource } from '@libs/database';
import { IsolatedEnv } from '@tools/devstack';
import { KafkaRawEventSink } from '@libs/extraction';
import { DeadLetterPublisher, EventProducer, createKafka } from '@libs/kafka';
import { DEFAULT_CONNECTION, loadConnections } from '@libs/connections';
import { createWdtClient } from '@libs/wdt-client';

// What the extraction benchmarks share: a parent with the WDT sandbox and throw-away topics and
// schema, a child process that is the extractor, wired like the extractor service.

/** Where the extractor child finds the WDT sandbox, the broker and Postgres (JSON through the environment). */
export interface ExtractorTargets {
  clientCpm: number;
  wdt: { url: string; sid: string; appkey: string; appsecret: string };
  brokers: string[];
  databaseUrl: string;
  schema: string;
  topics: TopicNames;
}

/** Parent side: the sandbox's account and the throw-away env as the child's targets. */
export function extractorTargets(
  sandbox: { url: string; account: { sid: string; appkey: string; appsecret: string } },
  env: Pick<IsolatedEnv, 'brokers' | 'databaseUrl' | 'schema' | 'topics'>,
  clientCpm: number,
): ExtractorTargets {
  return {
    clientCpm,
    wdt: {
      url: sandbox.url,
      sid: sandbox.account.sid,
      appkey: sandbox.account.appkey,
      appsecret: sandbox.account.appsecret,
    },
    brokers: env.brokers,
    databaseUrl: env.databaseUrl,
    schema: env.schema,
    topics: env.topics,
  };
}

/**
 * Parent side: POSTs an order set to the sandbox's admin API (`seed` stores the orders, `generate`
 * defines a lazy set); throws `<what> failed: <status> <reply>` unless the reply is 2xx, else returns it.
 */
export async function postOrderSet(
  sandboxUrl: string,
  kind: 'seed' | 'generate',
  body: { count: number; seed: number; from: string; to: string; statusWeights: Record<string, number> },
  what: string,
): Promise<Response> {
  const res = await fetch(`${sandboxUrl}/admin/orders/${kind}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${what} failed: ${res.status} ${await res.text()}`);
  return res;
}

/**
 * Child side, the extractor's own configuration path: env → validated extractor config → a connected
 * producer, a Postgres pool on the schema and the WDT client over HTTP.
 */
export async function connectExtractor(targets: ExtractorTargets, clientId: string) {
  const env = {
    APP_MODE: 'sandbox',
    KAFKA_BROKERS: targets.brokers.join(','),
    DATABASE_URL: targets.databaseUrl,
    DATABASE_SCHEMA: targets.schema,
    WDT_GATEWAY: 'native',
    WDT_BASE_URL: targets.wdt.url,
    WDT_SID: targets.wdt.sid,
    WDT_APPKEY: targets.wdt.appkey,
    WDT_APPSECRET: targets.wdt.appsecret,
    WDT_CALLS_PER_MINUTE: String(targets.clientCpm),
  };
  const config = loadServiceConfig('extractor', env);
  const wdt = loadConnections({ env, kinds: ['wdt'] }).wdt(DEFAULT_CONNECTION);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId });
  const producer = new EventProducer(kafka, config.KAFKA_MAX_MESSAGE_BYTES);
  await producer.connect();
  const ds = await initializeDataSource(
    createDataSource({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA }),
    config.DATABASE_URL,
  );
  const client = createWdtClient(wdt.clientOptions, silentLogger);
  /** A raw-event sink of class `Sink` (the real one or a measuring subclass), dead letters in Postgres. */
  const rawEventSink = <S extends KafkaRawEventSink>(
    Sink: new (...args: ConstructorParameters<typeof KafkaRawEventSink>) => S,
  ): S =>
    new Sink(
      producer,
      new DeadLetterPublisher(
        producer,
        targets.topics,
        new PostgresPayloadStore(ds),
        config.KAFKA_MAX_MESSAGE_BYTES,
      ),
      targets.topics,
    );
  return { config, producer, ds, client, sid: wdt.sid, rawEventSink };
}
