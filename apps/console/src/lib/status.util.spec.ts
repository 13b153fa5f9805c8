import { AUDIT_STATUSES } from '../../../../libs/contracts/src/events.schema';
import { ORDER_STATUSES, orderStatusColor, schemeRunStatus } from './status.util';

describe('status formatting and failure groups', () => {
  it('colours statuses, unknown ones neutral', () => {
    expect(orderStatusColor('loaded')).toBe('success');
    expect(orderStatusColor('failed')).toBe('error');
    expect(orderStatusColor('something_new')).toBe('default');
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

  it('knows every status the audit trail can hold (the contract the services publish)', () => {
    expect([...ORDER_STATUSES]).toEqual([...AUDIT_STATUSES]);
  });
});
