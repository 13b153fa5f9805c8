import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Console sign-in sessions. Only the SHA-256 of the session id is stored, so a read of this table
 * (a backup, a replica) cannot be replayed as a cookie. The role is kept as signed in; the service
 * checks the token's name is still configured on every request.
 */
export class OperatorSessions1764300600000 implements MigrationInterface {
  name = 'OperatorSessions1764300600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE operator_sessions (
        id_hash bytea PRIMARY KEY,
        token_name text NOT NULL,
        role text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        csrf_token text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX idx_operator_sessions_expires ON operator_sessions (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS operator_sessions`);
  }
}
