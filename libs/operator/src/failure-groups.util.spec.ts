import { FailureInput, groupFailures, normaliseMessage } from './failure-groups.util';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 28, 4, minute));

function row(sourceKey: string, extra: Partial<FailureInput> = {}): FailureInput {
  return {
    schemeId: 's1',
    sourceKey,
    status: 'failed',
    reason: null,
    errorClass: 'KingdeeBusinessError',
    errorField: null,
    errorMessage: null,
    occurredAt: at(0),
    waits: [],
    ...extra,
  };
}

const supplier = (code: string) => ({
  noun: 'supplier',
  field: 'FSupplierID',
  code,
  org: '',
  problem: 'missing',
});

describe('groupFailures', () => {
  it('groups base-data waits by code, labelled in Chinese by default and in English on request', () => {
    const rows = [
      row('A-1', { status: 'waiting_base_data', waits: [supplier('GYS999')], occurredAt: at(1) }),
      row('A-2', { status: 'waiting_base_data', waits: [supplier('GYS999')], occurredAt: at(3) }),
      row('A-3', { status: 'waiting_base_data', waits: [supplier('GYS999')], occurredAt: at(2) }),
      row('A-4', { status: 'waiting_base_data', waits: [supplier('GYS998')] }),
    ];
    const zh = groupFailures(rows, 'zh-CN');
    expect(zh).toHaveLength(2);
    expect(zh[0]).toMatchObject({
      status: 'waiting_base_data',
      label: '供应商 GYS999 在金蝶中不存在',
      reason: 'supplier GYS999 does not exist in Kingdee',
      field: 'FSupplierID',
      value: 'GYS999',
      count: 3,
      orderNos: ['A-2', 'A-3', 'A-1'],
      latestAt: at(3),
    });
    expect(groupFailures(rows, 'en')[0].label).toBe('supplier GYS999 does not exist in Kingdee');
  });

  it('puts an order waiting for two codes in both groups', () => {
    const groups = groupFailures(
      [row('B-1', { status: 'waiting_base_data', waits: [supplier('GYS1'), supplier('GYS2')] })],
      'en',
    );
    expect(groups.map((g) => [g.value, g.orderNos])).toEqual([
      ['GYS1', ['B-1']],
      ['GYS2', ['B-1']],
    ]);
  });

  it('groups Kingdee messages that differ only in order numbers and digits', () => {
    const groups = groupFailures(
      [
        row('C-100', { errorMessage: '单据C-100第1行：实退数量不能小于0', errorField: 'FRMREALQTY' }),
        row('C-200', { errorMessage: '单据C-200第12行：实退数量不能小于0', errorField: 'FRMREALQTY' }),
        row('C-300', { errorMessage: '单据C-300第1行：实退数量不能小于0', errorField: 'FOTHER' }),
        row('C-400', { errorMessage: '单据C-400第1行：实退数量不能小于0', status: 'dead_lettered' }),
      ],
      'zh-CN',
    );
    expect(groups[0]).toMatchObject({
      count: 2,
      orderNos: ['C-100', 'C-200'],
      field: 'FRMREALQTY',
      value: null,
      reason: '单据{order}第#行：实退数量不能小于#',
      label: '加载失败：单据C-100第1行：实退数量不能小于0', // the newest order's own message
    });
    expect(groups).toHaveLength(3);
  });

  it('keeps at most the asked number of order numbers but counts all', () => {
    const rows = Array.from({ length: 5 }, (_, i) => row(`D-${i}`, { errorMessage: 'boom' }));
    const [g] = groupFailures(rows, 'en', 2);
    expect(g.count).toBe(5);
    expect(g.orderNos).toHaveLength(2);
    expect(g.label).toBe('failed: boom');
  });

  it('falls back to the reason, then the status, when there is no message', () => {
    expect(
      groupFailures(
        [row('E-1', { status: 'conflict_in_erp', errorClass: null, reason: 'bill E-1 exists' })],
        'en',
      )[0].label,
    ).toBe('conflicting bill in Kingdee: bill E-1 exists');
  });
});

describe('normaliseMessage', () => {
  it('replaces the order number before the digits', () => {
    expect(normaliseMessage('order  XT2026-001 line 3 qty 1.5', 'XT2026-001')).toBe(
      'order {order} line # qty #',
    );
  });
});
