import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Admin, ConfigResourceTypes, ConfigSource } from 'kafkajs';
import { createKafka } from '@libs/kafka';

const run = promisify(execFile);
const CLI = path.resolve(__dirname, '../../dist/apps/cli/src/provision-topics.js');
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const id = randomBytes(3).toString('hex');
const topics = {
  TOPIC_RAW_STOCKOUT: `prov-${id}-raw`,
  TOPIC_KINGDEE_DOCUMENT: `prov-${id}-doc`,
  TOPIC_AUDIT: `prov-${id}-audit`,
  TOPIC_DEAD_LETTER: `prov-${id}-dlq`,
};
const cwd = mkdtempSync(path.join(tmpdir(), 'provision-'));

async function provision(
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, KAFKA_BROKERS: brokers.join(','), ...topics, ...extraEnv },
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

async function dynamicConfig(admin: Admin, topic: string): Promise<Record<string, string>> {
  const res = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
  });
  return Object.fromEntries(
    res.resources[0].configEntries
      .filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG)
      .map((e) => [e.configName, e.configValue]),
  );
}

async function partitions(admin: Admin, topic: string): Promise<number> {
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  return meta.topics[0].partitions.length;
}

describe('topics:provision keeps declared state without destroying what it does not manage', () => {
  const admin = createKafka({ brokers, clientId: `provision-test-${id}` }).admin();
  beforeAll(() => admin.connect());
  afterAll(async () => {
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
  });

  it('plans without changing anything on --dry-run', async () => {
    const res = await provision(['--dry-run']);
    expect(res.code).toBe(0);
    expect(res.out).toContain('dry run: nothing changed');
    expect(res.out).toContain(`create    ${topics.TOPIC_RAW_STOCKOUT}`);
    const existing = await admin.listTopics();
    expect(Object.values(topics).filter((t) => existing.includes(t))).toEqual([]);
  });

  it('creates the topics with min.insync.replicas and the managed settings', async () => {
    const res = await provision([]);
    expect(res.code).toBe(0);
    const cfg = await dynamicConfig(admin, topics.TOPIC_RAW_STOCKOUT);
    expect(cfg['min.insync.replicas']).toBe('1'); // replication 1 on the single test broker
    expect(cfg['retention.ms']).toBe(String(30 * 86_400_000));
    expect(await partitions(admin, topics.TOPIC_RAW_STOCKOUT)).toBe(6);
  });

  it('keeps a setting set by hand and restores the managed ones it changed', async () => {
    const topic = topics.TOPIC_RAW_STOCKOUT;
    const before = await dynamicConfig(admin, topic);
    // What an operator does with kafka-configs: add segment.ms, and shorten retention by mistake.
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: topic,
          configEntries: Object.entries({ ...before, 'segment.ms': '3600000', 'retention.ms': '60000' }).map(
            ([name, value]) => ({ name, value }),
          ),
        },
      ],
    });
    const dry = await provision(['--dry-run']);
    expect(dry.out).toContain('retention.ms: 60000 -> 2592000000');
    expect((await dynamicConfig(admin, topic))['retention.ms']).toBe('60000');

    const res = await provision([]);
    expect(res.code).toBe(0);
    expect(res.out).toContain('kept as found: segment.ms');
    const after = await dynamicConfig(admin, topic);
    expect(after['segment.ms']).toBe('3600000');
    expect(after['retention.ms']).toBe(String(30 * 86_400_000));
    expect(after['min.insync.replicas']).toBe('1');
  });

  it('refuses to raise a keyed topic’s partitions unless --allow-partition-increase is given', async () => {
    const more = { TOPIC_RAW_STOCKOUT_PARTITIONS: '8' };
    const refused = await provision([], more);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(`${topics.TOPIC_RAW_STOCKOUT} (6 -> 8)`);
    expect(refused.out).toContain('--allow-partition-increase');
    expect(await partitions(admin, topics.TOPIC_RAW_STOCKOUT)).toBe(6);

    const help = await provision(['--help']);
    expect(help.out).toMatch(/per-order ordering/);

    const allowed = await provision(['--allow-partition-increase'], more);
    expect(allowed.code).toBe(0);
    expect(await partitions(admin, topics.TOPIC_RAW_STOCKOUT)).toBe(8);
    expect((await dynamicConfig(admin, topics.TOPIC_RAW_STOCKOUT))['segment.ms']).toBe('3600000');
  });
});
