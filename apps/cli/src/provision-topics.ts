// Creates or updates every topic of the catalogue (partitions, replication, retention, size limit).
// Idempotent; run before the services, or as the Kubernetes topics Job.
import { loadEnvFile } from '@libs/config';
import { topicNamesFromEnv } from '@libs/contracts';
import { assertBrokerReachable, createKafka, provisionTopics, topicSettingsFromEnv } from '@libs/kafka';

async function main(): Promise<void> {
  await loadEnvFile();
  const env = process.env;
  const brokers = (env.KAFKA_BROKERS || '127.0.0.1:9092').split(',').map((b) => b.trim());
  const mechanism = env.KAFKA_SASL_MECHANISM as 'plain' | 'scram-sha-256' | 'scram-sha-512' | undefined;
  const kafka = createKafka({
    brokers,
    clientId: 'wdt-kingdee-provision',
    ssl: env.KAFKA_SSL === 'true' || env.KAFKA_SSL === '1',
    sasl: mechanism
      ? { mechanism, username: env.KAFKA_SASL_USERNAME ?? '', password: env.KAFKA_SASL_PASSWORD ?? '' }
      : undefined,
  });
  await assertBrokerReachable(kafka, brokers, 10000);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const settings = topicSettingsFromEnv(topicNamesFromEnv());
    const report = await provisionTopics(admin, settings);
    for (const t of settings) {
      const state = report.created.includes(t.name)
        ? 'created'
        : report.updated.includes(t.name)
          ? 'updated'
          : 'ok';
      console.log(
        `${state.padEnd(8)} ${t.name}  partitions=${t.partitions} rf=${t.replicationFactor} retention=${t.retentionMs / 86_400_000}d`,
      );
    }
  } finally {
    await admin.disconnect();
  }
}

main().catch((err) => {
  console.error(`topics:provision failed: ${(err as Error).message}`);
  process.exit(1);
});
