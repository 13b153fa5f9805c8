import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Append-only history: every audit event ever received, once (keyed by event id). */
@Entity({ name: 'audit_history' })
@Index('idx_audit_history_order', ['schemeId', 'sourceKey', 'occurredAt'])
@Index('idx_audit_history_time', ['occurredAt'])
export class AuditHistoryEntity {
  @PrimaryColumn({ name: 'event_id', type: 'uuid' }) eventId!: string;
  @Column({ name: 'scheme_id', type: 'text' }) schemeId!: string;
  @Column({ name: 'source_key', type: 'text' }) sourceKey!: string;
  @Column({ type: 'text' }) stage!: string;
  @Column({ type: 'text' }) status!: string;
  @Column({ name: 'occurred_at', type: 'timestamptz' }) occurredAt!: Date;
  @Column({ name: 'recorded_at', type: 'timestamptz' }) recordedAt!: Date;
  @Column({ type: 'jsonb' }) event!: Record<string, unknown>;
  /** The Kingdee call this event reports (audit_attempts), when it reports one. */
  @Column({ name: 'attempt_id', type: 'uuid', nullable: true }) attemptId!: string | null;
  @Column({ name: 'source_version', type: 'text', nullable: true }) sourceVersion!: string | null;
}
