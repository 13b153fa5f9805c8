import { Controller, Get, HttpException, HttpStatus, Inject } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { assertBrokerReachable } from '@libs/kafka';
import { register } from 'prom-client';
import { CommonConfig } from '@libs/config';
import { Readiness } from './readiness';
import { Liveness } from './liveness';
import { CONFIG, DATA_SOURCE, KAFKA, LIVENESS, READINESS, SERVICE_NAME } from './tokens';

/**
 * Liveness (`/health`: 503 only when a consumer is stuck, see Liveness), readiness (`/ready`: Kafka and Postgres reachable, and nothing the service's
 * own work reported failing, e.g. WDT or Kingdee refusing its credentials) and `/metrics`.
 */
@Controller()
export class HealthController {
  constructor(
    @Inject(SERVICE_NAME) private readonly service: string,
    @Inject(CONFIG) private readonly config: CommonConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(READINESS) private readonly readiness: Readiness,
    @Inject(LIVENESS) private readonly liveness: Liveness,
  ) {}

  /** 503 only for a consumer stuck with work to do (see Liveness); waiting on Kingdee is not stuck. */
  @Get('health')
  async health() {
    const verdict = await this.liveness.check();
    const body = {
      status: verdict.live ? 'ok' : 'stalled',
      service: this.service,
      consumers: verdict.consumers,
      ...(verdict.waiting ? { waiting: verdict.waiting } : {}),
    };
    if (!verdict.live) throw new HttpException(body, HttpStatus.SERVICE_UNAVAILABLE);
    return body;
  }

  @Get('ready')
  async ready() {
    const checks: Record<string, string> = {};
    try {
      await assertBrokerReachable(this.kafka, this.config.KAFKA_BROKERS, 3000);
      checks.kafka = 'ok';
    } catch (err) {
      checks.kafka = (err as Error).message;
    }
    try {
      await this.ds.query('SELECT 1');
      checks.postgres = 'ok';
    } catch (err) {
      checks.postgres = `Postgres unreachable: ${(err as Error).message}`;
    }
    Object.assign(checks, this.readiness.failures());
    const ok = Object.values(checks).every((v) => v === 'ok');
    if (!ok)
      throw new HttpException(
        { status: 'not_ready', service: this.service, checks },
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    return { status: 'ready', service: this.service, checks };
  }

  @Get('metrics')
  async metrics() {
    return register.metrics();
  }
}
