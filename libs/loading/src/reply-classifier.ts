import { isKingdeeError, KingdeeError, KingdeeFieldError, KingdeeSaveResult } from '@libs/kingdee-client';

/**
 * What one model of a write came to (libs/loading/README.md, "Outcome of one write"):
 * - `applied`: saved as reported;
 * - `number_replaced`: saved, but Kingdee gave it another number than the `FBillNo` key sent;
 * - `rejected`: Kingdee refused it and saved nothing (final only for a wholly failed call);
 * - `duplicate_number`: refused because a bill with its number exists: look it up, never fail it;
 * - `verify`: a reply with per-model errors: what it says must be confirmed by a look-up first;
 * - `ambiguous`: unknown, and may still change: settle it.
 */
export type ModelVerdict =
  | { kind: 'applied'; id: string | null; number: string | null }
  | { kind: 'number_replaced'; id: string | null; number: string; sent: string }
  | { kind: 'rejected'; message: string; field?: string; errorClass: string; errors?: KingdeeFieldError[] }
  | { kind: 'duplicate_number'; message: string; field?: string }
  | {
      kind: 'verify';
      reported: 'saved' | 'failed' | 'unreported';
      id: string | null;
      number: string | null;
      message?: string;
      field?: string;
      errorClass: string;
      /** Kingdee's per-field errors of this model. */
      errors?: KingdeeFieldError[];
    }
  | { kind: 'ambiguous'; reason: string };

/** Kingdee's refusal of a number that exists ("单据编号“X”已经存在"; wording varies by version). */
const DUPLICATE_NUMBER = /已经存在|已存在|重复|already exists|duplicate/i;

export function isDuplicateNumberError(e: KingdeeFieldError): boolean {
  return DUPLICATE_NUMBER.test(e.message);
}

function fieldOf(errors: KingdeeFieldError[]): string | undefined {
  return errors.find((e) => e.fieldName)?.fieldName ?? undefined;
}

function messageOf(errors: KingdeeFieldError[]): string {
  return errors.map((e) => e.message).join('; ') || 'rejected by Kingdee';
}

/**
 * Classifies a BatchSave reply, per model, in the order of `sentKeys` (the idempotency values of the
 * models sent). `keyIsBillNo` turns on the number check: with `FBillNo` as the key, a different
 * `Number` back means a numbering rule replaced it.
 */
export function classifyReply(
  result: KingdeeSaveResult,
  sentKeys: string[],
  keyIsBillNo: boolean,
): ModelVerdict[] {
  const { status, outcomes } = result;
  const errorClass = `KD_MSGCODE_${status.msgCode}`;
  // A reply with per-model errors is a whole answer of Kingdee about this call, but whether the
  // successes of a partly failed batch stay saved (and the failures stay unsaved) is unconfirmed:
  // one look-up settles every model of it.
  const partlyFailed = !status.isSuccess || status.errors.length > 0;
  return sentKeys.map((sent, i) => {
    const o = outcomes[i];
    if (partlyFailed) {
      if (o?.status === 'failed' && o.errors.some(isDuplicateNumberError))
        return { kind: 'duplicate_number', message: messageOf(o.errors), field: fieldOf(o.errors) };
      return {
        kind: 'verify',
        reported: o?.status ?? 'unreported',
        id: o?.id ?? null,
        number: o?.number ?? null,
        message: o && o.errors.length > 0 ? messageOf(o.errors) : undefined,
        field: o ? fieldOf(o.errors) : undefined,
        errorClass,
        errors: o?.errors,
      };
    }
    if (!o || o.status !== 'saved')
      return {
        kind: 'ambiguous',
        reason: 'the reply does not report this model (no DIndex for it, or fewer entities than models)',
      };
    if (keyIsBillNo && o.number !== null && o.number.toUpperCase() !== sent.toUpperCase())
      return { kind: 'number_replaced', id: o.id, number: o.number, sent };
    return { kind: 'applied', id: o.id, number: o.number };
  });
}

/** How a thrown write error applies to every model of the call; undefined = not a per-model fact. */
export function classifyWriteError(error: unknown, modelCount: number): ModelVerdict[] | undefined {
  if (!isKingdeeError(error)) return undefined;
  if (error.kind === 'ambiguous')
    return Array.from({ length: modelCount }, () => ({ kind: 'ambiguous' as const, reason: error.message }));
  if (error.kind === 'permanent') return Array.from({ length: modelCount }, () => rejectedBy(error));
  return undefined;
}

function rejectedBy(error: KingdeeError): ModelVerdict {
  if (error.errors.some(isDuplicateNumberError))
    return { kind: 'duplicate_number', message: error.message, field: fieldOf(error.errors) };
  return {
    kind: 'rejected',
    message: error.message,
    field: fieldOf(error.errors),
    errorClass: error.code,
    errors: error.errors,
  };
}
