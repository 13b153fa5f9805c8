import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The last emitted version of each order, so unchanged re-reads are not re-emitted. */
@Entity({ name: 'stockout_fingerprints' })
export class StockoutFingerprintEntity {
  @PrimaryColumn({ name: 'scheme_id', type: 'text' }) schemeId!: string;
  @PrimaryColumn({ name: 'order_no', type: 'text' }) orderNo!: string;
  @Column({ type: 'text' }) fingerprint!: string;
  @Column({ type: 'text', nullable: true }) modified!: string | null;
  @Column({ name: 'consign_time', type: 'text', nullable: true }) consignTime!: string | null;
  @Column({ name: 'last_emitted_at', type: 'timestamptz' }) lastEmittedAt!: Date;
}
