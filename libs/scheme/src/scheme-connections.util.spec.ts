import { parse } from 'yaml';
import { SchemeSchema, type Scheme } from './scheme.schema';
import { checkSchemeConnections, type ConnectionsOutline } from './scheme-connections.util';
import { parseScheme } from './scheme-file.util';
import { schemeYaml } from '../../../test/support/scheme/scheme-fixtures.util';

const OUTLINE: ConnectionsOutline = {
  wdt: {
    default: { sid: 'env-sid', gateway: 'native', budgetKey: 'native:env' },
    'shop-a': { sid: 'shop', gateway: 'native', budgetKey: 'native:k' },
    'shop-b': { sid: 'shop-b', gateway: 'native', budgetKey: 'native:k' },
    'shop-c': { sid: 'other', gateway: 'qimen', budgetKey: 'qimen:q' },
    'shop-a-again': { sid: 'shop', gateway: 'qimen', budgetKey: 'qimen:q' },
  },
  kingdee: {
    default: { account: 'erp/#env' },
    'acct-main': { account: 'erp/#main' },
    'acct-main-2': { account: 'erp/#main' },
    'acct-second': { account: 'erp/#second' },
  },
};

function scheme(
  id: string,
  src: string,
  dst: string,
  key = '{{$sid}}-{{order_no}}',
  extra: Record<string, unknown> = {},
): Scheme {
  const input = parse(schemeYaml()) as Record<string, Record<string, unknown>>;
  return SchemeSchema.parse({
    ...input,
    id,
    source: { ...input.source, connection: src },
    target: { ...input.target, connection: dst, idempotencyKey: { field: 'FBillNo', source: key } },
    ...extra,
  });
}

describe('checkSchemeConnections', () => {
  it('connection names default to default and must exist, naming scheme, field and known names', () => {
    const s = parseScheme(schemeYaml(), 'x.yaml');
    expect([s.source.connection, s.target.connection]).toEqual(['default', 'default']);
    expect(checkSchemeConnections([s], OUTLINE)).toEqual([]);
    const issues = checkSchemeConnections([scheme('s-1', 'shop-z', 'acct-z')], {
      wdt: { 'shop-a': OUTLINE.wdt['shop-a'] },
      kingdee: { 'acct-main': OUTLINE.kingdee['acct-main'] },
    });
    expect(issues).toEqual([
      {
        file: 'scheme s-1',
        path: 'source.connection',
        segments: ['source', 'connection'],
        message: 'scheme s-1: source.connection "shop-z" is not a WDT connection (known: shop-a)',
      },
      {
        file: 'scheme s-1',
        path: 'target.connection',
        segments: ['target', 'connection'],
        message: 'scheme s-1: target.connection "acct-z" is not a Kingdee connection (known: acct-main)',
      },
    ]);
    const files = checkSchemeConnections([scheme('s-1', 'default', 'nope')], OUTLINE, {
      fileOf: () => 's1.yaml',
    });
    expect(files[0].file).toBe('s1.yaml');
  });

  it('refuses keys that can collide in one account and form, naming both schemes and templates', () => {
    const a = scheme('s-a', 'shop-c', 'acct-main', '{{order_no}}');
    const b = scheme('s-b', 'shop-b', 'acct-main-2', '{{order_no}}');
    const [issue, ...rest] = checkSchemeConnections([a, b], OUTLINE);
    expect(rest).toEqual([]);
    expect(issue.path).toBe('target.idempotencyKey.source');
    expect(issue.file).toBe('scheme s-b');
    expect(issue.message).toContain('schemes s-a and s-b write Kingdee account erp/#main');
    expect(issue.message).toContain('connections acct-main and acct-main-2');
    expect(issue.message).toContain('form PUR_MRB');
    expect(issue.message).toContain('s-a "{{order_no}}" (literal prefix "")');
    expect(issue.message).toContain('{{$sid}}-{{order_no}}');
  });

  it('sid prefixes keep shops apart unless one sid-prefix starts the other', () => {
    const ok = [
      scheme('s-b', 'shop-b', 'acct-main'),
      scheme('s-c', 'shop-c', 'acct-main'),
      // Another account, or another form, never collides.
      scheme('s-x', 'shop-a', 'acct-second', '{{order_no}}'),
      scheme('s-y', 'shop-a', 'acct-main', '{{order_no}}', {
        target: { ...scheme('tmp', 'shop-a', 'acct-main', '{{order_no}}').target, formId: 'SAL_RETURNSTOCK' },
      }),
    ];
    expect(checkSchemeConnections(ok, OUTLINE)).toEqual([]);
    // sid "shop" + "-" is a prefix of sid "shop-b" + "-": shop's order "b-1" = shop-b's order "1".
    const clash = checkSchemeConnections([scheme('s-a', 'shop-a', 'acct-main'), ok[0]], OUTLINE);
    expect(clash).toHaveLength(1);
    expect(clash[0].message).toMatch(/literal prefix "shop-"\) and s-b .*literal prefix "shop-b-"/);
    // A literal prefix without $sid collides with the other's when one starts the other.
    expect(
      checkSchemeConnections(
        [
          scheme('s-a', 'shop-a', 'acct-main', 'WDT-{{order_no}}'),
          scheme('s-c', 'shop-c', 'acct-main', 'WDT-C-{{order_no}}'),
        ],
        OUTLINE,
      ),
    ).toHaveLength(1);
    expect(
      checkSchemeConnections(
        [
          scheme('s-a', 'shop-a', 'acct-main', 'A-{{order_no}}'),
          scheme('s-c', 'shop-c', 'acct-main', 'C-{{order_no}}'),
        ],
        OUTLINE,
      ),
    ).toEqual([]);
  });

  it('refuses two schemes reading one sid into one account and form; disabled schemes are left out', () => {
    const a = scheme('s-a', 'shop-a', 'acct-main', 'A-{{order_no}}');
    const b = scheme('s-b', 'shop-a-again', 'acct-main', 'B-{{order_no}}');
    const issues = checkSchemeConnections([a, b], OUTLINE);
    expect(issues).toHaveLength(1);
    expect(issues[0].message).toMatch(
      /schemes s-a and s-b both read sid shop into Kingdee account erp\/#main/,
    );
    expect(checkSchemeConnections([a, { ...b, enabled: false }], OUTLINE)).toEqual([]);
  });
});
