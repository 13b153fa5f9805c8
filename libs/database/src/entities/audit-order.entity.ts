import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One row per source order: its latest status and Kingdee ids. */
@Entity({ name: 'audit_orders' })
@Index('idx_audit_orders_status', ['status', 'lastOccurredAt'])
@Index('idx_audit_orders_time', ['lastOccurredAt'])
@Index('idx_audit_orders_source_key', ['sourceKey'])
export class AuditOrderEntity {
  @PrimaryColumn({ name: 'scheme_id', type: 'text' }) schemeId!: string;
  @PrimaryColumn({ name: 'source_key', type: 'text' }) sourceKey!: string;
  @Column({ type: 'text' }) status!: string;
  @Column({ type: 'text' }) stage!: string;
  @Column({ type: 'text', nullable: true }) reason!: string | null;
  @Column({ name: 'error_class', type: 'text', nullable: true }) errorClass!: string | null;
  @Column({ name: 'error_message', type: 'text', nullable: true }) errorMessage!: string | null;
  @Column({ name: 'error_field', type: 'text', nullable: true }) errorField!: string | null;
  @Column({ name: 'kingdee_id', type: 'text', nullable: true }) kingdeeId!: string | null;
  @Column({ name: 'kingdee_number', type: 'text', nullable: true }) kingdeeNumber!: string | null;
  @Column({ name: 'bill_key', type: 'text', nullable: true }) billKey!: string | null;
  @Column({ type: 'int', nullable: true }) attempts!: number | null;
  @Column({ name: 'latency_ms', type: 'double precision', nullable: true }) latencyMs!: number | null;
  @Column({ name: 'dead_letter_id', type: 'uuid', nullable: true }) deadLetterId!: string | null;
  @Column({ name: 'correlation_id', type: 'text' }) correlationId!: string;
  @Column({ name: 'last_event_id', type: 'uuid' }) lastEventId!: string;
  @Column({ name: 'last_occurred_at', type: 'timestamptz' }) lastOccurredAt!: Date;
  @Column({ name: 'first_seen_at', type: 'timestamptz' }) firstSeenAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
  @Column({ name: 'attempt_id', type: 'uuid', nullable: true }) attemptId!: string | null;
  /** What is known of the order's bill in Kingdee, and from where (a load, a lookup, a reconciliation). */
  @Column({ name: 'bill_state', type: 'text' }) billState!: string;
  @Column({ name: 'bill_source', type: 'text', nullable: true }) billSource!: string | null;
  @Column({ name: 'bill_at', type: 'timestamptz', nullable: true }) billAt!: Date | null;
  @Column({ name: 'latest_version', type: 'text', nullable: true }) latestVersion!: string | null;
  /** A failure a person closed (resolved by hand), with who and why. */
  @Column({ name: 'closed_by', type: 'text', nullable: true }) closedBy!: string | null;
  @Column({ name: 'closed_reason', type: 'text', nullable: true }) closedReason!: string | null;
}
