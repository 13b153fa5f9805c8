import { Column, Entity, PrimaryColumn } from 'typeorm';

/** What a service instance reports for operators (consumer lag, circuit, roles, file problems…). */
@Entity({ name: 'service_status' })
export class ServiceStatusEntity {
  @PrimaryColumn({ type: 'text' }) service!: string;
  @PrimaryColumn({ type: 'text' }) instance!: string;
  @PrimaryColumn({ type: 'text' }) key!: string;
  @Column({ type: 'jsonb' }) value!: Record<string, unknown>;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
