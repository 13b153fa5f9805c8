import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A saved revision of a scheme file (the console's editor history). */
@Entity({ name: 'scheme_revisions' })
export class SchemeRevisionEntity {
  @PrimaryColumn({ name: 'scheme_id', type: 'text' }) schemeId!: string;
  @PrimaryColumn({ type: 'int' }) revision!: number;
  @Column({ type: 'text' }) yaml!: string;
  @Column({ type: 'text' }) diff!: string;
  @Column({ type: 'text' }) author!: string;
  @Column({ type: 'text', nullable: true }) comment!: string | null;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
