import { type Clock, formatShanghai } from '@libs/common';
import { PUR_MRB_ENTRY_KEY, PUR_MRB_FORM_ID } from './pur-mrb.form';
import { getField, type ModelError, prepareModel, type PreparedModel } from './pur-mrb.validation';
import { BodyError, boolParam, dataField } from './sandbox-body.util';
import type { SandboxSettings } from './sandbox-faults.service';
import {
  errorReply,
  type ReplyError,
  type ReplySuccess,
  responseStatus,
  resultReply,
} from './sandbox-reply.util';
import type { SandboxStats } from './sandbox-stats.service';
import { type DocumentStatus, isBaseDataRef, type SandboxBill, type SandboxStore } from './sandbox.store';

type Obj = Record<string, unknown>;

interface Planned {
  index: number;
  prepared: PreparedModel;
  existing: SandboxBill | undefined;
}

function toId(v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\s*\d+\s*$/.test(v)) return Number(v);
  return 0;
}

/** Renders a stored value the way a reply shows it (base-data refs as `{Id, Number, FNumber}`). */
function renderValue(v: unknown): unknown {
  if (isBaseDataRef(v)) return { Id: v.id, Number: v.number, FNumber: v.number };
  if (Array.isArray(v)) return v.map(renderValue);
  if (typeof v === 'object' && v !== null) {
    const out: Obj = {};
    for (const [k, inner] of Object.entries(v)) out[k] = renderValue(inner);
    return out;
  }
  return v;
}

export function renderBill(bill: SandboxBill): Obj {
  const header = renderValue(bill.header) as Obj;
  return {
    Id: bill.fid,
    BillNo: bill.billNo,
    DocumentStatus: bill.documentStatus,
    FormId: bill.formId,
    ...header,
    FID: bill.fid,
    FBillNo: bill.billNo,
    FDocumentStatus: bill.documentStatus,
    FCreateDate: bill.createDate,
    FModifyDate: bill.modifyDate,
    FApproveDate: bill.approveDate,
    [PUR_MRB_ENTRY_KEY]: renderValue(bill.entries),
  };
}

const AUDIT_REFUSAL_REASON = '物料即时库存不足，不允许退料出库';
const SUBMIT_REFUSAL_REASON = '工作流启动失败，请联系系统管理员';

/** Save / BatchSave / Submit / Audit / UnAudit / Delete / View on PUR_MRB. */
export class SandboxBills {
  constructor(
    private readonly store: SandboxStore,
    private readonly settings: SandboxSettings,
    private readonly stats: SandboxStats,
    private readonly clock: Clock,
  ) {}

  /** The ERP's timestamp format (Shanghai wall clock, `T`-separated), as dates come back from queries. */
  now(): string {
    return formatShanghai(this.clock.now()).replace(' ', 'T');
  }

  private checkForm(formId: unknown): string | null {
    if (typeof formId !== 'string' || formId.toUpperCase() !== PUR_MRB_FORM_ID) return null;
    return PUR_MRB_FORM_ID;
  }

  /**
   * `options.autoAuditFails`: the automatic submit/audit step "throws" after the save committed, so
   * the saved bills keep the status a plain save gives (fault `exceptionAfterSave`, mode `draft`).
   */
  save(formIdRaw: unknown, data: Obj, batch: boolean, options: { autoAuditFails?: boolean } = {}): unknown {
    const formId = this.checkForm(formIdRaw);
    if (!formId) return errorReply(8, `业务对象“${String(formIdRaw)}”不存在或不受沙箱支持`);
    const rawModel = dataField(data, 'Model');
    if (batch && !Array.isArray(rawModel)) throw new BodyError('BatchSave 的 Model 应为数组');
    if (!batch && (Array.isArray(rawModel) || rawModel === undefined))
      throw new BodyError('Save 的 Model 应为对象');
    const models: unknown[] = batch ? (rawModel as unknown[]) : [rawModel];
    if (models.length === 0) throw new BodyError('Model 不能为空');
    const verifyBaseData = boolParam(dataField(data, 'IsVerifyBaseDataField'), false);
    const autoAudit =
      boolParam(dataField(data, 'IsAutoSubmitAndAudit'), false) && options.autoAuditFails !== true;
    const needReturn = dataField(data, 'NeedReturnFields');
    const needReturnFields = Array.isArray(needReturn) ? needReturn.map(String) : [];
    const switches = this.settings.switches;

    const errors: Array<ModelError & { index: number }> = [];
    const planned: Planned[] = [];
    const batchNumbers = new Set<string>();
    models.forEach((model, index) => {
      const fid = typeof model === 'object' && model !== null ? toId(getField(model as Obj, 'FID')) : 0;
      const existing = fid ? this.store.get(fid) : undefined;
      if (fid && !existing) {
        errors.push({ index, fieldName: 'FID', message: `内码为“${fid}”的单据不存在`, msgCode: 10 });
        return;
      }
      if (existing && (existing.documentStatus === 'B' || existing.documentStatus === 'C')) {
        const state = existing.documentStatus === 'B' ? '已提交' : '已审核';
        errors.push({
          index,
          fieldName: null,
          message: `单据“${existing.billNo}”为${state}状态，不允许修改`,
          msgCode: 12,
        });
        return;
      }
      const result = prepareModel(model, { store: this.store, switches, verifyBaseData }, existing);
      if (!result.ok) {
        errors.push(...result.errors.map((e) => ({ ...e, index })));
        return;
      }
      const supplied = result.prepared.suppliedBillNo;
      if (
        !existing &&
        switches.numbering === 'supplied' &&
        supplied &&
        switches.duplicateBillNo === 'reject'
      ) {
        const key = supplied.toUpperCase();
        if (this.store.findByNumber(formId, supplied).length > 0 || batchNumbers.has(key)) {
          errors.push({ index, fieldName: 'FBillNo', message: `单据编号“${supplied}”已经存在`, msgCode: 11 });
          return;
        }
        batchNumbers.add(key);
      }
      planned.push({ index, prepared: result.prepared, existing });
    });

    const commit = errors.length === 0 || switches.atomicity === 'keep_successes';
    const successes: ReplySuccess[] = [];
    const needReturnData: Obj[] = [];
    if (commit) {
      for (const p of planned) {
        const bill = this.commit(formId, p, autoAudit ? 'C' : null, true);
        successes.push({ Id: bill.fid, Number: bill.billNo, DIndex: p.index });
        needReturnData.push(this.returnData(bill, needReturnFields));
      }
    }
    this.stats.rejected(new Set(errors.map((e) => e.index)).size);
    const replyErrors: ReplyError[] = errors.map((e) => ({
      FieldName: e.fieldName,
      Message: e.message,
      DIndex: e.index,
    }));
    const ok = errors.length === 0;
    const status = responseStatus(ok, ok ? 0 : errors[0].msgCode, replyErrors, successes);
    return resultReply(status, { NeedReturnData: needReturnData.length > 0 ? needReturnData : [{}] });
  }

  /**
   * Inserts a bill a person typed into the ERP (admin API): the same FID, entry id and numbering path as
   * Save, with the status the person left it in; not counted in the API's call stats.
   */
  insertByHand(prepared: PreparedModel, status: DocumentStatus): SandboxBill {
    return this.commit(PUR_MRB_FORM_ID, { index: 0, prepared, existing: undefined }, status, false);
  }

  /** `status` null: a new bill is A, an updated one keeps its status. */
  private commit(formId: string, p: Planned, status: DocumentStatus | null, counted: boolean): SandboxBill {
    const switches = this.settings.switches;
    const now = this.now();
    const entries = p.prepared.entries.map((line) => {
      const id = toId(getField(line, 'FEntryID'));
      const known = p.existing?.entries.some((e) => toId(getField(e, 'FEntryID')) === id);
      return { ...line, FEntryID: id && known ? id : this.store.allocateEntryId() };
    });
    const documentStatus: DocumentStatus = status ?? p.existing?.documentStatus ?? 'A';
    let billNo: string;
    if (p.existing)
      billNo =
        switches.numbering === 'erp' ? p.existing.billNo : (p.prepared.suppliedBillNo ?? p.existing.billNo);
    else if (switches.numbering === 'erp' || !p.prepared.suppliedBillNo) {
      billNo = this.store.allocateNumber(switches.numberPrefix, switches.numberDigits);
    } else billNo = p.prepared.suppliedBillNo;
    const header = { ...p.prepared.header };
    const billNoKey = Object.keys(header).find((k) => k.toUpperCase() === 'FBILLNO') ?? 'FBillNo';
    header[billNoKey] = billNo;
    const bill: SandboxBill = {
      formId,
      fid: p.existing?.fid ?? this.store.allocateFid(),
      billNo,
      suppliedBillNo: p.existing ? p.existing.suppliedBillNo : p.prepared.suppliedBillNo,
      documentStatus,
      header,
      entries,
      createDate: p.existing?.createDate ?? now,
      modifyDate: now,
      approveDate: documentStatus === 'C' ? now : null,
    };
    this.store.put(bill);
    if (!counted) return bill;
    if (p.existing) this.stats.updated();
    else this.stats.created();
    return bill;
  }

  private returnData(bill: SandboxBill, fields: string[]): Obj {
    const rendered = renderBill(bill);
    const out: Obj = {};
    for (const f of fields) out[f] = getField(rendered, f) ?? null;
    return out;
  }

  /** Submit (A/D → B), Audit (B → C), UnAudit (C → D), Delete (A/D/Z removed). */
  transition(op: 'Submit' | 'Audit' | 'UnAudit' | 'Delete', formIdRaw: unknown, data: Obj): unknown {
    const formId = this.checkForm(formIdRaw);
    if (!formId) return errorReply(8, `业务对象“${String(formIdRaw)}”不存在或不受沙箱支持`);
    const targets = this.targets(formId, data);
    if (targets.length === 0) return errorReply(8, '请指定单据编码（Numbers）或内码（Ids）');
    const errors: ReplyError[] = [];
    const successes: ReplySuccess[] = [];
    const now = this.now();
    targets.forEach((t, index) => {
      if (t.bills.length === 0) {
        errors.push({ FieldName: null, Message: `单据“${t.label}”不存在`, DIndex: index });
        return;
      }
      for (const bill of t.bills) {
        const problem = this.applyTransition(op, bill, now);
        if (problem) errors.push({ FieldName: null, Message: problem, DIndex: index });
        else successes.push({ Id: bill.fid, Number: bill.billNo, DIndex: index });
      }
    });
    const ok = errors.length === 0;
    const msgCode = ok
      ? 0
      : errors.some((e) => e.Message.endsWith('不存在')) && successes.length === 0
        ? 10
        : 11;
    return resultReply(responseStatus(ok, msgCode, errors, successes));
  }

  /**
   * Submit/Audit refused by the server (fault `submitAuditFailure`): MsgCode 11 for every target,
   * nothing transitions — as when an audit plug-in or a stock check rejects the bill.
   */
  refuseTransition(op: 'Submit' | 'Audit', formIdRaw: unknown, data: Obj): unknown {
    const formId = this.checkForm(formIdRaw);
    if (!formId) return errorReply(8, `业务对象“${String(formIdRaw)}”不存在或不受沙箱支持`);
    const targets = this.targets(formId, data);
    if (targets.length === 0) return errorReply(8, '请指定单据编码（Numbers）或内码（Ids）');
    const reason = op === 'Audit' ? AUDIT_REFUSAL_REASON : SUBMIT_REFUSAL_REASON;
    const errors: ReplyError[] = targets.map((t, index) => ({
      FieldName: null,
      Message: `单据“${t.bills[0]?.billNo ?? t.label}”${op === 'Audit' ? '审核' : '提交'}失败：${reason}`,
      DIndex: index,
    }));
    return resultReply(responseStatus(false, 11, errors, []));
  }

  /** The bills a Submit/Audit/UnAudit/Delete names, by `Numbers` then `Ids`, in request order. */
  private targets(formId: string, data: Obj): Array<{ label: string; bills: SandboxBill[] }> {
    const numbersRaw = dataField(data, 'Numbers');
    const idsRaw = dataField(data, 'Ids');
    const numbers = Array.isArray(numbersRaw) ? numbersRaw.map(String).filter((n) => n !== '') : [];
    const ids = (
      Array.isArray(idsRaw) ? idsRaw.map(String) : typeof idsRaw === 'string' ? idsRaw.split(',') : []
    )
      .map((s) => s.trim())
      .filter((s) => s !== '');
    return [
      ...numbers.map((n) => ({ label: n, bills: this.store.findByNumber(formId, n) })),
      ...ids.map((id) => {
        const bill = this.store.get(toId(id));
        return { label: id, bills: bill && bill.formId === formId ? [bill] : [] };
      }),
    ];
  }

  private applyTransition(
    op: 'Submit' | 'Audit' | 'UnAudit' | 'Delete',
    bill: SandboxBill,
    now: string,
  ): string | null {
    const s = bill.documentStatus;
    const name = `单据“${bill.billNo}”`;
    switch (op) {
      case 'Submit':
        if (s === 'B') return `${name}已经是提交状态，不能重复提交`;
        if (s === 'C') return `${name}已审核，不能提交`;
        bill.documentStatus = 'B';
        break;
      case 'Audit':
        if (s === 'C') return `${name}已经是审核状态，不能重复审核`;
        if (s !== 'B') return `${name}不是已提交状态，不能审核`;
        bill.documentStatus = 'C';
        bill.approveDate = now;
        break;
      case 'UnAudit':
        if (s !== 'C') return `${name}不是已审核状态，不能反审核`;
        bill.documentStatus = 'D';
        bill.approveDate = null;
        break;
      case 'Delete':
        if (s === 'B' || s === 'C') return `${name}已提交或已审核，不能删除`;
        this.store.delete(bill.fid);
        return null;
    }
    bill.modifyDate = now;
    return null;
  }

  view(formIdRaw: unknown, data: Obj): unknown {
    const formId = this.checkForm(formIdRaw);
    if (!formId) return errorReply(8, `业务对象“${String(formIdRaw)}”不存在或不受沙箱支持`);
    const number = dataField(data, 'Number');
    const id = toId(dataField(data, 'Id'));
    let bill: SandboxBill | undefined;
    if (id) bill = this.store.get(id);
    else if (typeof number === 'string' && number !== '') bill = this.store.findByNumber(formId, number)[0];
    else return errorReply(8, '请指定单据编码（Number）或内码（Id）');
    if (!bill || bill.formId !== formId) return errorReply(10, '单据不存在');
    return resultReply(responseStatus(true, 0, [], []), { Result: renderBill(bill) });
  }
}
