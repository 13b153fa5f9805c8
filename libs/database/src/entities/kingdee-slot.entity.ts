import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One Kingdee session slot of a capped account, shared by every loader and reconciler. */
@Entity({ name: 'kingdee_slots' })
export class KingdeeSlotEntity {
  @PrimaryColumn({ type: 'text' }) account!: string;
  @PrimaryColumn({ type: 'int' }) slot!: number;
  @Column({ type: 'text', nullable: true }) instance!: string | null;
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true }) expiresAt!: Date | null;
}
