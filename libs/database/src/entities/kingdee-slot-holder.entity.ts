import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A process holding Kingdee session slots of an account (its lease). */
@Entity({ name: 'kingdee_slot_holders' })
export class KingdeeSlotHolderEntity {
  @PrimaryColumn({ type: 'text' }) account!: string;
  @PrimaryColumn({ type: 'text' }) instance!: string;
  @Column({ type: 'int' }) want!: number;
  @Column({ type: 'int' }) held!: number;
  @Column({ name: 'seen_at', type: 'timestamptz' }) seenAt!: Date;
}
