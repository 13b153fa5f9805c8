import { SANDBOX_WRITE_METHODS } from './sandbox.options';
import { faultApplies } from './sandbox-write-faults.service';

describe('write fault scope', () => {
  const all = SANDBOX_WRITE_METHODS;

  it('limits each fault to the methods it can hurt', () => {
    expect(all.filter((m) => faultApplies('submitAuditFailure', m, all))).toEqual(['Submit', 'Audit']);
    expect(all.filter((m) => faultApplies('exceptionAfterSave', m, all))).toEqual(['Save', 'BatchSave']);
    expect(all.filter((m) => faultApplies('omitDIndex', m, all))).toEqual(['Save', 'BatchSave']);
    expect(all.filter((m) => faultApplies('shortEntities', m, all))).toEqual(['Save', 'BatchSave']);
    expect(all.filter((m) => faultApplies('http5xxAfterCommit', m, all))).toEqual([...all]);
    expect(all.filter((m) => faultApplies('lateCommit', m, all))).toEqual([...all]);
  });

  it('narrows by faultMethods', () => {
    expect(all.filter((m) => faultApplies('lostResponse', m, ['BatchSave']))).toEqual(['BatchSave']);
    expect(all.filter((m) => faultApplies('submitAuditFailure', m, ['BatchSave', 'Audit']))).toEqual([
      'Audit',
    ]);
    expect(all.filter((m) => faultApplies('truncatedReply', m, []))).toEqual([]);
  });
});
