import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { TOPIC_CATALOGUE } from '@libs/contracts';
import { managedConfig, topicSettingsFromEnv } from '@libs/kafka';

const FILE = path.resolve(__dirname, '../../deploy/k8s/optional/strimzi/kafka-topics.yaml');

describe('deploy/k8s/optional/strimzi/kafka-topics.yaml', () => {
  const docs = parseAllDocuments(readFileSync(FILE, 'utf8')).map(
    (d) =>
      d.toJS() as {
        kind: string;
        spec: { topicName: string; partitions: number; replicas: number; config: Record<string, unknown> };
      },
  );
  // What `topics:provision` would declare at replication 3 with the catalogue's default names.
  const declared = topicSettingsFromEnv(
    Object.fromEntries(Object.values(TOPIC_CATALOGUE).map((t) => [t.role, t.defaultName])) as never,
    { TOPIC_REPLICATION_FACTOR: '3' },
  );

  it('has one KafkaTopic per catalogue topic', () => {
    expect(docs.every((d) => d.kind === 'KafkaTopic')).toBe(true);
    expect(docs.map((d) => d.spec.topicName).sort()).toEqual(declared.map((t) => t.name).sort());
  });

  it.each(declared.map((t) => [t.name, t] as const))('%s matches what provisioning declares', (name, t) => {
    const doc = docs.find((d) => d.spec.topicName === name)!;
    expect(doc.spec.partitions).toBe(t.partitions);
    expect(doc.spec.replicas).toBe(3);
    expect(Object.fromEntries(Object.entries(doc.spec.config).map(([k, v]) => [k, String(v)]))).toEqual(
      managedConfig(t),
    );
  });
});
