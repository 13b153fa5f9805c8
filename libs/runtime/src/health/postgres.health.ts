import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../tokens';

const TIMEOUT_MS = 3000;

/**
 * Postgres reachable through the service's own pool (terminus' TypeOrmHealthIndicator wants
 * @nestjs/typeorm's connection; the services hold their DataSource themselves). A pool that cannot
 * hand out a connection within 3 s counts as down.
 */
@Injectable()
export class PostgresHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
  ) {}

  async check(key = 'postgres') {
    const session = this.indicators.check(key);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        // Raw: the probe is a round trip, not a table read.
        this.ds.query('SELECT 1'),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
        }),
      ]);
      return session.up();
    } catch (err) {
      return session.down({ message: `Postgres unreachable: ${(err as Error).message}` });
    } finally {
      clearTimeout(timer);
    }
  }
}
