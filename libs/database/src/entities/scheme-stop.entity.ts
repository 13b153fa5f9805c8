import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A scheme stopped by a person or paused: its documents wait. */
@Entity({ name: 'scheme_stops' })
export class SchemeStopEntity {
  @PrimaryColumn({ name: 'scheme_id', type: 'text' }) schemeId!: string;
  @Column({ type: 'text' }) reason!: string;
  @Column({ type: 'jsonb', nullable: true }) detail!: unknown;
  @Column({ name: 'stopped_by', type: 'text' }) stoppedBy!: string;
  @Column({ name: 'stopped_at', type: 'timestamptz' }) stoppedAt!: Date;
}
