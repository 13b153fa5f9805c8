import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** What an operator did (who, what, outcome): the operator audit log. */
@Entity({ name: 'operator_actions' })
export class OperatorActionEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column({ name: 'token_name', type: 'text' }) tokenName!: string;
  @Column({ type: 'text' }) action!: string;
  @Column({ type: 'text', nullable: true }) target!: string | null;
  @Column({ type: 'jsonb' }) params!: unknown;
  @Column({ type: 'text', nullable: true }) outcome!: string | null;
  @Column({ type: 'timestamptz' }) at!: Date;
}
