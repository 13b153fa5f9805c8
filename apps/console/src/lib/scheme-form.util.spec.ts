import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { formToYaml, yamlToForm } from './scheme-form.util';
import { issueTarget } from './issue-path.util';

const schemesDir = join(__dirname, '../../../../schemes');
const files = readdirSync(schemesDir).filter((f) => /\.ya?ml$/.test(f));

describe('scheme form ↔ YAML', () => {
  it.each(files)('%s: an untouched form writes the file back byte for byte', (file) => {
    const text = readFileSync(join(schemesDir, file), 'utf8');
    expect(formToYaml(yamlToForm(text), text)).toBe(text);
  });

  it.each(files)('%s: edits land in the YAML, unknown keys and comments stay', (file) => {
    const text = readFileSync(join(schemesDir, file), 'utf8');
    const form = yamlToForm(text);
    const supplier = form.mapping.findIndex((r) => r.field === 'FSupplierID');
    form.mapping[supplier] = {
      ...form.mapping[supplier],
      kind: 'formula',
      expression: '$uppercase(provider_no)',
    };
    form.mapping.push({
      section: 'header',
      field: 'FDESCRIPTION',
      kind: 'const',
      expression: 'hi',
      type: 'string',
      required: false,
    });
    form.check.retryCount = 5;
    form.check.preconditions[0].value = '5, 50';
    form.source.params = form.source.params.filter((p) => p.name !== 'page_size');
    const out = formToYaml(form, text);
    const scheme = parse(out);
    expect(scheme.mapping.header.FSupplierID).toEqual({
      formula: '$uppercase(provider_no)',
      type: 'ref',
      valueMap: 'suppliers',
      required: true,
    });
    expect(scheme.mapping.header.FDESCRIPTION).toEqual({ const: 'hi' });
    expect(scheme.retry.count).toBe(5);
    expect(scheme.preconditions[0].notIn).toEqual(['5', '50']);
    expect(scheme.source.params.page_size).toBeUndefined();
    // Not in the form: left exactly as it was.
    expect(scheme.target).toEqual(parse(text).target);
    expect(scheme.valueMaps).toEqual(parse(text).valueMaps);
    expect(out).toContain('# 退料日期');
    expect(out).toContain('# 是否启动');
    expect(yamlToForm(out).mapping.find((r) => r.field === 'FSupplierID')?.kind).toBe('formula');
  });
});

describe('issue path → form field', () => {
  const text = readFileSync(join(schemesDir, files[0]), 'utf8');
  const form = yamlToForm(text);

  it('puts mapping issues at the row and column', () => {
    const row = form.mapping.findIndex((r) => r.section === 'header' && r.field === 'FDate');
    expect(issueTarget(['mapping', 'header', 'FDate', 'formula'], form)).toEqual({
      step: 'mapping',
      name: ['mapping', row, 'expression'],
    });
    const entry = form.mapping.findIndex((r) => r.section === 'entries.0' && r.field === 'FRMREALQTY');
    expect(issueTarget(['mapping', 'entries', 0, 'fields', 'FRMREALQTY', 'type'], form)).toEqual({
      step: 'mapping',
      name: ['mapping', entry, 'type'],
    });
    expect(issueTarget(['mapping', 'header', 'Nope'], form)).toEqual({ step: 'mapping', name: null });
  });

  it('puts source and check issues at their items, the rest in the YAML tab', () => {
    const param = form.source.params.findIndex((p) => p.name === 'start_time');
    expect(issueTarget(['source', 'params', 'start_time'], form)).toEqual({
      step: 'source',
      name: ['source', 'params', param, 'value'],
    });
    expect(issueTarget(['source', 'cursor', 'lookback'], form)).toEqual({
      step: 'source',
      name: ['source', 'lookback'],
    });
    expect(issueTarget(['schedule', 'transferTime'], form)).toEqual({
      step: 'check',
      name: ['check', 'transferTime'],
    });
    expect(issueTarget(['retry', 'count'], form)).toEqual({ step: 'check', name: ['check', 'retryCount'] });
    expect(issueTarget(['preconditions', 1, 'in'], form)).toEqual({
      step: 'check',
      name: ['check', 'preconditions', 1, 'value'],
    });
    expect(issueTarget(['target', 'formId'], form)).toEqual({ step: 'yaml', name: null });
  });

  it.each(files)('%s: the connection pickers set source.connection and target.connection', (file) => {
    const text = readFileSync(join(schemesDir, file), 'utf8');
    const form = yamlToForm(text);
    expect([form.source.connection, form.target.connection]).toEqual([
      (parse(text) as { source: { connection?: string } }).source.connection ?? 'default',
      (parse(text) as { target: { connection?: string } }).target.connection ?? 'default',
    ]);
    form.source.connection = 'shop-b';
    form.target.connection = 'acct-b';
    const written = parse(formToYaml(form, text)) as {
      source: { connection: string; method: string };
      target: { connection: string; formId: string };
    };
    expect(written.source).toMatchObject({ connection: 'shop-b', method: form.source.method });
    expect(written.target).toMatchObject({ connection: 'acct-b', formId: 'PUR_MRB' });
    // Back to default: the name is written only where the file names one.
    const back = yamlToForm(formToYaml(form, text));
    back.source.connection = 'default';
    expect(
      (parse(formToYaml(back, formToYaml(form, text))) as { source: { connection: string } }).source
        .connection,
    ).toBe('default');
  });
});
