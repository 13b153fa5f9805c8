import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An operator's request to test a WDT or Kingdee connection, and its outcome. */
@Entity({ name: 'connection_tests' })
export class ConnectionTestEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ type: 'text' }) kind!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ name: 'requested_by', type: 'text' }) requestedBy!: string;
  @Column({ type: 'text' }) state!: string;
  @Column({ type: 'text', nullable: true }) owner!: string | null;
  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true }) leaseUntil!: Date | null;
  @Column({ type: 'boolean', nullable: true }) ok!: boolean | null;
  @Column({ type: 'int', nullable: true }) ms!: number | null;
  @Column({ name: 'error_kind', type: 'text', nullable: true }) errorKind!: string | null;
  @Column({ type: 'text', nullable: true }) error!: string | null;
  @Column({ name: 'requested_at', type: 'timestamptz' }) requestedAt!: Date;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt!: Date | null;
}
