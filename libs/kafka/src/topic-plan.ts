/**
 * Topic provisioning as declared state: the pure comparison of what the cluster has with what the
 * catalogue asks for. No I/O here, so every rule is unit-tested; `topic-provisioner.ts` reads the
 * cluster and applies the plan.
 */

export interface TopicSettings {
  name: string;
  partitions: number;
  replicationFactor: number;
  retentionMs: number;
  maxMessageBytes: number;
  /** Default: 2 where the replication factor is 3 or more, else 1. */
  minInsyncReplicas?: number;
}

/** A topic as the cluster has it: partition count, replicas per partition, its dynamic settings. */
export interface TopicState {
  name: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level (dynamic) settings only; broker defaults are not part of a topic's state. */
  dynamicConfig: Record<string, string>;
  /** Dynamic settings whose value the broker hides (sensitive): they cannot be carried over. */
  hiddenConfig: string[];
}

export interface ConfigChange {
  name: string;
  from: string | undefined;
  to: string;
}

export type TopicPlanEntry =
  | { action: 'create'; topic: string; settings: TopicSettings; config: Record<string, string> }
  | {
      action: 'alter' | 'unchanged';
      topic: string;
      settings: TopicSettings;
      changes: ConfigChange[];
      /** The merged dynamic config to send: every setting the topic has, with the managed ones set. */
      mergedConfig: Record<string, string>;
      partitions?: { from: number; to: number };
      /** Set when the cluster's replication differs: provisioning never reassigns replicas. */
      replicationNote?: string;
    };

export interface TopicPlan {
  entries: TopicPlanEntry[];
  /** Partition increases that need `--allow-partition-increase`; a plan with any is not applied. */
  refused: { topic: string; from: number; to: number }[];
}

export function minInsyncFor(settings: TopicSettings): number {
  return settings.minInsyncReplicas ?? (settings.replicationFactor >= 3 ? 2 : 1);
}

/** The settings provisioning owns on every topic; everything else on a topic is left as found. */
export function managedConfig(settings: TopicSettings): Record<string, string> {
  return {
    'retention.ms': String(settings.retentionMs),
    'max.message.bytes': String(settings.maxMessageBytes),
    'cleanup.policy': 'delete',
    'min.insync.replicas': String(minInsyncFor(settings)),
    // An out-of-sync replica elected leader would drop acknowledged events (and with them cursor moves).
    'unclean.leader.election.enable': 'false',
  };
}

export class TopicSettingsError extends Error {
  override readonly name = 'TopicSettingsError';
}

/**
 * Compares declared settings with the cluster's state. Every catalogue topic is keyed by order, so a
 * partition increase (which moves keys to other partitions) is refused unless explicitly allowed;
 * partitions are never reduced (Kafka cannot) and replicas are never reassigned.
 */
export function planTopics(
  desired: TopicSettings[],
  current: TopicState[],
  options: { allowPartitionIncrease?: boolean } = {},
): TopicPlan {
  const byName = new Map(current.map((t) => [t.name, t]));
  const plan: TopicPlan = { entries: [], refused: [] };
  for (const settings of desired) {
    const minIsr = minInsyncFor(settings);
    if (minIsr > settings.replicationFactor)
      throw new TopicSettingsError(
        `${settings.name}: min.insync.replicas ${minIsr} exceeds the replication factor ${settings.replicationFactor}; no write could ever be acknowledged`,
      );
    const managed = managedConfig(settings);
    const state = byName.get(settings.name);
    if (!state) {
      plan.entries.push({ action: 'create', topic: settings.name, settings, config: managed });
      continue;
    }
    const hiddenManaged = state.hiddenConfig.filter((k) => !(k in managed));
    if (hiddenManaged.length > 0)
      throw new TopicSettingsError(
        `${settings.name}: its dynamic setting(s) ${hiddenManaged.join(', ')} are sensitive, so their values cannot be read back and would be lost by re-provisioning; set them in the declared state or remove them first`,
      );
    const changes: ConfigChange[] = Object.entries(managed)
      .filter(([name, value]) => state.dynamicConfig[name] !== value)
      .map(([name, value]) => ({ name, from: state.dynamicConfig[name], to: value }));
    let partitions: { from: number; to: number } | undefined;
    if (state.partitions < settings.partitions) {
      partitions = { from: state.partitions, to: settings.partitions };
      if (!options.allowPartitionIncrease) plan.refused.push({ topic: settings.name, ...partitions });
    }
    const replicationNote =
      state.replicationFactor !== settings.replicationFactor
        ? `has replication ${state.replicationFactor}, declared ${settings.replicationFactor}: provisioning does not reassign replicas (use kafka-reassign-partitions)`
        : undefined;
    if (minIsr > state.replicationFactor)
      throw new TopicSettingsError(
        `${settings.name}: min.insync.replicas ${minIsr} exceeds the topic's actual replication ${state.replicationFactor}`,
      );
    plan.entries.push({
      action: changes.length > 0 || partitions ? 'alter' : 'unchanged',
      topic: settings.name,
      settings,
      changes,
      mergedConfig: { ...state.dynamicConfig, ...managed },
      partitions,
      replicationNote,
    });
  }
  return plan;
}

/** One line per topic (and per change) for `--dry-run` and the CLI's report. */
export function describePlan(plan: TopicPlan): string[] {
  const lines: string[] = [];
  for (const e of plan.entries) {
    const s = e.settings;
    const shape = `partitions=${s.partitions} rf=${s.replicationFactor} min.insync.replicas=${minInsyncFor(s)} retention=${s.retentionMs / 86_400_000}d`;
    if (e.action === 'create') {
      lines.push(`create    ${e.topic}  ${shape}`);
      continue;
    }
    lines.push(`${e.action.padEnd(9)} ${e.topic}  ${shape}`);
    for (const c of e.changes)
      lines.push(`            ${c.name}: ${c.from ?? '(broker default)'} -> ${c.to}`);
    if (e.partitions) {
      const refused = plan.refused.some((r) => r.topic === e.topic);
      lines.push(
        `            partitions: ${e.partitions.from} -> ${e.partitions.to}${refused ? '  REFUSED without --allow-partition-increase' : ''}`,
      );
    }
    const kept = Object.keys(e.mergedConfig).filter((k) => !(k in managedConfig(s)));
    if (kept.length > 0) lines.push(`            kept as found: ${kept.join(', ')}`);
    if (e.replicationNote) lines.push(`            note: ${e.replicationNote}`);
  }
  return lines;
}
