import { loadServiceConfig } from './load-config';
import { roleAtLeast } from './operator-tokens.schema';

const base = { KAFKA_BROKERS: '127.0.0.1:9092', DATABASE_URL: 'postgres://u@h/x' };
const GOOD = 'a'.repeat(16);
const OTHER = 'b'.repeat(20);

const parse = (value: string) => loadServiceConfig('operator', { ...base, OPERATOR_TOKENS: value });

function bootError(value: string): string {
  try {
    parse(value);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`expected OPERATOR_TOKENS=${value} to be refused`);
}

describe('OPERATOR_TOKENS', () => {
  it('parses name:role:token entries', () => {
    const cfg = parse(`alice:admin:${GOOD}, bob:viewer:${OTHER},carol:operator:${GOOD}x`);
    expect(cfg.OPERATOR_TOKENS).toEqual([
      { name: 'alice', role: 'admin', token: GOOD, legacy: false },
      { name: 'bob', role: 'viewer', token: OTHER, legacy: false },
      { name: 'carol', role: 'operator', token: `${GOOD}x`, legacy: false },
    ]);
    expect(cfg.HTTP_PORT).toBe(3005);
    expect(cfg.OPERATOR_SESSION_TTL_HOURS).toBe(12);
    expect(cfg.OPERATOR_CONSOLE_DIR).toBeUndefined();
  });

  it('reads the old name:token form as admin, marked legacy (the service logs a deprecation)', () => {
    expect(parse(`alice:${GOOD},bob:viewer:${OTHER}`).OPERATOR_TOKENS).toEqual([
      { name: 'alice', role: 'admin', token: GOOD, legacy: true },
      { name: 'bob', role: 'viewer', token: OTHER, legacy: false },
    ]);
  });

  it('keeps colons inside a token of the new form', () => {
    expect(parse(`alice:viewer:${GOOD}:tail`).OPERATOR_TOKENS).toEqual([
      { name: 'alice', role: 'viewer', token: `${GOOD}:tail`, legacy: false },
    ]);
  });

  it.each([
    [`:viewer:${GOOD}`, /entry 1: name must be non-empty/],
    [`:${GOOD}`, /entry 1: name must be non-empty/],
    [`alice::${GOOD}`, /entry 1 \(alice\): role is empty/],
    [`alice:viewer:${GOOD},bob:root:${GOOD}`, /entry 2 \(bob\): role must be viewer, operator or admin/],
    ['alice:viewer:short-token', /entry 1 \(alice\): token must be at least 16 characters/],
    ['alice:short-token', /entry 1 \(alice\): token must be at least 16 characters/],
    [`alice:viewer:`, /entry 1 \(alice\): token must be at least 16 characters/],
    [`alice:viewer:${GOOD},alice:admin:${OTHER}`, /entry 2: name "alice" is used twice/],
    [GOOD, /entry 1 must be name:role:token/],
  ])('refuses %p at boot, naming the entry, never echoing the token', (value, message) => {
    const error = bootError(value);
    expect(error).toMatch(message);
    expect(error).toContain('OPERATOR_TOKENS');
    expect(error).toContain('value hidden');
    expect(error).not.toContain('short-token');
    expect(error).not.toContain(GOOD);
    expect(error).not.toContain(OTHER);
  });

  it('is required', () => {
    expect(() => loadServiceConfig('operator', base)).toThrow(/OPERATOR_TOKENS: required/);
  });

  it('validates the session TTL', () => {
    const cfg = loadServiceConfig('operator', {
      ...base,
      OPERATOR_TOKENS: `alice:admin:${GOOD}`,
      OPERATOR_SESSION_TTL_HOURS: '0.5',
      OPERATOR_CONSOLE_DIR: '/srv/console',
    });
    expect(cfg.OPERATOR_SESSION_TTL_HOURS).toBe(0.5);
    expect(cfg.OPERATOR_CONSOLE_DIR).toBe('/srv/console');
    expect(() =>
      loadServiceConfig('operator', {
        ...base,
        OPERATOR_TOKENS: `alice:admin:${GOOD}`,
        OPERATOR_SESSION_TTL_HOURS: '0',
      }),
    ).toThrow(/OPERATOR_SESSION_TTL_HOURS/);
  });
});

describe('roleAtLeast', () => {
  it('orders viewer < operator < admin', () => {
    expect(roleAtLeast('admin', 'operator')).toBe(true);
    expect(roleAtLeast('operator', 'operator')).toBe(true);
    expect(roleAtLeast('viewer', 'operator')).toBe(false);
    expect(roleAtLeast('operator', 'admin')).toBe(false);
    expect(roleAtLeast('viewer', 'viewer')).toBe(true);
  });
});
