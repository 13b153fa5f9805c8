import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Both sides' rows of a reconciliation run, staged for the comparison in SQL. */
@Entity({ name: 'reconcile_staging' })
export class ReconcileStagingEntity {
  @PrimaryColumn({ name: 'run_id', type: 'uuid' }) runId!: string;
  @PrimaryColumn({ type: 'text' }) side!: string;
  @PrimaryColumn({ name: 'bill_key', type: 'text' }) billKey!: string;
  @PrimaryColumn({ name: 'item_id', type: 'text' }) itemId!: string;
  @Column({ type: 'jsonb' }) payload!: unknown;
}
