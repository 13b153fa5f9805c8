import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Bytes of a dead-lettered message too large for the dead-letter topic. */
@Entity({ name: 'dead_letter_payloads' })
export class DeadLetterPayloadEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'size_bytes', type: 'int' }) sizeBytes!: number;
  @Column({ type: 'text' }) sha256!: string;
  @Column({ type: 'bytea' }) data!: Buffer;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
