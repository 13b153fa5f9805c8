import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The loader's per-bill claim (libs/loading/README.md): the bill's write-protocol state, its owner
 * with a fencing epoch and a lease, when it was last written, and the document it carries until it
 * has an outcome. Every change is conditional on (owner, epoch).
 */
@Entity({ name: 'bill_claims' })
@Index('idx_bill_claims_state', ['state'])
export class BillClaimEntity {
  @PrimaryColumn({ name: 'scheme_id', type: 'text' }) schemeId!: string;
  @PrimaryColumn({ name: 'bill_key', type: 'text' }) billKey!: string;
  /** writing | settling | saved_not_audited | loaded | failed | free | conflict_in_erp | duplicate_in_erp */
  @Column({ type: 'text' }) state!: string;
  @Column({ type: 'text', nullable: true }) owner!: string | null;
  /** Fencing token: +1 on every change of owner. */
  @Column({ type: 'bigint', default: 0 }) epoch!: string;
  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true }) leaseUntil!: Date | null;
  /** Set (by the fence) just before each write is sent. */
  @Column({ name: 'last_write_at', type: 'timestamptz', nullable: true }) lastWriteAt!: Date | null;
  /** The epoch that made the last write: a release of that epoch goes to settling, never free. */
  @Column({ name: 'write_epoch', type: 'bigint', nullable: true }) writeEpoch!: string | null;
  @Column({ name: 'settle_deadline', type: 'timestamptz', nullable: true }) settleDeadline!: Date | null;
  @Column({ name: 'next_check_at', type: 'timestamptz', nullable: true }) nextCheckAt!: Date | null;
  @Column({ name: 'content_hash', type: 'text', nullable: true }) contentHash!: string | null;
  @Column({ name: 'kingdee_id', type: 'text', nullable: true }) kingdeeId!: string | null;
  @Column({ name: 'kingdee_number', type: 'text', nullable: true }) kingdeeNumber!: string | null;
  @Column({ type: 'text', nullable: true }) reason!: string | null;
  @Column({ type: 'jsonb', nullable: true }) detail!: Record<string, unknown> | null;
  @Column({ type: 'jsonb', nullable: true }) document!: Record<string, unknown> | null;
  @Column({ type: 'int', default: 0 }) attempts!: number;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
