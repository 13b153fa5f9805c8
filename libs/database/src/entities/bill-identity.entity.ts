import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Which scheme a bill key belongs to in a Kingdee account and form (one key, one scheme). */
@Entity({ name: 'bill_identities' })
export class BillIdentityEntity {
  @PrimaryColumn({ name: 'target_account', type: 'text' }) targetAccount!: string;
  @PrimaryColumn({ name: 'form_id', type: 'text' }) formId!: string;
  @PrimaryColumn({ name: 'bill_key', type: 'text' }) billKey!: string;
  @Column({ name: 'scheme_id', type: 'text' }) schemeId!: string;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
