import {
  KingdeeClient,
  type KingdeeClientDeps,
  type KingdeeClientOptions,
  KingdeeError,
  KingdeeSessionPool,
} from '@libs/kingdee-client';
import type { KingdeeSandbox } from '../../apps/kingdee-sandbox/src';

/** Shared helpers for the Kingdee integration tests (real sandbox on port 0 + the real client). */

export function clientOptions(
  sandbox: KingdeeSandbox,
  extra: Partial<KingdeeClientOptions> = {},
): KingdeeClientOptions {
  const c = sandbox.credentials;
  return {
    serverUrl: sandbox.url,
    acctId: c.acctId,
    username: c.username,
    password: c.password,
    appId: c.appId,
    appSecret: c.appSecret,
    orgNumber: '101',
    authMode: 'validate_user',
    timeoutMs: 10_000,
    ...extra,
  };
}

export function newClient(
  sandbox: KingdeeSandbox,
  extra: Partial<KingdeeClientOptions> = {},
  deps: KingdeeClientDeps = {},
): KingdeeClient {
  return new KingdeeClient(clientOptions(sandbox, extra), deps);
}

export function newPool(
  sandbox: KingdeeSandbox,
  extra: Partial<KingdeeClientOptions> = {},
): KingdeeSessionPool {
  return new KingdeeSessionPool(clientOptions(sandbox, extra));
}

/** The golden PUR_MRB model of seed-mapping.md, with a chosen bill number. */
export function goldenModel(
  billNo = 'CT2026112800012',
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    FBillNo: billNo,
    FDate: '2026-11-28 01:30:00',
    FSupplierID: { FNumber: 'GYS001' },
    FMRMODE: 'B',
    FStockOrgId: { FNumber: '101' },
    FSettleOrgId: { FNumber: '101' },
    FPayOrgId: { FNumber: '101' },
    FOwnerIdHead: { FNumber: '101' },
    FPURMRBENTRY: [
      {
        FMATERIALID: { FNumber: 'BWB-500-W' },
        FRMREALQTY: 2,
        FSTOCKID: { FNumber: 'SH01' },
        FOWNERID: { FNumber: '101' },
        FOWNERTYPEID: 'BD_OwnerOrg',
      },
      {
        FMATERIALID: { FNumber: 'FH-L' },
        FRMREALQTY: 0.5,
        FSTOCKID: { FNumber: 'SH01' },
        FOWNERID: { FNumber: '101' },
        FOWNERTYPEID: 'BD_OwnerOrg',
      },
    ],
    ...overrides,
  };
}

/** The seed's request-level options. */
export const SEED_SAVE_OPTIONS = {
  isAutoSubmitAndAudit: true,
  isVerifyBaseDataField: false,
  subSystemId: '21',
};

export async function rejection(p: Promise<unknown>): Promise<KingdeeError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof KingdeeError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

export async function adminJson(
  sandbox: KingdeeSandbox,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const origin = new URL(sandbox.url).origin;
  const res = await fetch(`${origin}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}
