import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One finding of a reconciliation run (a difference between WDT and Kingdee). */
@Entity({ name: 'reconcile_findings' })
export class ReconcileFindingEntity {
  @PrimaryColumn({ name: 'run_id', type: 'uuid' }) runId!: string;
  @PrimaryColumn({ type: 'int' }) seq!: number;
  @Column({ type: 'text' }) kind!: string;
  @Column({ name: 'bill_key', type: 'text' }) billKey!: string;
  @Column({ name: 'order_no', type: 'text', nullable: true }) orderNo!: string | null;
  @Column({ type: 'text', nullable: true }) cause!: string | null;
  @Column({ name: 'trail_status', type: 'text', nullable: true }) trailStatus!: string | null;
  @Column({ name: 'bill_numbers', type: 'text', array: true }) billNumbers!: string[];
  @Column({ type: 'jsonb' }) detail!: unknown;
  @Column({ name: 'repush_state', type: 'text', nullable: true }) repushState!: string | null;
  @Column({ name: 'repush_result', type: 'text', nullable: true }) repushResult!: string | null;
  @Column({ name: 'repush_requested_by', type: 'text', nullable: true }) repushRequestedBy!: string | null;
  @Column({ name: 'repush_requested_at', type: 'timestamptz', nullable: true })
  repushRequestedAt!: Date | null;
  @Column({ name: 'repushed_at', type: 'timestamptz', nullable: true }) repushedAt!: Date | null;
}
