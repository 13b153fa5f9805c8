import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';

const run = promisify(execFile);
const INFRA = path.resolve(__dirname, '../../scripts/infra.js');

/**
 * The three-node KRaft cluster of `npm run infra:up -- --brokers 3`, in a folder of its own, driven
 * through the same script an operator uses: start, kill -9 or stop one node, start it again.
 */
export class KafkaCluster {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'kafka-cluster-'));
  readonly nodeIds = [1, 2, 3];

  constructor(readonly basePort = Number(process.env.KAFKA_CLUSTER_PORT || 29092)) {}

  get brokers(): string[] {
    return this.nodeIds.map((id) => `127.0.0.1:${this.basePort + (id - 1) * 10}`);
  }

  private async infra(args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, [INFRA, ...args, '--brokers', '3'], {
      env: { ...process.env, INFRA_DIR: this.dir, KAFKA_PORT: String(this.basePort) },
      timeout: 180_000,
    });
    return stdout;
  }

  up(): Promise<string> {
    return this.infra(['up']);
  }

  startNode(id: number): Promise<string> {
    return this.infra(['up', '--node', String(id)]);
  }

  /** SIGKILL (`kill`) or SIGTERM, which makes the broker hand over its leaderships first. */
  stopNode(id: number, how: 'kill' | 'term'): Promise<string> {
    return this.infra(['down', '--node', String(id), '--signal', how === 'kill' ? 'KILL' : 'TERM']);
  }

  async down(): Promise<void> {
    await this.infra(['down']).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** True once node `id` is in the in-sync replica set of every partition of these topics. */
  async inEveryIsr(id: number, topics: string[]): Promise<boolean> {
    const admin = new Kafka({
      clientId: 'cluster-isr-check',
      brokers: this.brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 1 },
    }).admin();
    try {
      await admin.connect();
      const meta = await admin.fetchTopicMetadata({ topics });
      return meta.topics.every((t) => t.partitions.every((p) => p.isr.includes(id)));
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
