import { DataSource } from 'typeorm';
import { OperatorRole } from '@libs/config';

/** A console session as stored: the hash of its id, never the id itself. */
export interface OperatorSessionRecord {
  idHash: Buffer;
  name: string;
  role: OperatorRole;
  csrfToken: string;
  expiresAt: Date;
}

/** Where sessions live (Postgres in the service; the interface keeps the session logic testable). */
export interface OperatorSessionStore {
  create(session: OperatorSessionRecord): Promise<void>;
  /** The session if it exists and has not expired at `now`. */
  find(idHash: Buffer, now: Date): Promise<OperatorSessionRecord | undefined>;
  delete(idHash: Buffer): Promise<void>;
  /** Removes sessions expired at `now`; answers how many. */
  deleteExpired(now: Date): Promise<number>;
}

interface SessionRow {
  id_hash: Buffer;
  token_name: string;
  role: OperatorRole;
  csrf_token: string;
  expires_at: Date;
}

/** Table operator_sessions (migration 1764300600000). Expiry is compared with the caller's clock. */
export class PostgresOperatorSessionStore implements OperatorSessionStore {
  constructor(private readonly ds: DataSource) {}

  async create(s: OperatorSessionRecord): Promise<void> {
    await this.ds.query(
      `INSERT INTO operator_sessions (id_hash, token_name, role, csrf_token, expires_at)
       VALUES ($1, $2, $3, $4, $5)`,
      [s.idHash, s.name, s.role, s.csrfToken, s.expiresAt],
    );
  }

  async find(idHash: Buffer, now: Date): Promise<OperatorSessionRecord | undefined> {
    const rows: SessionRow[] = await this.ds.query(
      `SELECT id_hash, token_name, role, csrf_token, expires_at
         FROM operator_sessions WHERE id_hash = $1 AND expires_at > $2`,
      [idHash, now],
    );
    const row = rows[0];
    return row
      ? {
          idHash: row.id_hash,
          name: row.token_name,
          role: row.role,
          csrfToken: row.csrf_token,
          expiresAt: new Date(row.expires_at),
        }
      : undefined;
  }

  async delete(idHash: Buffer): Promise<void> {
    await this.ds.query(`DELETE FROM operator_sessions WHERE id_hash = $1`, [idHash]);
  }

  async deleteExpired(now: Date): Promise<number> {
    const [, count] = (await this.ds.query(`DELETE FROM operator_sessions WHERE expires_at <= $1`, [
      now,
    ])) as [unknown, number];
    return count;
  }
}
