import {
  classifyKingdeeMessage,
  describeProblem,
  diagnoseReference,
  referenceFieldOf,
  referencesFor,
  triageErrors,
} from './base-data-diagnosis';

const MODEL = {
  FBillNo: 'CT-1',
  FSupplierID: { FNumber: 'GYS999' },
  FStockOrgId: { FNumber: '101' },
  FPURMRBENTRY: [
    { FMATERIALID: { FNumber: 'M-1' }, FSTOCKID: { FNUMBER: 'SH01' }, FRMREALQTY: 1 },
    { FMATERIALID: { FNumber: 'M-2' }, FSTOCKID: { FNumber: 'SH01' }, FRMREALQTY: 2 },
    { FMATERIALID: { FNumber: 'M-1' }, FSTOCKID: { FNumber: 'SH01' }, FRMREALQTY: 3 },
  ],
};

describe('classifyKingdeeMessage', () => {
  it.each([
    ['字段"供应商"是必填项', 'FSupplierID', 'required', 'FSUPPLIERID', null],
    ['字段“供应商”是必填项', null, 'required', 'FSUPPLIERID', null],
    ['第2行，字段“物料编码”是必填项', 'FMATERIALID', 'required', 'FMATERIALID', 1],
    ['字段“仓库”不能为空', 'FStockId', 'required', 'FSTOCKID', null],
    [
      '字段“物料编码”的值“M-9”在系统中不存在、未审核或已禁用',
      'FMATERIALID',
      'not_found',
      'FMATERIALID',
      null,
    ],
    ['第3行，字段“仓库”的值“ZZ”在系统中不存在、未审核或已禁用', null, 'not_found', 'FSTOCKID', 2],
    ['供应商编码 GYS999 对应的数据不存在', 'FSupplierId', 'not_found', 'FSUPPLIERID', null],
    ['字段“退料组织”是必填项', null, 'required', 'FSTOCKORGID', null],
  ] as const)('%s (FieldName %s) → %s', (message, fieldName, kind, field, row) => {
    expect(classifyKingdeeMessage({ fieldName, message })).toEqual({ kind, field, row });
  });

  it.each([
    ['单据编号“CT-1”已经存在', 'FBillNo'],
    ['第1行，字段“实退数量”必须大于0', 'FRMREALQTY'],
    ['字段“退料日期”是必填项', 'FDate'],
    ['服务端异常：未将对象引用设置到对象的实例。', null],
  ] as const)('%s is not a base-data message', (message, fieldName) => {
    expect(classifyKingdeeMessage({ fieldName, message }).kind).toBe('other');
  });
});

describe('referenceFieldOf', () => {
  it('maps Kingdee field keys, whatever their case, to base-data forms', () => {
    expect(referenceFieldOf('FSupplierId')).toMatchObject({ form: 'BD_Supplier', noun: 'supplier' });
    expect(referenceFieldOf('FSUPPLIERID')).toMatchObject({ form: 'BD_Supplier' });
    expect(referenceFieldOf('FMaterialId')).toMatchObject({
      form: 'BD_MATERIAL',
      noun: 'material',
      entry: true,
    });
    expect(referenceFieldOf('FStockId')).toMatchObject({ form: 'BD_STOCK', noun: 'stock', entry: true });
    for (const org of ['FStockOrgId', 'FPurchaseOrgId', 'FRequireOrgId'])
      expect(referenceFieldOf(org)).toMatchObject({ form: 'ORG_Organizations', noun: 'organisation' });
    expect(referenceFieldOf('FDate')).toBeUndefined();
  });
});

describe('referencesFor', () => {
  it('takes the header code and the organisation it must be used in', () => {
    expect(referencesFor(MODEL, { kind: 'required', field: 'FSUPPLIERID', row: null })).toEqual([
      { form: 'BD_Supplier', noun: 'supplier', field: 'FSupplierID', code: 'GYS999', org: '101', row: null },
    ]);
  });

  it('takes one line of an entry field, or every distinct code when Kingdee names no line', () => {
    expect(
      referencesFor(MODEL, { kind: 'required', field: 'FMATERIALID', row: 1 }).map((r) => r.code),
    ).toEqual(['M-2']);
    expect(
      referencesFor(MODEL, { kind: 'not_found', field: 'FMATERIALID', row: null }).map((r) => r.code),
    ).toEqual(['M-1', 'M-2']);
    expect(referencesFor(MODEL, { kind: 'not_found', field: 'FSTOCKID', row: 0 })).toEqual([
      { form: 'BD_STOCK', noun: 'stock', field: 'FSTOCKID', code: 'SH01', org: '101', row: 0 },
    ]);
  });

  it('organisations are not allocated: no use organisation', () => {
    expect(referencesFor(MODEL, { kind: 'required', field: 'FSTOCKORGID', row: null })).toEqual([
      {
        form: 'ORG_Organizations',
        noun: 'organisation',
        field: 'FStockOrgId',
        code: '101',
        org: null,
        row: null,
      },
    ]);
  });

  it('a field the document left empty has nothing to look up', () => {
    expect(
      referencesFor({ FSupplierID: null }, { kind: 'required', field: 'FSUPPLIERID', row: null }),
    ).toEqual([]);
  });
});

describe('diagnoseReference', () => {
  const supplier = {
    form: 'BD_Supplier',
    noun: 'supplier',
    field: 'FSupplierID',
    code: 'GYS999',
    org: '101',
    row: null,
  } as const;
  const row = (useOrg: string | null, forbid = 'A', status = 'C') => ({
    number: 'GYS999',
    useOrg,
    forbidStatus: forbid,
    documentStatus: status,
  });

  it('tells missing, not allocated, forbidden and not audited apart', () => {
    expect(diagnoseReference(supplier, [])).toBe('missing');
    expect(diagnoseReference(supplier, [row('102')])).toBe('not_allocated');
    expect(diagnoseReference(supplier, [row('102'), row('101', 'B')])).toBe('forbidden');
    expect(diagnoseReference(supplier, [row('101', 'A', 'A')])).toBe('not_audited');
    expect(diagnoseReference(supplier, [row('101', 'B', 'A')])).toBe('forbidden');
    expect(diagnoseReference(supplier, [row('101')])).toBe('usable');
    // Codes compare as Kingdee's collation does.
    expect(diagnoseReference({ ...supplier, org: '101' }, [{ ...row('101'), number: 'gys999' }])).toBe(
      'usable',
    );
  });

  it('an organisation has no use organisation', () => {
    const org = {
      form: 'ORG_Organizations',
      noun: 'organisation',
      field: 'FStockOrgId',
      code: '109',
      org: null,
      row: null,
    } as const;
    expect(diagnoseReference(org, [])).toBe('missing');
    expect(
      diagnoseReference(org, [{ number: '109', useOrg: null, forbidStatus: 'A', documentStatus: 'C' }]),
    ).toBe('usable');
    expect(
      diagnoseReference(org, [{ number: '109', useOrg: null, forbidStatus: 'B', documentStatus: 'C' }]),
    ).toBe('forbidden');
  });

  it('says what holds, by code', () => {
    const m = {
      form: 'BD_MATERIAL',
      noun: 'material',
      field: 'FMATERIALID',
      code: 'M-1',
      org: '101',
      row: 0,
    } as const;
    expect(describeProblem(supplier, 'missing')).toBe('supplier GYS999 does not exist in Kingdee');
    expect(describeProblem(m, 'not_allocated')).toBe(
      'material M-1 is not allocated to organisation 101 in Kingdee',
    );
    expect(describeProblem(m, 'forbidden')).toBe('material M-1 is forbidden in Kingdee');
    expect(describeProblem({ ...m, noun: 'stock', code: 'WH-9' }, 'not_audited')).toBe(
      'stock WH-9 is not audited in Kingdee',
    );
  });
});

describe('triageErrors', () => {
  it('returns the references when every error is about base data', () => {
    const refs = triageErrors(MODEL, [
      { fieldName: 'FSupplierID', message: '字段"供应商"是必填项', dIndex: 0 },
      { fieldName: 'FMATERIALID', message: '第2行，字段“物料编码”是必填项', dIndex: 0 },
    ]);
    expect(refs?.map((r) => `${r.form}:${r.code}`)).toEqual(['BD_Supplier:GYS999', 'BD_MATERIAL:M-2']);
  });

  it('is undefined when any error is about something else, or names no code', () => {
    expect(
      triageErrors(MODEL, [
        { fieldName: 'FSupplierID', message: '字段"供应商"是必填项', dIndex: 0 },
        { fieldName: 'FRMREALQTY', message: '第1行，字段“实退数量”必须大于0', dIndex: 0 },
      ]),
    ).toBeUndefined();
    expect(
      triageErrors({}, [{ fieldName: 'FSupplierID', message: '字段"供应商"是必填项', dIndex: 0 }]),
    ).toBeUndefined();
    expect(triageErrors(MODEL, [])).toBeUndefined();
  });
});
