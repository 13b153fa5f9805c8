import { DataSource, LessThanOrEqual, MoreThan, Repository } from 'typeorm';
import { OperatorSessionEntity } from '@libs/database';
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

/** Table operator_sessions (migration 1764300600000). Expiry is compared with the caller's clock. */
export class PostgresOperatorSessionStore implements OperatorSessionStore {
  private readonly sessions: Repository<OperatorSessionEntity>;

  constructor(ds: DataSource) {
    this.sessions = ds.getRepository(OperatorSessionEntity);
  }

  async create(s: OperatorSessionRecord): Promise<void> {
    await this.sessions.insert({
      idHash: s.idHash,
      tokenName: s.name,
      role: s.role,
      csrfToken: s.csrfToken,
      expiresAt: s.expiresAt,
    });
  }

  async find(idHash: Buffer, now: Date): Promise<OperatorSessionRecord | undefined> {
    const row = await this.sessions.findOneBy({ idHash, expiresAt: MoreThan(now) });
    return row
      ? {
          idHash: row.idHash,
          name: row.tokenName,
          role: row.role as OperatorRole,
          csrfToken: row.csrfToken,
          expiresAt: new Date(row.expiresAt),
        }
      : undefined;
  }

  async delete(idHash: Buffer): Promise<void> {
    await this.sessions.delete({ idHash });
  }

  async deleteExpired(now: Date): Promise<number> {
    const result = await this.sessions.delete({ expiresAt: LessThanOrEqual(now) });
    return result.affected ?? 0;
  }
}
