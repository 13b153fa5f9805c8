import { AppLogger } from '@libs/common';
import { WdtClientOptions } from './wdt-client.options';
import { WdtClientDeps, WdtStockoutReturnClient } from './wdt-stockout-return.client';

/** Builds the WDT client of one connection (options from `@libs/connections`, secrets already read). */
export function createWdtClient(
  options: WdtClientOptions,
  logger: AppLogger,
  deps: Omit<WdtClientDeps, 'logger'> = {},
): WdtStockoutReturnClient {
  return new WdtStockoutReturnClient(options, { ...deps, logger });
}
