import { hostname } from 'node:os';
import { DataSource } from 'typeorm';
import { ServiceStatusStore } from './service-status.store';

/** A consumer group's lag as one measurement saw it (messages behind the high watermarks). */
export interface ConsumerLagReport {
  groupId: string;
  lag: number;
  partitions: Array<{ topic: string; partition: number; lag: number }>;
}

/**
 * Keeps a service's latest consumer-group lag in service_status (key `consumer_lag`), where the
 * operator's overview reads the backlog per stage (Prometheus has it too, but the console reads
 * Postgres only). One row per host: replicas of a group measure the same lag.
 */
export function consumerLagRecorder(
  ds: DataSource,
  service: string,
): (report: ConsumerLagReport) => Promise<void> {
  const status = new ServiceStatusStore(ds, service, hostname());
  return (report) => status.put('consumer_lag', report);
}
