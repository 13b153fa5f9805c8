import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The idempotency key (and seller, account) a scheme's state was made with. */
@Entity({ name: 'scheme_keys' })
export class SchemeKeyEntity {
  @PrimaryColumn({ name: 'scheme_id', type: 'text' }) schemeId!: string;
  @Column({ type: 'text' }) field!: string;
  @Column({ type: 'text' }) source!: string;
  @Column({ name: 'recorded_at', type: 'timestamptz' }) recordedAt!: Date;
  @Column({ name: 'source_sid', type: 'text', nullable: true }) sourceSid!: string | null;
  @Column({ name: 'target_account', type: 'text', nullable: true }) targetAccount!: string | null;
}
