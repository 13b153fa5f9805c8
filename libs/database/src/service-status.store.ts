import { DataSource, Like } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ServiceStatusEntity } from './entities/service-status.entity';

/**
 * The service_status rows of one service instance, through TypeORM: `put` replaces a key's value
 * (an upsert stamped with the database's clock, so every replica's `updated_at` is comparable);
 * `remove` drops one key or, without a key, everything the instance reported (on shutdown).
 */
export class ServiceStatusStore {
  constructor(
    private readonly ds: DataSource,
    private readonly service: string,
    private readonly instance: string,
  ) {}

  async put(key: string, value: object): Promise<void> {
    await this.ds
      .createQueryBuilder()
      .insert()
      .into(ServiceStatusEntity)
      // jsonb: TypeORM's partial-entity type cannot express "any JSON object"; the driver serialises it.
      .values({
        service: this.service,
        instance: this.instance,
        key,
        value,
        updatedAt: () => 'now()',
      } as QueryDeepPartialEntity<ServiceStatusEntity>)
      .orUpdate(['value', 'updated_at'], ['service', 'instance', 'key'])
      .execute();
  }

  /** Drops the keys that start with `prefix` (e.g. every `scheme_file:` report). */
  async removeMatching(prefix: string): Promise<void> {
    await this.ds.getRepository(ServiceStatusEntity).delete({
      service: this.service,
      instance: this.instance,
      key: Like(`${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`),
    });
  }

  async remove(key?: string): Promise<void> {
    await this.ds
      .getRepository(ServiceStatusEntity)
      .delete({ service: this.service, instance: this.instance, ...(key === undefined ? {} : { key }) });
  }
}
