import { SchemeSchema } from '@libs/scheme';
import { buildRequest } from './build-request.util';
import { shippedScheme } from '../../../test/support/mapping/mapping-fixtures.util';

describe('buildRequest', () => {
  const model = (n: number) => ({ FBillNo: `CT${n}` });

  it('puts request options at request level, in scheme order, then Model', () => {
    const req = buildRequest(shippedScheme(), [model(1), model(2)]);
    expect(JSON.stringify(req)).toBe(
      '{"formid":"PUR_MRB","data":{"IsAutoSubmitAndAudit":true,"IsVerifyBaseDataField":false,"SubSystemId":"21",' +
        '"Model":[{"FBillNo":"CT1"},{"FBillNo":"CT2"}]}}',
    );
  });

  it('adds IsAutoSubmitAndAudit for submitMode auto when the scheme leaves it out', () => {
    const s = shippedScheme();
    s.target.requestOptions = { SubSystemId: '21' };
    expect(Object.keys(buildRequest(s, [model(1)]).data)).toEqual([
      'IsAutoSubmitAndAudit',
      'SubSystemId',
      'Model',
    ]);
  });

  it('leaves it out for submitMode separate', () => {
    const s = shippedScheme();
    s.target.submitMode = 'separate';
    s.target.requestOptions = { IsVerifyBaseDataField: true };
    expect(buildRequest(s, [model(1)]).data).toEqual({ IsVerifyBaseDataField: true, Model: [model(1)] });
  });

  it('Save sends one model as an object', () => {
    const s = SchemeSchema.parse({
      ...shippedScheme(),
      target: { ...shippedScheme().target, operation: 'Save', batchSize: 1 },
    });
    expect(buildRequest(s, [model(1)]).data.Model).toEqual(model(1));
    expect(() => buildRequest(s, [model(1), model(2)])).toThrow(/exceed the scheme's batchSize 1/);
  });

  it('refuses empty and oversized batches', () => {
    expect(() => buildRequest(shippedScheme(), [])).toThrow(/no models/);
    const many = Array.from({ length: 21 }, (_, i) => model(i));
    expect(() => buildRequest(shippedScheme(), many)).toThrow(/21 models exceed the scheme's batchSize 20/);
  });

  it('does not share the caller array', () => {
    const models = [model(1)];
    const req = buildRequest(shippedScheme(), models);
    models.push(model(2));
    expect(req.data.Model).toHaveLength(1);
  });
});
