import {
  maskAddress,
  maskName,
  maskPhone,
  maskPii,
  maskPiiText,
  maskZip,
  provinceAndCity,
} from './pii-mask.util';

describe('PII masking', () => {
  it('masks names, phones, zips', () => {
    expect(maskName('张三丰')).toBe('张**');
    expect(maskName('')).toBe('');
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskPhone('+86 138-1234-5678')).toBe('861****5678');
    expect(maskPhone('010-12345678')).toBe('010****5678');
    expect(maskPhone('12345')).toBe('****');
    expect(maskPhone('')).toBe('');
    expect(maskZip('518057')).toBe('51****');
  });

  it('keeps only province and city of an address', () => {
    expect(maskAddress('广东省深圳市南山区科技园科苑路15号')).toBe('广东省深圳市***');
    expect(maskAddress('广东省 深圳市 南山区')).toBe('广东省深圳市***');
    expect(maskAddress('北京市朝阳区建国路88号')).toBe('北京市***');
    expect(maskAddress('新疆维吾尔自治区乌鲁木齐市天山区1号')).toBe('新疆维吾尔自治区乌鲁木齐市***');
    expect(maskAddress('科苑路15号')).toBe('***');
    expect(maskAddress('科苑路15号', '广东省深圳市')).toBe('广东省深圳市***');
    expect(provinceAndCity('浙江省杭州市西湖区')).toBe('浙江省杭州市');
  });

  it('masks at any depth, uses sibling province/city, and leaves other fields alone', () => {
    const event = {
      orderNo: 'CT1',
      record: {
        order_no: 'CT1',
        receiver_name: '李四',
        receiver_province: '浙江省',
        receiver_city: '杭州市',
        receiver_address: '文三路90号',
        receiver_mobile: 13912345678,
        receiver_telno: null,
        details_list: [{ receiver_zip: '310000', spec_no: 'A' }],
      },
    };
    expect(maskPii(event)).toEqual({
      orderNo: 'CT1',
      record: {
        order_no: 'CT1',
        receiver_name: '李**',
        receiver_province: '浙江省',
        receiver_city: '杭州市',
        receiver_address: '浙江省杭州市***',
        receiver_mobile: '139****5678',
        receiver_telno: null,
        details_list: [{ receiver_zip: '31****', spec_no: 'A' }],
      },
    });
    expect(event.record.receiver_name).toBe('李四'); // a copy, not in place
  });

  it('masks JSON held in strings, and key/value pairs in text that is not JSON', () => {
    const text = JSON.stringify({ record: { receiver_name: '王五', receiver_mobile: '13700001111' } });
    expect(JSON.parse(maskPii(text))).toEqual({
      record: { receiver_name: '王**', receiver_mobile: '137****1111' },
    });
    const truncated = `{"record":{"receiver_name":"王五","receiver_mobile":"13700001111","x":"trunc`;
    expect(maskPiiText(truncated)).toBe(
      `{"record":{"receiver_name":"王**","receiver_mobile":"137****1111","x":"trunc`,
    );
    expect(maskPii({ data: truncated }).data).not.toContain('13700001111');
    expect(maskPii('no personal data here')).toBe('no personal data here');
  });

  it('is idempotent (masking masked data changes nothing)', () => {
    const once = maskPii({
      receiver_name: '张三',
      receiver_mobile: '13812345678',
      receiver_address: '广东省深圳市南山区',
    });
    expect(maskPii(once)).toEqual(once);
  });
});

describe('maskPii with target fields that carry personal data (request bodies)', () => {
  it('masks the values of the given keys at any depth, keeping ref objects’ shape', () => {
    const model = {
      FBillNo: 'SO1',
      FContact: '张三丰',
      FReceiverRef: { FNumber: '13812345678' },
      FPURMRBENTRY: [{ FNote: '广东省深圳市南山区科技园1号', FRMREALQTY: 2 }],
    };
    expect(maskPii(model, new Set(['FContact', 'FReceiverRef', 'FNote']))).toEqual({
      FBillNo: 'SO1',
      FContact: '***',
      FReceiverRef: { FNumber: '***' },
      FPURMRBENTRY: [{ FNote: '***', FRMREALQTY: 2 }],
    });
  });
});
