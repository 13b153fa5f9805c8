import { piiSourceFields, piiTargetFields } from './pii-fields.util';
import { Scheme } from './scheme.schema';

describe('piiTargetFields', () => {
  it('names target fields flagged pii or reading a receiver field, by key and by target path', () => {
    const scheme = {
      mapping: {
        header: {
          FBillNo: { template: '{{order_no}}' },
          FContact: { template: '{{receiver_name}} {{receiver_mobile}}' },
          FNote: { template: '{{remark}}', pii: true, target: 'FPURMRBFIN.FRemark' },
          FAddr: { formula: '$uppercase(receiver_address)' },
        },
        entries: [
          {
            path: 'FPURMRBENTRY',
            source: 'details_list',
            fields: { FQty: { template: '{{details_list.goods_count}}' } },
          },
        ],
      },
    } as unknown as Scheme;
    expect([...piiTargetFields(scheme)].sort()).toEqual(['FAddr', 'FContact', 'FNote', 'FRemark']);
  });

  it('names the source fields that pii-flagged templates read (not those of unflagged ones)', () => {
    const scheme = {
      mapping: {
        header: {
          FBillNo: { template: '{{order_no}}' },
          FCarry: { template: 'note: {{remark}} / {{buyer.nick}}', pii: true },
          FFormula: { formula: '$uppercase(secret_note)', pii: true },
        },
        entries: [
          {
            path: 'FPURMRBENTRY',
            source: 'details_list',
            fields: {
              FNote: { template: '{{details_list.line_contact}}', pii: true },
              FQty: { template: '{{details_list.goods_count}}' },
            },
          },
        ],
      },
    } as unknown as Scheme;
    expect([...piiSourceFields(scheme)].sort()).toEqual(['line_contact', 'nick', 'remark']);
  });
});
