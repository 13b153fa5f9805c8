import { writeFileSync } from 'node:fs';
import { SANDBOX_CREDENTIALS, StackRunner } from '@tools/devstack';

/**
 * A second seller (shop-b) and account set (acct-b) in the stack's sandboxes, with their right
 * secrets, and a connections file naming them whose secrets come from WDT_SHOP_B_SECRET and
 * KD_ACCT_B_SECRET (tests give wrong or right values there). The file's `default` connections stay
 * the environment's.
 */
export async function addSecondConnections(stack: StackRunner, file: string): Promise<void> {
  await stack.wdtAdmin('POST', '/accounts', {
    sid: 'shop-b-sid',
    appkey: 'shop-b-key',
    appsecret: 'right-shop-b-secret-000000',
  });
  await stack.kingdeeAdmin('POST', '/accounts', { acctId: 'acct-b' });
  const kd = SANDBOX_CREDENTIALS.kingdee;
  writeFileSync(
    file,
    `wdt:
  shop-b:
    sid: shop-b-sid
    baseUrl: ${stack.wdtUrl}
    appKey: shop-b-key
    appSecret: { env: WDT_SHOP_B_SECRET }
    maxAttempts: 1
kingdee:
  acct-b:
    serverUrl: ${stack.kingdeeUrl}/k3cloud/
    acctId: acct-b
    username: ${kd.username}
    appId: ${kd.appId}
    appSecret: { env: KD_ACCT_B_SECRET }
    sessions: 2
`,
  );
}
