import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An operator's backfill or replay over a time range, and its progress. */
@Entity({ name: 'range_requests' })
export class RangeRequestEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ type: 'text' }) kind!: string;
  @Column({ name: 'scheme_id', type: 'text', nullable: true }) schemeId!: string | null;
  @Column({ type: 'text' }) stage!: string;
  @Column({ name: 'range_from', type: 'timestamptz' }) rangeFrom!: Date;
  @Column({ name: 'range_to', type: 'timestamptz' }) rangeTo!: Date;
  @Column({ type: 'boolean' }) force!: boolean;
  @Column({ type: 'text' }) state!: string;
  @Column({ name: 'progress_done', type: 'int' }) progressDone!: number;
  @Column({ name: 'progress_total', type: 'int', nullable: true }) progressTotal!: number | null;
  @Column({ name: 'resume_from', type: 'text', nullable: true }) resumeFrom!: string | null;
  @Column({ type: 'text', nullable: true }) message!: string | null;
  @Column({ name: 'cancel_requested', type: 'boolean' }) cancelRequested!: boolean;
  @Column({ type: 'text', nullable: true }) owner!: string | null;
  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true }) leaseUntil!: Date | null;
  @Column({ type: 'int' }) attempts!: number;
  @Column({ name: 'requested_by', type: 'text' }) requestedBy!: string;
  @Column({ name: 'requested_at', type: 'timestamptz' }) requestedAt!: Date;
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true }) startedAt!: Date | null;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt!: Date | null;
}
