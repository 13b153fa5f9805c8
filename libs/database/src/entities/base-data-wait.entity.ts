import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A document waiting for a base-data code Kingdee does not know yet (per code and org). */
@Entity({ name: 'base_data_waits' })
export class BaseDataWaitEntity {
  @PrimaryColumn({ name: 'scheme_id', type: 'text' }) schemeId!: string;
  @PrimaryColumn({ name: 'bill_key', type: 'text' }) billKey!: string;
  @Column({ name: 'source_key', type: 'text' }) sourceKey!: string;
  @PrimaryColumn({ name: 'form_id', type: 'text' }) formId!: string;
  @Column({ type: 'text' }) noun!: string;
  @Column({ type: 'text' }) field!: string;
  @PrimaryColumn({ type: 'text' }) code!: string;
  @PrimaryColumn({ type: 'text' }) org!: string;
  @Column({ type: 'text' }) problem!: string;
  @Column({ type: 'text' }) diagnosis!: string;
  @Column({ name: 'kingdee_message', type: 'text', nullable: true }) kingdeeMessage!: string | null;
  @Column({ type: 'timestamptz' }) since!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
