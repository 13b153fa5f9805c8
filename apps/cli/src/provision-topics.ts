// `npm run topics:provision -- [--dry-run] [--allow-partition-increase]`
// Brings every catalogue topic to its declared state (partitions, replication, retention, size limit,
// min.insync.replicas) and keeps every other topic setting as found. Idempotent; run before the
// services, or as the Kubernetes setup Job.
import { Command } from 'commander';
import { loadEnvFile, loadKafkaClientConfig } from '@libs/config';
import { topicNamesFromEnv } from '@libs/contracts';
import {
  assertBrokerReachable,
  createKafkaFromConfig,
  describePlan,
  provisionTopics,
  topicSettingsFromEnv,
} from '@libs/kafka';

const opts = new Command()
  .name('topics:provision')
  .option(
    '--dry-run',
    'print the plan (creates, setting changes old -> new, partition changes); change nothing',
    false,
  )
  .option(
    '--allow-partition-increase',
    'raise partition counts of existing topics. Every topic is keyed by order number and Kafka picks a ' +
      "key's partition from the partition count, so after the change an order's new events land on another " +
      'partition than its unread older ones and per-order ordering is lost until those are consumed. ' +
      'Drain the consumers (pause the schemes, wait for lag 0) before using it.',
    false,
  )
  .parse()
  .opts<{ dryRun: boolean; allowPartitionIncrease: boolean }>();

async function main(): Promise<void> {
  await loadEnvFile();
  const config = loadKafkaClientConfig('topics:provision');
  const kafka = createKafkaFromConfig(config, { clientId: 'wdt-kingdee-provision' });
  await assertBrokerReachable(kafka, config.KAFKA_BROKERS, 10000);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const report = await provisionTopics(admin, topicSettingsFromEnv(topicNamesFromEnv()), {
      dryRun: opts.dryRun,
      allowPartitionIncrease: opts.allowPartitionIncrease,
    });
    if (report.dryRun) console.log('dry run: nothing changed. Plan:');
    for (const line of describePlan(report.plan)) console.log(line);
  } finally {
    await admin.disconnect();
  }
}

main().catch((err) => {
  console.error(`topics:provision failed: ${(err as Error).message}`);
  process.exit(1);
});
