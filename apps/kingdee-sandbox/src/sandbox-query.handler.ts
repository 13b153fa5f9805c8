import {
  DATE_FIELDS,
  ENTRY_FIELD_SET,
  FIN_FIELD_SET,
  HEADER_FIELD_SET,
  isCustomField,
  PUR_MRB_FIN_KEY,
  PUR_MRB_FORM_ID,
} from './pur-mrb.form';
import { getField, normaliseDate } from './pur-mrb.validation';
import { dataField } from './sandbox-body.util';
import type { SandboxSettings } from './sandbox-faults.service';
import {
  compareValues,
  evaluateFilter,
  FilterSyntaxError,
  filterFields,
  type FilterNode,
  parseFilter,
} from './sandbox-filter.parser';
import { BASE_DATA_FORMS, SandboxBaseDataQuery } from './sandbox-base-data.query';
import { errorReply, wrapQueryError } from './sandbox-reply.util';
import { isBaseDataRef, type SandboxBill, type SandboxStore } from './sandbox.store';

type Obj = Record<string, unknown>;

const META_FIELDS = new Set([
  'FID',
  'FBILLNO',
  'FDOCUMENTSTATUS',
  'FCREATEDATE',
  'FMODIFYDATE',
  'FAPPROVEDATE',
  'FFORMID',
]);
const ENTRY_ID_KEYS = new Set(['FENTRYID', 'FPURMRBENTRY_FENTRYID']);

class UnknownFieldError extends Error {
  constructor(readonly key: string) {
    super(`字段“${key}”不存在`);
  }
}

interface Row {
  bill: SandboxBill;
  entry: Obj | null;
}

/** ExecuteBillQuery over saved bills: FieldKeys, FilterString, OrderString, TopRowCount/StartRow/Limit. */
export class SandboxQuery {
  private readonly baseData: SandboxBaseDataQuery;

  constructor(
    private readonly store: SandboxStore,
    private readonly settings: SandboxSettings,
  ) {
    this.baseData = new SandboxBaseDataQuery(store);
  }

  execute(data: Obj): unknown {
    const formId = dataField(data, 'FormId');
    const baseDataForm = typeof formId === 'string' ? formId.toUpperCase() : '';
    const onBaseData = baseDataForm in BASE_DATA_FORMS;
    if (!onBaseData && (typeof formId !== 'string' || formId.toUpperCase() !== PUR_MRB_FORM_ID)) {
      return wrapQueryError(errorReply(8, `业务对象“${String(formId)}”不存在或不受沙箱支持`));
    }
    const fieldKeysRaw = dataField(data, 'FieldKeys');
    const keys = (
      Array.isArray(fieldKeysRaw) ? fieldKeysRaw.map(String) : String(fieldKeysRaw ?? '').split(',')
    )
      .map((k) => k.trim())
      .filter((k) => k !== '');
    if (keys.length === 0) return wrapQueryError(errorReply(8, 'FieldKeys 不能为空'));

    let filter: FilterNode;
    try {
      filter = parseFilter(this.filterText(dataField(data, 'FilterString')));
    } catch (err) {
      const message = err instanceof FilterSyntaxError ? err.message : '过滤条件格式不正确';
      return wrapQueryError(errorReply(8, message));
    }
    const order = this.parseOrder(String(dataField(data, 'OrderString') ?? ''));
    if (typeof order === 'string') return wrapQueryError(errorReply(8, order));
    if (onBaseData) {
      const unknownKey = this.baseData.unknownField(baseDataForm, keys, filter, order);
      if (unknownKey)
        return wrapQueryError(
          errorReply(9, `字段“${unknownKey}”在业务对象“${String(formId)}”中不存在`, unknownKey),
        );
      return this.page(this.baseData.rows(baseDataForm, keys, filter, order), data);
    }

    const referenced = [...keys, ...filterFields(filter), ...order.map((o) => o.key)];
    const unknown = referenced.find((k) => !this.isKnown(k));
    if (unknown)
      return wrapQueryError(errorReply(9, `字段“${unknown}”在业务对象“${PUR_MRB_FORM_ID}”中不存在`, unknown));
    const perEntry = referenced.some((k) => this.isEntryField(k));

    const rows: Row[] = [];
    for (const bill of this.store.all()) {
      if (bill.formId !== PUR_MRB_FORM_ID) continue;
      if (perEntry) for (const entry of bill.entries) rows.push({ bill, entry });
      else rows.push({ bill, entry: null });
    }
    let matched: Row[];
    try {
      matched = rows.filter((row) =>
        evaluateFilter(
          filter,
          (key) => this.value(row, key),
          (key, literal) => this.normaliseLiteral(key, literal),
        ),
      );
    } catch (err) {
      if (err instanceof UnknownFieldError) return wrapQueryError(errorReply(9, err.message, err.key));
      throw err;
    }
    const sortKeys = order.length > 0 ? order : [{ key: 'FID', desc: false }];
    matched.sort((a, b) => {
      for (const o of sortKeys) {
        const c = compareValues(this.value(a, o.key), this.value(b, o.key)) ?? 0;
        if (c !== 0) return o.desc ? -c : c;
      }
      const ea = Number(a.entry ? getField(a.entry, 'FEntryID') : 0);
      const eb = Number(b.entry ? getField(b.entry, 'FEntryID') : 0);
      return a.bill.fid - b.bill.fid || ea - eb;
    });

    return this.page(matched, data).map((row) => keys.map((k) => this.value(row, k) ?? null));
  }

  /** TopRowCount, StartRow, Limit (capped by `queryMaxLimit`, also when 0). */
  private page<T>(matched: T[], data: Obj): T[] {
    const top = Math.max(0, Number(dataField(data, 'TopRowCount') ?? 0) || 0);
    const start = Math.max(0, Number(dataField(data, 'StartRow') ?? 0) || 0);
    const limitRaw = Math.max(0, Number(dataField(data, 'Limit') ?? 0) || 0);
    const maxLimit = this.settings.switches.queryMaxLimit;
    const limit = limitRaw > 0 ? Math.min(limitRaw, maxLimit) : maxLimit;
    return (top > 0 ? matched.slice(0, top) : matched).slice(start, start + limit);
  }

  /** Text filter, or the array form `[{Left, FieldName, Compare, Value, Right, Logic}]` turned into text. */
  private filterText(raw: unknown): string {
    if (raw === undefined || raw === null) return '';
    if (typeof raw === 'string') return raw;
    if (!Array.isArray(raw)) throw new FilterSyntaxError('FilterString 格式不正确');
    const ops: Record<string, string> = {
      '=': '=',
      '<>': '<>',
      '!=': '<>',
      '>': '>',
      '>=': '>=',
      '<': '<',
      '<=': '<=',
    };
    return raw
      .map((item, i) => {
        if (typeof item !== 'object' || item === null)
          throw new FilterSyntaxError('FilterString 项格式不正确');
        const o = item as Obj;
        const field = String(getField(o, 'FieldName') ?? '');
        const compare = String(getField(o, 'Compare') ?? '=')
          .trim()
          .toLowerCase();
        const value = String(getField(o, 'Value') ?? '');
        const quoted = `'${value.replace(/'/g, "''")}'`;
        let cond: string;
        if (compare === 'like') cond = `${field} LIKE ${quoted}`;
        else if (compare === 'in')
          cond = `${field} IN (${value
            .split(',')
            .map((v) => `'${v.trim().replace(/'/g, "''")}'`)
            .join(',')})`;
        else if (ops[compare]) cond = `${field} ${ops[compare]} ${quoted}`;
        else throw new FilterSyntaxError(`不支持的比较符“${compare}”`);
        const logic = String(getField(o, 'Logic') ?? '0').toUpperCase();
        const joiner = i === 0 ? '' : logic === '1' || logic === 'OR' ? ' OR ' : ' AND ';
        return `${joiner}${String(getField(o, 'Left') ?? '')}${cond}${String(getField(o, 'Right') ?? '')}`;
      })
      .join('');
  }

  private parseOrder(text: string): Array<{ key: string; desc: boolean }> | string {
    const out: Array<{ key: string; desc: boolean }> = [];
    for (const part of text
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '')) {
      const m = /^([A-Za-z_][A-Za-z0-9_.]*)(?:\s+(ASC|DESC))?$/i.exec(part);
      if (!m) return `排序字段“${part}”格式不正确`;
      out.push({ key: m[1], desc: (m[2] ?? '').toUpperCase() === 'DESC' });
    }
    return out;
  }

  private base(key: string): { base: string; sub: string | null } {
    const [base, sub] = key.toUpperCase().split('.', 2);
    return { base, sub: sub ?? null };
  }

  private isEntryField(key: string): boolean {
    const { base } = this.base(key);
    return ENTRY_ID_KEYS.has(base) || (ENTRY_FIELD_SET.has(base) && !HEADER_FIELD_SET.has(base));
  }

  private isKnown(key: string): boolean {
    const { base, sub } = this.base(key);
    if (sub !== null && sub !== 'FNUMBER' && sub !== 'FNAME') return false;
    if (META_FIELDS.has(base) || HEADER_FIELD_SET.has(base) || FIN_FIELD_SET.has(base)) return true;
    if (ENTRY_FIELD_SET.has(base) || ENTRY_ID_KEYS.has(base)) return true;
    return isCustomField(base) || this.store.all().some((b) => getField(b.header, base) !== undefined);
  }

  private normaliseLiteral(key: string, literal: string | number): string | number {
    const { base } = this.base(key);
    if (DATE_FIELDS.has(base) && typeof literal === 'string') return normaliseDate(literal) ?? literal;
    return literal;
  }

  private value(row: Row, key: string): unknown {
    const { base, sub } = this.base(key);
    const { bill, entry } = row;
    switch (base) {
      case 'FID':
        return bill.fid;
      case 'FBILLNO':
        return bill.billNo;
      case 'FDOCUMENTSTATUS':
        return bill.documentStatus;
      case 'FCREATEDATE':
        return bill.createDate;
      case 'FMODIFYDATE':
        return bill.modifyDate;
      case 'FAPPROVEDATE':
        return bill.approveDate;
      case 'FFORMID':
        return bill.formId;
    }
    if (ENTRY_ID_KEYS.has(base)) return entry ? getField(entry, 'FEntryID') : null;
    let raw: unknown;
    if (this.isEntryField(key)) raw = entry ? getField(entry, base) : undefined;
    else {
      raw = getField(bill.header, base);
      if (raw === undefined && FIN_FIELD_SET.has(base)) {
        const fin = getField(bill.header, PUR_MRB_FIN_KEY);
        if (fin && typeof fin === 'object') raw = getField(fin as Obj, base);
      }
    }
    return this.render(raw, sub);
  }

  /** Base data: internal id, or its number with `.FNumber`; other values as stored. */
  private render(raw: unknown, sub: string | null): unknown {
    if (raw === undefined || raw === null) return null;
    if (isBaseDataRef(raw)) return sub === 'FNUMBER' || sub === 'FNAME' ? raw.number : raw.id;
    if (typeof raw === 'object' && !Array.isArray(raw)) {
      const n = getField(raw as Obj, 'FNumber');
      return n === undefined ? JSON.stringify(raw) : n;
    }
    return raw;
  }
}
