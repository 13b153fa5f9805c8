import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A parked record a person can inspect and re-push. */
@Entity({ name: 'dead_letters' })
@Index('idx_dead_letters_state', ['state', 'occurredAt'])
@Index('idx_dead_letters_source_key', ['sourceKey'])
export class DeadLetterEntity {
  @PrimaryColumn({ name: 'event_id', type: 'uuid' }) eventId!: string;
  @Column({ type: 'text' }) stage!: string;
  @Column({ name: 'scheme_id', type: 'text', nullable: true }) schemeId!: string | null;
  @Column({ name: 'source_key', type: 'text', nullable: true }) sourceKey!: string | null;
  @Column({ name: 'error_class', type: 'text' }) errorClass!: string;
  @Column({ name: 'error_message', type: 'text' }) errorMessage!: string;
  @Column({ type: 'int' }) attempts!: number;
  @Column({ name: 'origin_topic', type: 'text' }) originTopic!: string;
  @Column({ name: 'origin_partition', type: 'int' }) originPartition!: number;
  @Column({ name: 'origin_offset', type: 'text' }) originOffset!: string;
  @Column({ name: 'origin_key', type: 'text', nullable: true }) originKey!: string | null;
  @Column({ type: 'jsonb' }) payload!: Record<string, unknown>;
  /** parked → repushed (by whom, when) or resolved. */
  @Column({ type: 'text', default: 'parked' }) state!: string;
  @Column({ name: 'occurred_at', type: 'timestamptz' }) occurredAt!: Date;
  @Column({ name: 'repushed_at', type: 'timestamptz', nullable: true }) repushedAt!: Date | null;
  @Column({ name: 'repushed_by', type: 'text', nullable: true }) repushedBy!: string | null;
  @Column({ name: 'source_version', type: 'text', nullable: true }) sourceVersion!: string | null;
  /** A dead letter a person closed without re-pushing it, with who and why. */
  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true }) closedAt!: Date | null;
  @Column({ name: 'closed_by', type: 'text', nullable: true }) closedBy!: string | null;
  @Column({ name: 'closed_reason', type: 'text', nullable: true }) closedReason!: string | null;
}
