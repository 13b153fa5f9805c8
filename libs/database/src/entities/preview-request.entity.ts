import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A live preview of a scheme draft on real orders, run by the services that hold the secrets. */
@Entity({ name: 'preview_requests' })
export class PreviewRequestEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'scheme_id', type: 'text' }) schemeId!: string;
  @Column({ name: 'order_no', type: 'text', nullable: true }) orderNo!: string | null;
  @Column({ name: 'scheme_yaml', type: 'text', nullable: true }) schemeYaml!: string | null;
  @Column({ type: 'text' }) state!: string;
  @Column({ type: 'text', nullable: true }) error!: string | null;
  @Column({ type: 'jsonb', nullable: true }) record!: unknown;
  @Column({ type: 'jsonb', nullable: true }) request!: unknown;
  @Column({ type: 'jsonb' }) preconditions!: unknown;
  @Column({ type: 'jsonb' }) codes!: unknown;
  @Column({ type: 'jsonb' }) refs!: unknown;
  @Column({ type: 'text', nullable: true }) owner!: string | null;
  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true }) leaseUntil!: Date | null;
  @Column({ name: 'requested_by', type: 'text' }) requestedBy!: string;
  @Column({ name: 'requested_at', type: 'timestamptz' }) requestedAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
