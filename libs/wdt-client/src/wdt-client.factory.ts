import { WdtConnectionConfig } from '@libs/config';
import { AppLogger } from '@libs/common';
import { WdtStockoutReturnClient } from './wdt-stockout-return.client';

/** Builds the WDT client from validated env (the gateway's credentials are required by config). */
export function createWdtClient(config: WdtConnectionConfig, logger: AppLogger): WdtStockoutReturnClient {
  return new WdtStockoutReturnClient(
    {
      gateway: config.WDT_GATEWAY,
      sid: config.WDT_SID,
      baseUrl: config.WDT_BASE_URL,
      appkey: config.WDT_APPKEY,
      appsecret: config.WDT_APPSECRET,
      qimen:
        config.WDT_GATEWAY === 'qimen'
          ? {
              url: config.WDT_QIMEN_URL!,
              appKey: config.WDT_QIMEN_APP_KEY!,
              appSecret: config.WDT_QIMEN_APP_SECRET!,
              targetAppKey: config.WDT_QIMEN_TARGET_APP_KEY!,
              signMethod: config.WDT_QIMEN_SIGN_METHOD,
            }
          : undefined,
      timeoutMs: config.WDT_TIMEOUT_MS,
      maxAttempts: config.WDT_MAX_ATTEMPTS,
      callsPerMinute: config.WDT_CALLS_PER_MINUTE,
    },
    { logger },
  );
}
