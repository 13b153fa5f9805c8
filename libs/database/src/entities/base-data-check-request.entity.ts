import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An operator's request to check base-data codes against Kingdee (answered by a loader). */
@Entity({ name: 'base_data_check_requests' })
export class BaseDataCheckRequestEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'requested_by', type: 'text' }) requestedBy!: string;
  @Column({ name: 'requested_at', type: 'timestamptz' }) requestedAt!: Date;
  @Column({ type: 'text' }) state!: string;
  @Column({ name: 'picked_by', type: 'text', nullable: true }) pickedBy!: string | null;
  @Column({ name: 'picked_at', type: 'timestamptz', nullable: true }) pickedAt!: Date | null;
  @Column({ name: 'done_at', type: 'timestamptz', nullable: true }) doneAt!: Date | null;
  @Column({ type: 'jsonb', nullable: true }) result!: unknown;
}
