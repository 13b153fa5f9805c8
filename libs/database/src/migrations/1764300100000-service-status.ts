import { MigrationInterface, QueryRunner } from 'typeorm';

/** Live state a service reports for operators (e.g. the loader's Kingdee circuit). */
export class ServiceStatus1764300100000 implements MigrationInterface {
  name = 'ServiceStatus1764300100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE service_status (
        service text NOT NULL,
        instance text NOT NULL,
        key text NOT NULL,
        value jsonb NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (service, instance, key)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS service_status`);
  }
}
