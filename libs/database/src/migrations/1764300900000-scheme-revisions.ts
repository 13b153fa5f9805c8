import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The history of scheme files edited through the operator API: every saved version with its unified
 * diff against the one before, who saved it and why. Revision 0 is the file as it was before its first
 * save through the API (so a rollback can reach it).
 */
export class SchemeRevisions1764300900000 implements MigrationInterface {
  name = 'SchemeRevisions1764300900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE scheme_revisions (
        scheme_id text NOT NULL,
        revision integer NOT NULL CHECK (revision >= 0),
        yaml text NOT NULL,
        diff text NOT NULL,
        author text NOT NULL,
        comment text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scheme_id, revision)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS scheme_revisions`);
  }
}
