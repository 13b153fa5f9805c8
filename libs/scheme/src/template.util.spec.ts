import { parseDuration } from './duration.util';
import {
  parseTemplate,
  templateLiteralPrefix,
  templateVariables,
  TemplateSyntaxError,
} from './template.util';

describe('parseTemplate', () => {
  it('a single placeholder keeps the raw value', () => {
    const t = parseTemplate('{{order_no}}');
    expect(t.single).toBe(true);
    expect(templateVariables(t)).toEqual([['order_no']]);
  });
  it('mixes text and dotted placeholders, tolerating spaces', () => {
    const t = parseTemplate('WDT-{{ order_no }}/{{details_list.spec_no}}');
    expect(t.single).toBe(false);
    expect(t.parts).toEqual([
      { kind: 'text', text: 'WDT-' },
      { kind: 'var', path: ['order_no'], raw: 'order_no' },
      { kind: 'text', text: '/' },
      { kind: 'var', path: ['details_list', 'spec_no'], raw: 'details_list.spec_no' },
    ]);
  });
  it('plain text is a template without placeholders', () => {
    expect(parseTemplate('B').parts).toEqual([{ kind: 'text', text: 'B' }]);
  });
  it.each([
    ['{{order_no', /unclosed/],
    ['{{}}', /empty placeholder/],
    ['{{a b}}', /not a dotted path/],
    ['{{a.0}}', /not a dotted path/],
    ['{{$x}}', /not a dotted path/],
    ['{{constructor}}', /forbidden key "constructor"/],
    ['{{a.prototype}}', /forbidden key "prototype"/],
  ])('rejects %j', (src, msg) => {
    expect(() => parseTemplate(src)).toThrow(TemplateSyntaxError);
    expect(() => parseTemplate(src)).toThrow(msg);
  });
});

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['3d', 259_200_000],
    ['2w', 1_209_600_000],
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', '5', '5 s', '-5s', '1.5h', 'soon'])('rejects %j', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
});

describe('{{$sid}}', () => {
  it('is its own placeholder kind, not a record path', () => {
    const t = parseTemplate('{{ $sid }}-{{order_no}}');
    expect(t.parts).toEqual([
      { kind: 'sid', raw: '$sid' },
      { kind: 'text', text: '-' },
      { kind: 'var', path: ['order_no'], raw: 'order_no' },
    ]);
    expect(templateVariables(t)).toEqual([['order_no']]);
    expect(parseTemplate('{{$sid}}').single).toBe(true);
    expect(() => parseTemplate('{{$other}}')).toThrow(TemplateSyntaxError);
    expect(() => parseTemplate('{{$sid.x}}')).toThrow(TemplateSyntaxError);
  });
  it('literal prefix: text up to the first record placeholder, {{$sid}} substituted', () => {
    expect(templateLiteralPrefix(parseTemplate('{{$sid}}-{{order_no}}'), 'S1')).toBe('S1-');
    expect(templateLiteralPrefix(parseTemplate('WDT-{{$sid}}/{{order_no}}-{{$sid}}'), 'S1')).toBe('WDT-S1/');
    expect(templateLiteralPrefix(parseTemplate('{{order_no}}'), 'S1')).toBe('');
    expect(templateLiteralPrefix(parseTemplate('A-{{$sid}}-{{order_no}}'))).toBe('A-');
    expect(templateLiteralPrefix(parseTemplate('fixed'), 'S1')).toBe('fixed');
  });
});
