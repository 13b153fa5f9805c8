import { diffDocuments } from './document-diff.util';

describe('diffDocuments', () => {
  const loaded = {
    FBillNo: 'T-1',
    FSupplierID: { FNumber: 'GYS001' },
    FEntity: [
      { FMATERIALID: { FNumber: 'FH-S' }, FRMREALQTY: 1 },
      { FMATERIALID: { FNumber: 'FH-M' }, FRMREALQTY: 2 },
    ],
  };

  it('finds nothing between equal documents', () => {
    expect(diffDocuments(loaded, structuredClone(loaded))).toEqual([]);
  });

  it('names changed leaves by path, entry lines by index', () => {
    const current = structuredClone(loaded);
    current.FEntity[0].FRMREALQTY = 3;
    current.FSupplierID.FNumber = 'GYS002';
    expect(diffDocuments(loaded, current)).toEqual([
      { path: 'FSupplierID.FNumber', loaded: 'GYS001', current: 'GYS002' },
      { path: 'FEntity[0].FRMREALQTY', loaded: 1, current: 3 },
    ]);
  });

  it('shows added and removed fields and lines as null on the side that lacks them', () => {
    const current = { ...structuredClone(loaded), FNote: 'x' } as Record<string, unknown>;
    (current.FEntity as unknown[]).pop();
    expect(diffDocuments(loaded, current)).toEqual([
      { path: 'FEntity[1]', loaded: { FMATERIALID: { FNumber: 'FH-M' }, FRMREALQTY: 2 }, current: null },
      { path: 'FNote', loaded: null, current: 'x' },
    ]);
  });

  it('treats a type change as one change and null as absent', () => {
    expect(diffDocuments({ a: [1], b: null }, { a: { x: 1 } })).toEqual([
      { path: 'a', loaded: [1], current: { x: 1 } },
    ]);
  });
});
