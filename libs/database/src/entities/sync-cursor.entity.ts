import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Per-scheme incremental cursor of the extractor, plus run state operators look at. */
@Entity({ name: 'sync_cursors' })
export class SyncCursorEntity {
  @PrimaryColumn({ name: 'scheme_id', type: 'text' }) schemeId!: string;
  @Column({ type: 'text' }) axis!: string;
  /** Shanghai wall-clock `yyyy-MM-dd HH:mm:ss`, the end of the last durable window. */
  @Column({ name: 'cursor_value', type: 'text' }) cursorValue!: string;
  @Column({ name: 'last_run_at', type: 'timestamptz', nullable: true }) lastRunAt!: Date | null;
  @Column({ name: 'last_success_at', type: 'timestamptz', nullable: true }) lastSuccessAt!: Date | null;
  @Column({ name: 'last_error', type: 'text', nullable: true }) lastError!: string | null;
  @Column({ name: 'sweep_value', type: 'text', nullable: true }) sweepValue!: string | null;
  @Column({ type: 'boolean', default: false }) paused!: boolean;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
