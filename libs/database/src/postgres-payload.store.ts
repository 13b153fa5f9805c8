import { DataSource } from 'typeorm';
import { DeadLetterPayloadEntity } from './entities/dead-letter-payload.entity';

/** Oversize dead-letter payloads, parked in Postgres (implements the kafka lib's OversizePayloadStore). */
export class PostgresPayloadStore {
  constructor(private readonly ds: DataSource) {}

  async save(id: string, data: Buffer, sha256: string): Promise<void> {
    // The id is deterministic per message: a second park of the same bytes keeps the first row.
    await this.ds
      .createQueryBuilder()
      .insert()
      .into(DeadLetterPayloadEntity)
      .values({ id, sizeBytes: data.length, sha256, data, createdAt: () => 'now()' })
      .orIgnore()
      .execute();
  }

  async load(id: string): Promise<Buffer | undefined> {
    const row = await this.ds
      .getRepository(DeadLetterPayloadEntity)
      .findOne({ select: { data: true }, where: { id } });
    return row?.data;
  }
}
