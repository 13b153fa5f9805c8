import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Admin, Kafka } from 'kafkajs';
import { CommonConfig } from '@libs/config';
import { probeBroker } from '@libs/kafka';
import { CONFIG, KAFKA } from '../tokens';

/**
 * Kafka reachable: one metadata round trip on an admin client this indicator keeps for the life of
 * the process (kafkajs reconnects it after a broker outage) — a probe every few seconds must not
 * open and tear down a connection each time.
 */
@Injectable()
export class KafkaHealthIndicator implements OnApplicationShutdown {
  private admin?: Admin;

  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(CONFIG) private readonly config: CommonConfig,
  ) {}

  async check(key = 'kafka') {
    const session = this.indicators.check(key);
    this.admin ??= this.kafka.admin({ retry: { retries: 0 } });
    try {
      await probeBroker(this.kafka, this.admin, this.config.KAFKA_BROKERS, 3000);
      return session.up();
    } catch (err) {
      return session.down({ message: (err as Error).message });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
  }
}
