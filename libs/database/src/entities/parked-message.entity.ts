import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A message that waits in Postgres (paused scheme, open circuit, behind an earlier version). */
@Entity({ name: 'parked_messages' })
export class ParkedMessageEntity {
  @PrimaryColumn({ type: 'text' }) stage!: string;
  @PrimaryColumn({ name: 'scheme_id', type: 'text' }) schemeId!: string;
  @PrimaryColumn({ name: 'message_key', type: 'text' }) messageKey!: string;
  @Column({ type: 'text' }) reason!: string;
  @Column({ type: 'text', nullable: true }) detail!: string | null;
  @Column({ name: 'origin_topic', type: 'text' }) originTopic!: string;
  @Column({ name: 'origin_partition', type: 'int' }) originPartition!: number;
  @Column({ name: 'origin_offset', type: 'bigint' }) originOffset!: string;
  @Column({ type: 'bytea' }) payload!: Buffer;
  @Column({ name: 'parked_at', type: 'timestamptz' }) parkedAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
  @Column({ name: 'drain_owner', type: 'text', nullable: true }) drainOwner!: string | null;
  @Column({ name: 'drain_until', type: 'timestamptz', nullable: true }) drainUntil!: Date | null;
}
