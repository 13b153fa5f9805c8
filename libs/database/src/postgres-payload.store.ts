import { DataSource } from 'typeorm';

/** Oversize dead-letter payloads, parked in Postgres (implements the kafka lib's OversizePayloadStore). */
export class PostgresPayloadStore {
  constructor(private readonly ds: DataSource) {}

  async save(id: string, data: Buffer, sha256: string): Promise<void> {
    await this.ds.query(
      `INSERT INTO dead_letter_payloads (id, size_bytes, sha256, data, created_at) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (id) DO NOTHING`,
      [id, data.length, sha256, data],
    );
  }

  async load(id: string): Promise<Buffer | undefined> {
    const rows: Array<{ data: Buffer }> = await this.ds.query(
      `SELECT data FROM dead_letter_payloads WHERE id = $1`,
      [id],
    );
    return rows[0]?.data;
  }
}
