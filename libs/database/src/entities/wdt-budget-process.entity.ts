import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A process sharing an app key's WDT budget (its heartbeat). */
@Entity({ name: 'wdt_budget_processes' })
export class WdtBudgetProcessEntity {
  @PrimaryColumn({ name: 'budget_key', type: 'text' }) budgetKey!: string;
  @PrimaryColumn({ type: 'text' }) instance!: string;
  @Column({ name: 'seen_at', type: 'timestamptz' }) seenAt!: Date;
}
