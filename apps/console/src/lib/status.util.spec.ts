import type { AuditOrder } from '../api/console-types';
import { groupFailures, normaliseMessage, orderStatusColor, schemeRunStatus } from './status.util';

const order = (sourceKey: string, status: string, errorMessage: string | null, at: string): AuditOrder =>
  ({
    schemeId: 's1',
    sourceKey,
    status,
    reason: null,
    errorClass: 'KingdeeBusinessError',
    errorField: 'FSupplierID',
    errorMessage,
    lastOccurredAt: at,
  }) as unknown as AuditOrder;

describe('status formatting and failure groups', () => {
  it('colours statuses, unknown ones neutral', () => {
    expect(orderStatusColor('loaded')).toBe('success');
    expect(orderStatusColor('failed')).toBe('error');
    expect(orderStatusColor('something_new')).toBe('default');
  });

  it('groups failures by status, class, field and message without numbers', () => {
    const groups = groupFailures([
      order('CT1', 'failed', '供应商 GYS999 不存在', '2026-11-28T10:00:00+08:00'),
      order('CT2', 'failed', '供应商 GYS998 不存在', '2026-11-28T11:00:00+08:00'),
      order('CT3', 'waiting_base_data', '物料 M1 未分配', '2026-11-28T09:00:00+08:00'),
      order('CT4', 'loaded', null, '2026-11-28T09:00:00+08:00'),
    ]);
    expect(groups).toHaveLength(2);
    expect(groups[0]).toMatchObject({ count: 2, status: 'failed', orderNos: ['CT1', 'CT2'] });
    expect(groups[0].latestAt).toBe('2026-11-28T11:00:00+08:00');
    expect(groups[1]).toMatchObject({ count: 1, status: 'waiting_base_data' });
    expect(normaliseMessage('order CT-2026-001  qty 3')).toBe('order # qty #');
  });

  it('derives a scheme status from the schemes list', () => {
    const base = {
      enabled: true,
      paused: false,
      stopped: null,
      circuit: 'closed' as const,
      lastError: null,
      extractor: null,
    };
    expect(schemeRunStatus(base)).toBe('running');
    expect(schemeRunStatus({ ...base, paused: true })).toBe('paused');
    expect(schemeRunStatus({ ...base, enabled: false, paused: true })).toBe('disabled');
    expect(schemeRunStatus({ ...base, circuit: 'open' })).toBe('circuit_open');
    expect(schemeRunStatus({ ...base, lastError: 'boom' })).toBe('error');
    expect(schemeRunStatus({ ...base, status: 'standby' })).toBe('standby');
  });
});
