import { OperatorTokenVerifier, secretsEqual, warnLegacyTokens } from './operator-token.verifier';

const GOOD = 'a'.repeat(16);

describe('OperatorTokenVerifier', () => {
  const verifier = new OperatorTokenVerifier([
    { name: 'alice', role: 'admin', token: GOOD },
    { name: 'bob', role: 'viewer', token: 'b'.repeat(16) },
  ]);

  it('answers the name and role of the matching token, nothing for others', () => {
    expect(verifier.verify(GOOD)).toEqual({ name: 'alice', role: 'admin' });
    expect(verifier.verify('b'.repeat(16))).toEqual({ name: 'bob', role: 'viewer' });
    expect(verifier.verify('a'.repeat(15))).toBeUndefined();
    expect(verifier.verify(`${GOOD}a`)).toBeUndefined();
    expect(verifier.verify('')).toBeUndefined();
  });

  it('finds the identity configured under a name (sessions are checked against it)', () => {
    expect(verifier.byName('bob')).toEqual({ name: 'bob', role: 'viewer' });
    expect(verifier.byName('carol')).toBeUndefined();
  });
});

describe('secretsEqual', () => {
  it('compares secrets of any length', () => {
    expect(secretsEqual('abc', 'abc')).toBe(true);
    expect(secretsEqual('abc', 'abd')).toBe(false);
    expect(secretsEqual('abc', 'abcd')).toBe(false);
    expect(secretsEqual('', 'x')).toBe(false);
  });
});

describe('warnLegacyTokens', () => {
  it('warns once per name:token entry, naming it, never showing a token', () => {
    const warnings: Array<[Record<string, unknown>, string]> = [];
    warnLegacyTokens(
      [
        { name: 'alice', legacy: false },
        { name: 'bob', legacy: true },
      ],
      { warn: ((obj: Record<string, unknown>, msg: string) => warnings.push([obj, msg])) as never },
    );
    expect(warnings).toEqual([
      [
        { entry: 2, name: 'bob' },
        'OPERATOR_TOKENS entry 2 (bob) uses the deprecated name:token form and is read as admin; write name:role:token',
      ],
    ]);
  });
});
