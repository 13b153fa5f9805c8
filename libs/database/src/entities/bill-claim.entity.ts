import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The loader's per-bill claim: at most one replica writes a given bill at a time, and a bill marked
 * loaded is never sent again. `in_flight` rows whose lease expired mean "ambiguous: look it up in
 * Kingdee before writing again".
 */
@Entity({ name: 'bill_claims' })
@Index('idx_bill_claims_state', ['state'])
export class BillClaimEntity {
  @PrimaryColumn({ name: 'scheme_id', type: 'text' }) schemeId!: string;
  @PrimaryColumn({ name: 'bill_key', type: 'text' }) billKey!: string;
  @Column({ type: 'text' }) state!: string;
  @Column({ type: 'text', nullable: true }) owner!: string | null;
  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true }) leaseUntil!: Date | null;
  @Column({ name: 'content_hash', type: 'text', nullable: true }) contentHash!: string | null;
  @Column({ name: 'kingdee_id', type: 'text', nullable: true }) kingdeeId!: string | null;
  @Column({ name: 'kingdee_number', type: 'text', nullable: true }) kingdeeNumber!: string | null;
  @Column({ type: 'int', default: 0 }) attempts!: number;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
