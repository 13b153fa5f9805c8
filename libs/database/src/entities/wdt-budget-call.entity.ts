import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One WDT call of an app key's shared budget (the sliding window). */
@Entity({ name: 'wdt_budget_calls' })
export class WdtBudgetCallEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column({ name: 'budget_key', type: 'text' }) budgetKey!: string;
  @Column({ type: 'text' }) scheme!: string;
  @Column({ type: 'text' }) priority!: string;
  @Column({ type: 'text' }) instance!: string;
  @Column({ name: 'started_at', type: 'timestamptz' }) startedAt!: Date;
}
