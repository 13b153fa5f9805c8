import {
  Controller,
  Get,
  HttpException,
  HttpStatus,
  Inject,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorFunction,
} from '@nestjs/terminus';
import { register } from 'prom-client';
import { SERVICE_NAME } from '../tokens';
import { ErpCircuitHealthIndicator } from './erp-circuit.health';
import { KafkaHealthIndicator } from './kafka.health';
import { PostgresHealthIndicator } from './postgres.health';
import { ConsumerProgressHealthIndicator, WorkHealthIndicator } from './work.health';

/**
 * Liveness (`/health`: 503 only when a consumer is stuck, see Liveness), readiness (`/ready`: Kafka
 * and Postgres reachable over the connections the service keeps, and nothing the service's own work
 * reported failing, e.g. WDT or Kingdee refusing its credentials) and `/metrics`. Both probes run
 * terminus' checks; the body keeps the fields operators and scripts read (`status`, `service`,
 * `consumers`/`checks`) beside terminus' `details`.
 */
@Controller()
export class HealthController {
  constructor(
    @Inject(SERVICE_NAME) private readonly service: string,
    private readonly checks: HealthCheckService,
    private readonly kafka: KafkaHealthIndicator,
    private readonly postgres: PostgresHealthIndicator,
    private readonly work: WorkHealthIndicator,
    private readonly consumers: ConsumerProgressHealthIndicator,
    private readonly circuit: ErpCircuitHealthIndicator,
  ) {}

  /** 503 only for a consumer stuck with work to do (see Liveness); waiting on Kingdee is not stuck. */
  @Get('health')
  @HealthCheck({ swaggerDocumentation: false })
  async health() {
    const circuit = this.circuit.check();
    const result = await this.run([() => this.consumers.check(), ...(circuit ? [() => circuit] : [])]);
    const progress = result.details.consumers as unknown as { consumers: unknown; waiting?: string };
    const body = {
      status: result.status === 'ok' ? 'ok' : 'stalled',
      service: this.service,
      consumers: progress.consumers,
      ...(progress.waiting ? { waiting: progress.waiting } : {}),
      details: result.details,
    };
    if (result.status !== 'ok') throw new HttpException(body, HttpStatus.SERVICE_UNAVAILABLE);
    return body;
  }

  @Get('ready')
  @HealthCheck({ swaggerDocumentation: false })
  async ready() {
    const result = await this.run([
      () => this.kafka.check(),
      () => this.postgres.check(),
      ...this.work.checks(),
    ]);
    const checks = Object.fromEntries(
      Object.entries(result.details).map(([key, detail]) => [
        key,
        detail.status === 'up' ? 'ok' : String(detail.message ?? 'down'),
      ]),
    );
    if (result.status !== 'ok')
      throw new HttpException(
        { status: 'not_ready', service: this.service, checks, details: result.details },
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    return { status: 'ready', service: this.service, checks, details: result.details };
  }

  @Get('metrics')
  async metrics() {
    return register.metrics();
  }

  /** terminus' result whether up or down (it throws the down one as a 503). */
  private async run(indicators: HealthIndicatorFunction[]): Promise<HealthCheckResult> {
    try {
      return await this.checks.check(indicators);
    } catch (err) {
      if (err instanceof ServiceUnavailableException) return err.getResponse() as HealthCheckResult;
      throw err;
    }
  }
}
