import { loadServiceConfig } from '@libs/config';
import { OperatorTokenVerifier } from './operator-auth.guard';

const base = { KAFKA_BROKERS: '127.0.0.1:9092', DATABASE_URL: 'postgres://u@h/x' };
const GOOD = 'a'.repeat(16);

describe('OPERATOR_TOKENS', () => {
  it('parses named tokens', () => {
    const cfg = loadServiceConfig('operator', {
      ...base,
      OPERATOR_TOKENS: `alice:${GOOD}, bob:${'b'.repeat(20)}`,
    });
    expect(cfg.OPERATOR_TOKENS).toEqual([
      { name: 'alice', token: GOOD },
      { name: 'bob', token: 'b'.repeat(20) },
    ]);
    expect(cfg.HTTP_PORT).toBe(3005);
  });

  it.each([
    [`:${GOOD}`, /entry 1: name must be non-empty/],
    ['alice:short-token', /entry 1 \(alice\): token must be at least 16 characters/],
    [`alice:${GOOD},alice:${'c'.repeat(16)}`, /name "alice" is used twice/],
    [GOOD, /entry 1 must be name:token/],
  ])('refuses %p at boot without echoing the value', (value, message) => {
    let error: Error | undefined;
    try {
      loadServiceConfig('operator', { ...base, OPERATOR_TOKENS: value });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(message);
    expect(error?.message).toContain('OPERATOR_TOKENS');
    expect(error?.message).not.toContain('short-token');
    expect(error?.message).not.toContain(GOOD);
  });

  it('is required', () => {
    expect(() => loadServiceConfig('operator', base)).toThrow(/OPERATOR_TOKENS: required/);
  });
});

describe('OperatorTokenVerifier', () => {
  const verifier = new OperatorTokenVerifier([
    { name: 'alice', token: GOOD },
    { name: 'bob', token: 'b'.repeat(16) },
  ]);

  it('answers the name of the matching token, nothing for others', () => {
    expect(verifier.verify(GOOD)).toBe('alice');
    expect(verifier.verify('b'.repeat(16))).toBe('bob');
    expect(verifier.verify('a'.repeat(15))).toBeUndefined();
    expect(verifier.verify(`${GOOD}a`)).toBeUndefined();
    expect(verifier.verify('')).toBeUndefined();
  });
});
