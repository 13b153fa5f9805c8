import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { Liveness } from './liveness';
import { Readiness } from './readiness';
import { LIVENESS, READINESS } from '../tokens';

/**
 * What the service's own work reports: each failing readiness check (WDT or Kingdee refusing the
 * credentials, …) is one `down` indicator named after it, with its reason.
 */
@Injectable()
export class WorkHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(READINESS) private readonly readiness: Readiness,
  ) {}

  checks(): Array<() => HealthIndicatorResult> {
    return Object.entries(this.readiness.failures()).map(
      ([key, reason]) =>
        () =>
          this.indicators.check(key).down({ message: reason }),
    );
  }
}

/**
 * Consumer progress (see Liveness): down only for a consumer stuck with work to do; a consumer
 * waiting on an open ERP circuit or on writes being settled is up, with the reason.
 */
@Injectable()
export class ConsumerProgressHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(LIVENESS) private readonly liveness: Liveness,
  ) {}

  async check(key = 'consumers') {
    const verdict = await this.liveness.check();
    const session = this.indicators.check(key);
    const data = { consumers: verdict.consumers, ...(verdict.waiting ? { waiting: verdict.waiting } : {}) };
    return verdict.live ? session.up(data) : session.down(data);
  }
}
