import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A reconciliation run of one scheme over a period (lease, phase, counts). */
@Entity({ name: 'reconcile_runs' })
export class ReconcileRunEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'scheme_id', type: 'text' }) schemeId!: string;
  @Column({ name: 'period_from', type: 'timestamptz' }) periodFrom!: Date;
  @Column({ name: 'period_to', type: 'timestamptz' }) periodTo!: Date;
  @Column({ type: 'text' }) trigger!: string;
  @Column({ name: 'schedule_slot', type: 'text', nullable: true }) scheduleSlot!: string | null;
  @Column({ name: 'requested_by', type: 'text' }) requestedBy!: string;
  @Column({ type: 'text' }) state!: string;
  @Column({ type: 'text', nullable: true }) phase!: string | null;
  @Column({ type: 'jsonb' }) progress!: unknown;
  @Column({ type: 'jsonb', nullable: true }) counts!: unknown;
  @Column({ type: 'text', nullable: true }) error!: string | null;
  @Column({ name: 'cancel_requested', type: 'boolean' }) cancelRequested!: boolean;
  @Column({ type: 'text', nullable: true }) owner!: string | null;
  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true }) leaseUntil!: Date | null;
  @Column({ type: 'int' }) attempts!: number;
  @Column({ name: 'requested_at', type: 'timestamptz' }) requestedAt!: Date;
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true }) startedAt!: Date | null;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt!: Date | null;
  @Column({ name: 'summary_published_at', type: 'timestamptz', nullable: true })
  summaryPublishedAt!: Date | null;
}
