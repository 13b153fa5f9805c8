import { z } from 'zod';
import { SANDBOX_WRITE_METHODS } from './sandbox.options';

const rate = z.number().min(0).max(1);
const count = z.number().int().min(0);
const fieldKey = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/);

/** Partial updates of the knobs (admin API / options). */
export const knobsPatchSchema = z
  .object({
    latencyMs: count,
    http5xxRate: rate,
    next5xx: count,
    http5xxStatus: z.number().int().min(500).max(599),
    throttleRate: rate,
    nextThrottles: count,
    sessionDropRate: rate,
    nextSessionDrops: count,
    lostResponseRate: rate,
    nextLostResponses: count,
    lostResponseMode: z.enum(['hold', 'destroy']),
    faultsOnAuth: z.boolean(),
    faultMethods: z.array(z.enum(SANDBOX_WRITE_METHODS)),
    http5xxAfterCommitRate: rate,
    next5xxAfterCommit: count,
    http5xxAfterCommitStatus: z.number().int().min(500).max(599),
    lateCommitRate: rate,
    nextLateCommits: count,
    lateCommitHoldMs: count,
    lateCommitLocksSession: z.boolean(),
    exceptionAfterSaveRate: rate,
    nextExceptionsAfterSave: count,
    exceptionAfterSaveMode: z.enum(['committed', 'draft']),
    truncatedReplyRate: rate,
    nextTruncatedReplies: count,
    omitDIndexRate: rate,
    nextOmitDIndex: count,
    shortEntitiesRate: rate,
    nextShortEntities: count,
    submitAuditFailureRate: rate,
    nextSubmitAuditFailures: count,
    sessionCallLimit: count,
  })
  .partial()
  .strict();

/** Partial updates of the switches (admin API / options). */
export const switchesPatchSchema = z
  .object({
    duplicateBillNo: z.enum(['reject', 'accept']),
    atomicity: z.enum(['keep_successes', 'rollback_all']),
    numbering: z.enum(['supplied', 'erp']),
    numberPrefix: z.string().regex(/^[A-Za-z0-9_-]{0,20}$/),
    numberDigits: z.number().int().min(1).max(18),
    extraRequiredHeaderFields: z.array(fieldKey),
    extraRequiredEntryFields: z.array(fieldKey),
    loginSignAlgorithm: z.enum(['sha256', 'sha1', 'either']),
    signatureMaxSkewSec: count,
    queryMaxLimit: z.number().int().min(1),
    sessionIdleMs: z.number().int().min(1),
    serialisePerSession: z.boolean(),
    loginBodies: z.enum(['any', 'positional']),
  })
  .partial()
  .strict();

const baseDataItem = z.union([
  z.string().min(1),
  z
    .object({
      number: z.string().min(1),
      name: z.string().optional(),
      enabled: z.boolean().optional(),
      audited: z.boolean().optional(),
      useOrgs: z.array(z.string().min(1)).optional(),
    })
    .strict(),
]);

/** `PATCH /admin/base-data/{kind}/{number}`: change one item (null `useOrgs`: every organisation). */
export const baseDataPatchSchema = z
  .object({
    name: z.string().optional(),
    enabled: z.boolean().optional(),
    audited: z.boolean().optional(),
    useOrgs: z.array(z.string().min(1)).nullable().optional(),
  })
  .strict();

export const baseDataSeedSchema = z
  .object({
    mode: z.enum(['merge', 'replace']).optional(),
    orgs: z.array(baseDataItem).optional(),
    stocks: z.array(baseDataItem).optional(),
    suppliers: z.array(baseDataItem).optional(),
    materials: z.array(baseDataItem).optional(),
  })
  .strict();

export const resetSchema = z
  .object({
    bills: z.boolean().optional(),
    sessions: z.boolean().optional(),
    stats: z.boolean().optional(),
    knobs: z.boolean().optional(),
    switches: z.boolean().optional(),
    baseData: z.boolean().optional(),
  })
  .strict();

/**
 * `POST /admin/bills`: a bill entered by hand. The PUR_MRB model is `Model`, or the body itself without
 * the two control fields (Kingdee field keys all start with `F`, so they cannot collide).
 */
export const manualBillSchema = z.looseObject({
  status: z.enum(['A', 'B', 'C']).optional(),
  allowDuplicateNumber: z.boolean().optional(),
  Model: z.record(z.string(), z.unknown()).optional(),
});

/** `POST /admin/bills/import`: many bills entered by hand at once (benchmarks), same models as above. */
export const manualBillImportSchema = z
  .object({
    bills: z.array(z.record(z.string(), z.unknown())).min(1).max(20_000),
    status: z.enum(['A', 'B', 'C']).optional(),
    allowDuplicateNumber: z.boolean().optional(),
  })
  .strict();

/** `POST /admin/bills/{FID}/unaudit`: D (re-audit pending) is what the ERP's UnAudit gives. */
export const unauditSchema = z.object({ status: z.enum(['A', 'B', 'D']).optional() }).strict();

/** `PATCH /admin/bills/{FID}/entries/{index}`: a decimal string, so no float rounds it on the way in. */
export const entryQuantitySchema = z
  .object({
    FRMREALQTY: z
      .string()
      .regex(/^\d{1,13}(\.\d{1,10})?$/, 'FRMREALQTY must be a decimal string such as "2" or "0.5"')
      .refine((v) => /[1-9]/.test(v), 'FRMREALQTY must be greater than 0'),
  })
  .strict();

/**
 * One more account set (option `accounts`, env `KINGDEE_SANDBOX_ACCOUNTS`, `POST /admin/accounts`).
 * Credentials not given are the first account's; base data, switches and knobs not given are the
 * sandbox's start-up ones (switches and knobs given are merged over them).
 */
export const accountSpecSchema = z
  .object({
    acctId: z.string().min(1),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    appId: z.string().min(1).optional(),
    appSecret: z.string().min(1).optional(),
    baseData: baseDataSeedSchema.omit({ mode: true }).optional(),
    materials: z.array(z.string().min(1)).optional(),
    switches: switchesPatchSchema.optional(),
    knobs: knobsPatchSchema.optional(),
    seed: z.number().int().optional(),
  })
  .strict();
