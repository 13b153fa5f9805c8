import { containsPattern } from './audit-query.service';
import { schemeState } from './console-read.service';

describe('schemeState', () => {
  const base = {
    enabled: true,
    paused: false,
    stopped: null,
    lastError: null,
    extractor: null,
    circuit: 'closed',
  };
  it('names the most pressing state', () => {
    expect(schemeState(base)).toBe('running');
    expect(schemeState({ ...base, extractor: { role: 'standby' } })).toBe('standby');
    expect(schemeState({ ...base, lastError: 'WDT down', extractor: { role: 'standby' } })).toBe('error');
    expect(schemeState({ ...base, circuit: 'open', lastError: 'x' })).toBe('circuit_open');
    expect(schemeState({ ...base, paused: true, circuit: 'open' })).toBe('paused');
    expect(schemeState({ ...base, stopped: { reason: 'r' }, paused: true })).toBe('stopped');
    expect(schemeState({ ...base, enabled: false, stopped: { reason: 'r' } })).toBe('disabled');
  });
});

describe('containsPattern', () => {
  it('upper-cases and escapes LIKE wildcards', () => {
    expect(containsPattern('cr-1')).toBe('%CR-1%');
    expect(containsPattern('a%b_c\\')).toBe('%A\\%B\\_C\\\\%');
  });
});
