import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A console sign-in session (the cookie's hash, role, CSRF token, expiry). */
@Entity({ name: 'operator_sessions' })
export class OperatorSessionEntity {
  @PrimaryColumn({ name: 'id_hash', type: 'bytea' }) idHash!: Buffer;
  @Column({ name: 'token_name', type: 'text' }) tokenName!: string;
  @Column({ type: 'text' }) role!: string;
  @Column({ name: 'csrf_token', type: 'text' }) csrfToken!: string;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
}
