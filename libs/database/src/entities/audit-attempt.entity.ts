import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One Kingdee call's request and reply for an order (what the operator's order view shows per attempt). */
@Entity({ name: 'audit_attempts' })
export class AuditAttemptEntity {
  @PrimaryColumn({ name: 'attempt_id', type: 'uuid' }) attemptId!: string;
  @PrimaryColumn({ name: 'scheme_id', type: 'text' }) schemeId!: string;
  @PrimaryColumn({ name: 'source_key', type: 'text' }) sourceKey!: string;
  @Column({ name: 'bill_key', type: 'text' }) billKey!: string;
  @Column({ type: 'text' }) operation!: string;
  @Column({ type: 'text' }) outcome!: string;
  @Column({ type: 'jsonb', nullable: true }) request!: unknown;
  @Column({ type: 'jsonb', nullable: true }) reply!: unknown;
  @Column({ name: 'request_bytes', type: 'int' }) requestBytes!: number;
  @Column({ name: 'reply_bytes', type: 'int' }) replyBytes!: number;
  @Column({ type: 'timestamptz' }) at!: Date;
}
