import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An operator's request to read given orders from WDT again. */
@Entity({ name: 'resync_requests' })
export class ResyncRequestEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'scheme_id', type: 'text' }) schemeId!: string;
  @Column({ name: 'order_no', type: 'text' }) orderNo!: string;
  @Column({ name: 'requested_by', type: 'text' }) requestedBy!: string;
  @Column({ name: 'requested_at', type: 'timestamptz' }) requestedAt!: Date;
  @Column({ type: 'text' }) state!: string;
  @Column({ type: 'text', nullable: true }) result!: string | null;
  @Column({ name: 'done_at', type: 'timestamptz', nullable: true }) doneAt!: Date | null;
  @Column({ type: 'text' }) trigger!: string;
  @Column({ name: 'source_key', type: 'text', nullable: true }) sourceKey!: string | null;
}
