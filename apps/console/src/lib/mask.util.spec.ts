import { isMasked, maskPii, maskValue } from './mask.util';

describe('masking personal data for display', () => {
  it('masks receiver fields deep in a record, leaves the rest', () => {
    const record = {
      order_no: 'CT1',
      receiver_name: '张三丰',
      receiver_mobile: '13812345678',
      details_list: [{ spec_no: 'M1', receiver_address: '上海市浦东新区' }],
    };
    const masked = maskPii(record);
    expect(masked.order_no).toBe('CT1');
    expect(masked.receiver_name).toBe('张**');
    expect(masked.receiver_mobile).toBe('138****5678');
    expect(masked.details_list[0].receiver_address).toMatch(/^上\*+$/);
    expect(masked.details_list[0].spec_no).toBe('M1');
    expect(record.receiver_name).toBe('张三丰');
  });

  it('keeps server-masked values and reveals for admins', () => {
    expect(isMasked('张*')).toBe(true);
    expect(maskValue('138****5678')).toBe('138****5678');
    expect(maskPii({ receiver_name: '张三' }, true)).toEqual({ receiver_name: '张三' });
  });
});
