import type { BaseDataKind } from './sandbox.options';

/** The sandbox's model of form PUR_MRB (采购退料单): field keys, labels, base-data kinds, required fields. */
export const PUR_MRB_FORM_ID = 'PUR_MRB';
export const PUR_MRB_ENTRY_KEY = 'FPURMRBENTRY';
export const PUR_MRB_FIN_KEY = 'FPURMRBFIN';

/** Header fields of the form (upper-case key → canonical key). Custom `F_…` fields are accepted too. */
export const PUR_MRB_HEADER_FIELDS: readonly string[] = [
  'FID',
  'FBillTypeID',
  'FBillNo',
  'FDate',
  'FDocumentStatus',
  'FMRTYPE',
  'FMRMODE',
  'FBusinessType',
  'FStockOrgId',
  'FRequireOrgId',
  'FPurchaseOrgId',
  'FSupplierID',
  'FACCEPTORID',
  'FSettleId',
  'FCHARGEID',
  'FOwnerTypeIdHead',
  'FOwnerIdHead',
  'FDESCRIPTION',
  'FDELIVERYNO',
  'FCARRYNO',
  'FSettleOrgId',
  'FPayOrgId',
  'FCreateDate',
  'FModifyDate',
  'FApproveDate',
  'FCreatorId',
  'FModifierId',
  'FApproverId',
];

export const PUR_MRB_FIN_FIELDS: readonly string[] = [
  'FSettleOrgId',
  'FSettleCurrId',
  'FIsIncludedTax',
  'FLOCALCURRID',
  'FEXCHANGETYPEID',
  'FEXCHANGERATE',
  'FBillAmount',
  'FBillAllAmount',
];

export const PUR_MRB_ENTRY_FIELDS: readonly string[] = [
  'FEntryID',
  'FMATERIALID',
  'FUnitID',
  'FRMREALQTY',
  'FREPLENISHQTY',
  'FKEAPAMTQTY',
  'FPRICEUNITID',
  'FSTOCKID',
  'FSTOCKLOCID',
  'FStockStatusId',
  'FPrice',
  'FTAXPRICE',
  'FENTRYTAXRATE',
  'FDISCOUNTRATE',
  'FGiveAway',
  'FOWNERTYPEID',
  'FOWNERID',
  'FLot',
  'FNOTE',
];

/** Header base-data fields with a fixed kind (owner fields depend on the owner type). */
export const HEADER_BASE_DATA: Readonly<Record<string, BaseDataKind>> = {
  FSUPPLIERID: 'suppliers',
  FACCEPTORID: 'suppliers',
  FSETTLEID: 'suppliers',
  FCHARGEID: 'suppliers',
  FSTOCKORGID: 'orgs',
  FREQUIREORGID: 'orgs',
  FPURCHASEORGID: 'orgs',
  FSETTLEORGID: 'orgs',
  FPAYORGID: 'orgs',
};

export const ENTRY_BASE_DATA: Readonly<Record<string, BaseDataKind>> = {
  FMATERIALID: 'materials',
  FSTOCKID: 'stocks',
};

/** Owner fields: kind from the owner-type field (`BD_OwnerOrg` → orgs, `BD_Supplier` → suppliers). */
export const OWNER_FIELDS = {
  header: { field: 'FOWNERIDHEAD', typeField: 'FOWNERTYPEIDHEAD' },
  entry: { field: 'FOWNERID', typeField: 'FOWNERTYPEID' },
} as const;

export const LABELS: Readonly<Record<string, string>> = {
  FBILLNO: '单据编号',
  FDATE: '退料日期',
  FSUPPLIERID: '供应商',
  FSTOCKORGID: '退料组织',
  FREQUIREORGID: '需求组织',
  FPURCHASEORGID: '采购组织',
  FSETTLEORGID: '结算组织',
  FPAYORGID: '付款组织',
  FOWNERIDHEAD: '货主',
  FACCEPTORID: '接收方',
  FSETTLEID: '结算方',
  FCHARGEID: '收款方',
  FDESCRIPTION: '备注',
  FMATERIALID: '物料编码',
  FRMREALQTY: '实退数量',
  FSTOCKID: '仓库',
  FOWNERID: '货主',
  FTAXPRICE: '含税单价',
  FPRICE: '单价',
  FPURMRBENTRY: '明细信息',
};

/** Required on create by default (seed-mapping.md); the `extraRequired*` switches add more. */
export const DEFAULT_REQUIRED_HEADER: readonly string[] = ['FBillNo', 'FDate', 'FSupplierID', 'FStockOrgId'];
export const DEFAULT_REQUIRED_ENTRY: readonly string[] = ['FMATERIALID', 'FRMREALQTY', 'FSTOCKID'];

export const DATE_FIELDS: ReadonlySet<string> = new Set([
  'FDATE',
  'FCREATEDATE',
  'FMODIFYDATE',
  'FAPPROVEDATE',
]);

export function labelOf(key: string): string {
  return LABELS[key.toUpperCase()] ?? key;
}

const upperSet = (keys: readonly string[]): Set<string> => new Set(keys.map((k) => k.toUpperCase()));
export const HEADER_FIELD_SET = upperSet(PUR_MRB_HEADER_FIELDS);
export const FIN_FIELD_SET = upperSet(PUR_MRB_FIN_FIELDS);
export const ENTRY_FIELD_SET = upperSet(PUR_MRB_ENTRY_FIELDS);

/** Custom fields (`F_XXX_…`) are user extensions accepted on header and entry. */
export function isCustomField(key: string): boolean {
  return /^F_[A-Za-z0-9_]+$/i.test(key);
}
