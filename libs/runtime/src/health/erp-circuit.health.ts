import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Liveness } from './liveness';
import { LIVENESS } from '../tokens';

/**
 * The ERP circuit as `/health` shows it: always `up` — an open circuit is Kingdee's outage, which a
 * restart cannot cure — with `open: true` while any connection's circuit is not closed, so a probe
 * reader sees why documents wait.
 */
@Injectable()
export class ErpCircuitHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(LIVENESS) private readonly liveness: Liveness,
  ) {}

  check(key = 'erpCircuit') {
    const open = this.liveness.circuitOpen();
    return open === undefined ? undefined : this.indicators.check(key).up({ open });
  }
}
