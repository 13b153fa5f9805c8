import { maskDifferences } from './reconcile-pii.util';

describe('maskDifferences', () => {
  it('hides both values of a personal-data field, in the header or a line, and keeps the rest', () => {
    const pii = new Set(['FDESCRIPTION', 'FNOTE']);
    expect(
      maskDifferences(
        [
          { kind: 'value', field: 'FDESCRIPTION', expected: '张三丰 13812345678', actual: '李四' },
          { kind: 'value', field: 'FPURMRBENTRY[1].FNOTE', expected: null, actual: '王五' },
          { kind: 'value', field: 'FPURMRBENTRY[0].FRMREALQTY', expected: '2', actual: '1.25' },
        ],
        pii,
      ),
    ).toEqual([
      { kind: 'value', field: 'FDESCRIPTION', expected: '***', actual: '***' },
      { kind: 'value', field: 'FPURMRBENTRY[1].FNOTE', expected: null, actual: '***' },
      { kind: 'value', field: 'FPURMRBENTRY[0].FRMREALQTY', expected: '2', actual: '1.25' },
    ]);
  });
});
