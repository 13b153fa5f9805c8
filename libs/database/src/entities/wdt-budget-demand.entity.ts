import { Column, Entity, PrimaryColumn } from 'typeorm';

/** What a process wants of an app key's budget, per scheme and priority. */
@Entity({ name: 'wdt_budget_demand' })
export class WdtBudgetDemandEntity {
  @PrimaryColumn({ name: 'budget_key', type: 'text' }) budgetKey!: string;
  @PrimaryColumn({ type: 'text' }) instance!: string;
  @PrimaryColumn({ type: 'text' }) scheme!: string;
  @PrimaryColumn({ type: 'text' }) priority!: string;
  @Column({ type: 'int' }) waiting!: number;
  @Column({ name: 'seen_at', type: 'timestamptz' }) seenAt!: Date;
}
