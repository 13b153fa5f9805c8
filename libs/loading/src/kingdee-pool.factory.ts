import { AppLogger } from '@libs/common';
import { KingdeeConnectionConfig } from '@libs/config';
import { KingdeeSessionPool } from '@libs/kingdee-client';

/** A pool of Kingdee sessions (Kingdee serialises calls per session) from validated env. */
export function createKingdeePool(config: KingdeeConnectionConfig, logger: AppLogger): KingdeeSessionPool {
  return new KingdeeSessionPool(
    {
      serverUrl: config.KINGDEE_SERVER_URL,
      acctId: config.KINGDEE_ACCT_ID,
      username: config.KINGDEE_USERNAME,
      password: config.KINGDEE_PASSWORD,
      appId: config.KINGDEE_APP_ID,
      appSecret: config.KINGDEE_APP_SECRET,
      lcid: config.KINGDEE_LCID,
      orgNumber: config.KINGDEE_ORG_NUMBER || undefined,
      authMode: config.KINGDEE_AUTH_MODE,
      loginBody: config.KINGDEE_LOGIN_BODY,
      sessions: config.KINGDEE_SESSIONS,
      timeoutMs: config.KINGDEE_TIMEOUT_MS,
    },
    { logger },
  );
}
