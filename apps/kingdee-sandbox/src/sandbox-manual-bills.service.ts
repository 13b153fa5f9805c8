import { PUR_MRB_FORM_ID } from './pur-mrb.form';
import { findKey, getField, prepareModel } from './pur-mrb.validation';
import type { SandboxBills } from './sandbox-bill.handler';
import type { SandboxSettings } from './sandbox-faults.service';
import {
  entryQuantitySchema,
  manualBillImportSchema,
  manualBillSchema,
  unauditSchema,
} from './sandbox-settings.schema';
import type { SandboxBill, SandboxStore } from './sandbox.store';

/** A refused admin action: HTTP status and a message for the tester (plus details where useful). */
export class ManualBillError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Which bill an admin action names: its FID, or a bill number that must be unambiguous. */
export type ManualBillTarget = { fid: number } | { billNo: string };

/**
 * What a person does to PUR_MRB bills in the ERP's own client, bypassing the Web API (no session, no
 * faults, no call stats): enter a bill, delete one, un-audit one, change a line's quantity. The
 * reconciliation tests use these to make the discrepancies a real ERP accumulates.
 */
export class SandboxManualBills {
  constructor(
    private readonly store: SandboxStore,
    private readonly settings: SandboxSettings,
    private readonly bills: SandboxBills,
  ) {}

  /**
   * Validated like a Save with base-data verification on (a person picks codes from lists, so unknown
   * or forbidden codes cannot be entered) and numbered by the same rule; 409 on a number already in use
   * unless `allowDuplicateNumber` (a number rule that lets people type a number twice).
   */
  create(body: unknown): SandboxBill {
    const { status, allowDuplicateNumber, Model, ...rest } = manualBillSchema.parse(body ?? {});
    return this.insert(this.prepare(Model ?? rest), status ?? 'C', allowDuplicateNumber ?? false);
  }

  /**
   * Many bills entered by hand at once (`POST /admin/bills/import`, for benchmarks: one call per bill
   * is too slow for 100k). Every model is validated first, so an invalid one inserts nothing (400
   * naming its index); then they are inserted in order. A number already in use stops there (409 with
   * the index and how many were inserted before it).
   */
  importMany(body: unknown): { inserted: number; firstFid: number | null; lastFid: number | null } {
    const { bills, status, allowDuplicateNumber } = manualBillImportSchema.parse(body ?? {});
    const prepared = bills.map((model, index) => {
      try {
        return this.prepare(model);
      } catch (err) {
        if (err instanceof ManualBillError)
          throw new ManualBillError(err.status, `bill ${index}: ${err.message}`, { index, ...err.details });
        throw err;
      }
    });
    let firstFid: number | null = null;
    let lastFid: number | null = null;
    prepared.forEach((p, index) => {
      try {
        const bill = this.insert(p, status ?? 'C', allowDuplicateNumber ?? false);
        firstFid ??= bill.fid;
        lastFid = bill.fid;
      } catch (err) {
        if (err instanceof ManualBillError)
          throw new ManualBillError(err.status, `bill ${index}: ${err.message}`, {
            index,
            inserted: index,
            ...err.details,
          });
        throw err;
      }
    });
    return { inserted: prepared.length, firstFid, lastFid };
  }

  private prepare(model: Record<string, unknown>) {
    if (![undefined, null, 0, '0', ''].includes(getField(model, 'FID') as never))
      throw new ManualBillError(
        400,
        'a bill entered by hand is new: leave FID out (edit through the entry route)',
      );
    const result = prepareModel(model, {
      store: this.store,
      switches: this.settings.switches,
      verifyBaseData: true,
    });
    if (!result.ok) {
      throw new ManualBillError(400, 'invalid bill', {
        errors: result.errors.map((e) => ({ field: e.fieldName, message: e.message })),
      });
    }
    return result.prepared;
  }

  private insert(
    prepared: Extract<ReturnType<typeof prepareModel>, { ok: true }>['prepared'],
    status: 'A' | 'B' | 'C',
    allowDuplicateNumber: boolean,
  ): SandboxBill {
    const number = this.settings.switches.numbering === 'supplied' ? prepared.suppliedBillNo : null;
    if (number && !allowDuplicateNumber) {
      const taken = this.store.findByNumber(PUR_MRB_FORM_ID, number);
      if (taken.length > 0)
        throw new ManualBillError(409, `bill number ${number} is already in use`, {
          fids: taken.map((b) => b.fid),
          hint: 'send allowDuplicateNumber: true to enter it a second time',
        });
    }
    return this.bills.insertByHand(prepared, status);
  }

  /** Deletes in any status: the person un-audits first if need be (the ERP refuses deleting B/C bills). */
  delete(target: ManualBillTarget): SandboxBill {
    const bill = this.resolve(target);
    this.store.delete(bill.fid);
    return bill;
  }

  /** C → D (as the ERP's UnAudit), or A / B when the test wants a bill that went back further. */
  unaudit(target: ManualBillTarget, body: unknown): SandboxBill {
    const { status } = unauditSchema.parse(body ?? {});
    const bill = this.resolve(target);
    if (bill.documentStatus !== 'C')
      throw new ManualBillError(409, `bill ${bill.billNo} (FID ${bill.fid}) is not audited`, {
        FDocumentStatus: bill.documentStatus,
      });
    bill.documentStatus = status ?? 'D';
    bill.approveDate = null;
    bill.modifyDate = this.bills.now();
    return bill;
  }

  /**
   * Sets one line's FRMREALQTY (`index` counts from 0 in FPURMRBENTRY order) in any status, and leaves
   * the status alone: the drift to model is a quantity changed on an audited bill (a person un-audits,
   * edits and re-audits, or an admin edits in place); un-audit separately to model a bill left open.
   */
  editQuantity(target: ManualBillTarget, index: number, body: unknown): SandboxBill {
    const { FRMREALQTY } = entryQuantitySchema.parse(body ?? {});
    const bill = this.resolve(target);
    const entry = bill.entries[index];
    if (!entry)
      throw new ManualBillError(
        404,
        `bill ${bill.billNo} (FID ${bill.fid}) has no line ${index} (lines 0..${bill.entries.length - 1})`,
      );
    // Stored as a number, as Save stores it, so queries return the same JSON type either way.
    entry[findKey(entry, 'FRMREALQTY') ?? 'FRMREALQTY'] = Number(FRMREALQTY);
    bill.modifyDate = this.bills.now();
    return bill;
  }

  private resolve(target: ManualBillTarget): SandboxBill {
    if ('fid' in target) {
      const bill = this.store.get(target.fid);
      if (!bill) throw new ManualBillError(404, `no bill with FID ${target.fid}`);
      return bill;
    }
    const found = this.store.findByNumber(PUR_MRB_FORM_ID, target.billNo);
    if (found.length === 0) throw new ManualBillError(404, `no bill numbered ${target.billNo}`);
    if (found.length > 1)
      throw new ManualBillError(409, `${found.length} bills are numbered ${target.billNo}: name one by FID`, {
        fids: found.map((b) => b.fid),
      });
    return found[0];
  }
}
