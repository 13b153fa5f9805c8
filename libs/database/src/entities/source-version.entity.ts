import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The source versions (fingerprints) of an order seen by the transformer. */
@Entity({ name: 'source_versions' })
export class SourceVersionEntity {
  @PrimaryColumn({ name: 'scheme_id', type: 'text' }) schemeId!: string;
  @PrimaryColumn({ name: 'source_key', type: 'text' }) sourceKey!: string;
  @PrimaryColumn({ type: 'text' }) fingerprint!: string;
  @Column({ type: 'text' }) modified!: string;
  @Column({ name: 'first_offset', type: 'bigint' }) firstOffset!: string;
  @Column({ name: 'first_seen_at', type: 'timestamptz' }) firstSeenAt!: Date;
  @Column({ type: 'jsonb', nullable: true }) record!: unknown;
  @Column({ type: 'jsonb', nullable: true }) document!: unknown;
}
