/**
 * Fixed base data the generator draws from. The Kingdee side seeds matching base data (stocks,
 * suppliers, materials), so these sets are exported and must stay stable.
 */
export interface SandboxWarehouse {
  warehouse_no: string;
  warehouse_id: string;
  name: string;
}

export interface SandboxProvider {
  provider_no: string;
  provider_name: string;
  contact: string;
  mobile: string;
  telno: string;
  province: string;
  city: string;
  district: string;
  address: string;
  zip: string;
}

export interface SandboxMaterial {
  spec_no: string;
  goods_no: string;
  goods_name: string;
  spec_name: string;
  spec_code: string;
  brand_no: string;
  brand_name: string;
  goods_unit: string;
  /** Cost price in yuan, 4 decimals. */
  cost_price: string;
  sell_price: string;
  /** Weight per unit, kg. */
  weight: string;
  /** Quantities may be fractional (metres, kilograms). */
  fractional: boolean;
  goods_id: string;
  spec_id: string;
}

export const SANDBOX_WAREHOUSES: readonly SandboxWarehouse[] = [
  { warehouse_no: 'SH01', warehouse_id: '1', name: '上海总仓' },
  { warehouse_no: 'BJ02', warehouse_id: '2', name: '北京仓' },
  { warehouse_no: 'GZ03', warehouse_id: '3', name: '广州仓' },
];

export const SANDBOX_PROVIDERS: readonly SandboxProvider[] = [
  p(
    'GYS001',
    '上海锦程日用品有限公司',
    '王建国',
    '13801710001',
    '021-58810001',
    '上海市',
    '上海市',
    '浦东新区',
    '张江路1288号3幢',
    '201203',
  ),
  p(
    'GYS002',
    '杭州恒达纸业有限公司',
    '李秀英',
    '13905710002',
    '0571-86010002',
    '浙江省',
    '杭州市',
    '余杭区',
    '文一西路998号',
    '311121',
  ),
  p(
    'GYS003',
    '苏州新纺面料有限公司',
    '张伟',
    '13706120003',
    '0512-65230003',
    '江苏省',
    '苏州市',
    '吴中区',
    '木渎镇金山路66号',
    '215101',
  ),
  p(
    'GYS004',
    '广州粤华电器有限公司',
    '陈静',
    '13602020004',
    '020-38860004',
    '广东省',
    '广州市',
    '天河区',
    '天河北路233号',
    '510620',
  ),
  p(
    'GYS005',
    '深圳明亮照明科技有限公司',
    '刘洋',
    '13510750005',
    '0755-26660005',
    '广东省',
    '深圳市',
    '南山区',
    '科技园南区高新南七道8号',
    '518057',
  ),
  p(
    'GYS006',
    '北京安康防护用品有限公司',
    '赵敏',
    '13911010006',
    '010-62550006',
    '北京市',
    '北京市',
    '海淀区',
    '上地信息路26号',
    '100085',
  ),
  p(
    'GYS007',
    '云南普洱茶业有限公司',
    '杨磊',
    '13887110007',
    '0871-63120007',
    '云南省',
    '昆明市',
    '五华区',
    '人民中路18号',
    '650021',
  ),
  p(
    'GYS008',
    '成都蜀味食品有限公司',
    '黄丽',
    '13808010008',
    '028-85550008',
    '四川省',
    '成都市',
    '武侯区',
    '天府大道中段500号',
    '610041',
  ),
];

function p(
  provider_no: string,
  provider_name: string,
  contact: string,
  mobile: string,
  telno: string,
  province: string,
  city: string,
  district: string,
  address: string,
  zip: string,
): SandboxProvider {
  return { provider_no, provider_name, contact, mobile, telno, province, city, district, address, zip };
}

let nextGoodsId = 3001;
function m(
  spec_no: string,
  goods_no: string,
  goods_name: string,
  spec_name: string,
  brand: [string, string],
  goods_unit: string,
  cost_price: string,
  sell_price: string,
  weight: string,
  fractional = false,
): SandboxMaterial {
  const id = nextGoodsId++;
  return {
    spec_no,
    goods_no,
    goods_name,
    spec_name,
    spec_code: spec_no.split('-').slice(1).join('-') || spec_no,
    brand_no: brand[0],
    brand_name: brand[1],
    goods_unit,
    cost_price,
    sell_price,
    weight,
    fractional,
    goods_id: String(id),
    spec_id: String(id + 10000),
  };
}

const LEXIANG: [string, string] = ['BR01', '乐享'];
const YOUPIN: [string, string] = ['BR02', '优品'];
const JIANGXIN: [string, string] = ['BR03', '匠心'];
const LVYUAN: [string, string] = ['BR04', '绿源'];

/** ~30 materials; `spec_no` is the Kingdee material number. Includes the golden case's BWB-500-W and FH-L. */
export const SANDBOX_MATERIALS: readonly SandboxMaterial[] = [
  m('BWB-500-W', 'BWB500', '不锈钢保温杯', '500ml 白色', LEXIANG, '个', '32.5000', '59.0000', '0.3500'),
  m('BWB-500-B', 'BWB500', '不锈钢保温杯', '500ml 黑色', LEXIANG, '个', '32.5000', '59.0000', '0.3500'),
  m('BWB-350-P', 'BWB350', '不锈钢保温杯', '350ml 粉色', LEXIANG, '个', '28.0000', '49.0000', '0.2800'),
  m('FH-S', 'FH', '复合面料', '幅宽S 1.2米', JIANGXIN, '米', '18.6000', '26.0000', '0.2000', true),
  m('FH-M', 'FH', '复合面料', '幅宽M 1.5米', JIANGXIN, '米', '22.4000', '31.0000', '0.2500', true),
  m('FH-L', 'FH', '复合面料', '幅宽L 1.8米', JIANGXIN, '米', '26.8000', '37.0000', '0.3000', true),
  m('DYZ-A4-80', 'DYZ', '复印纸', 'A4 80g 5包/箱', YOUPIN, '箱', '118.0000', '145.0000', '12.5000'),
  m('DYZ-A3-70', 'DYZ', '复印纸', 'A3 70g 5包/箱', YOUPIN, '箱', '198.0000', '240.0000', '21.0000'),
  m('XJJ-500', 'XJJ', '洗洁精', '500ml', LVYUAN, '瓶', '6.8000', '12.9000', '0.5500'),
  m('XJJ-1000', 'XJJ', '洗洁精', '1L', LVYUAN, '瓶', '11.2000', '19.9000', '1.0800'),
  m('CZ-100', 'CZ', '原木抽纸', '100抽 6包/提', LVYUAN, '提', '13.5000', '22.9000', '0.9000'),
  m('MST-L', 'MST', '劳保棉手套', 'L码', JIANGXIN, '双', '2.1000', '3.5000', '0.0600'),
  m('MST-XL', 'MST', '劳保棉手套', 'XL码', JIANGXIN, '双', '2.3000', '3.8000', '0.0650'),
  m('KZ-N95', 'KZ', '防护口罩', 'N95 20只/盒', JIANGXIN, '盒', '35.0000', '59.0000', '0.1800'),
  m('KZ-PM', 'KZ', '一次性平面口罩', '50只/盒', JIANGXIN, '盒', '9.5000', '19.9000', '0.2000'),
  m('DC-5-12', 'DC', '碱性电池', '5号 12粒装', YOUPIN, '板', '15.0000', '25.9000', '0.2900'),
  m('DC-7-12', 'DC', '碱性电池', '7号 12粒装', YOUPIN, '板', '14.0000', '23.9000', '0.1400'),
  m('SNX-20', 'SNX', '塑料收纳箱', '20L', LEXIANG, '个', '21.0000', '39.0000', '1.1000'),
  m('SNX-45', 'SNX', '塑料收纳箱', '45L', LEXIANG, '个', '36.0000', '65.0000', '1.9000'),
  m('CXB-2M', 'CXB', '安全插线板', '5位 2米', YOUPIN, '个', '29.0000', '49.0000', '0.4500'),
  m('CXB-5M', 'CXB', '安全插线板', '5位 5米', YOUPIN, '个', '38.0000', '62.0000', '0.6500'),
  m('LED-9W', 'LED', 'LED球泡灯', '9W 暖白', YOUPIN, '个', '5.6000', '12.0000', '0.0600'),
  m('LED-15W', 'LED', 'LED球泡灯', '15W 正白', YOUPIN, '个', '8.2000', '16.0000', '0.0800'),
  m('KFD-1KG', 'KFD', '云南小粒咖啡豆', '中度烘焙', LVYUAN, '千克', '96.0000', '158.0000', '1.0000', true),
  m('PECHA-357', 'PECHA', '普洱茶饼', '357g 熟茶', LVYUAN, '饼', '88.0000', '168.0000', '0.3800'),
  m('HJ-500', 'HJ', '火锅底料', '500g 牛油', LVYUAN, '袋', '16.0000', '29.9000', '0.5200'),
  m('JD-48-T', 'JD', '封箱胶带', '48mm 透明', YOUPIN, '卷', '3.2000', '5.5000', '0.2500'),
  m('MKB-12', 'MKB', '马克笔', '12色/盒', YOUPIN, '盒', '12.0000', '22.0000', '0.2100'),
  m('SJX-C-1M', 'SJX', 'Type-C数据线', '1米', LEXIANG, '根', '7.5000', '15.9000', '0.0400'),
  m('ZD-80', 'ZD', '热敏打印纸', '80mm 50卷/箱', YOUPIN, '箱', '86.0000', '128.0000', '8.0000'),
];

/** Deliberately unknown codes (no Kingdee base data) — opt in with `unknownCodeRate` or explicit orders. */
export const SANDBOX_UNKNOWN_CODES = {
  warehouse_no: 'XX99',
  provider_no: 'GYS999',
  spec_no: 'NOSUCH-SKU-001',
} as const;

export const SANDBOX_STATUSES = [5, 50, 55, 95, 110] as const;

export function findMaterial(specNo: string): SandboxMaterial | undefined {
  return SANDBOX_MATERIALS.find((material) => material.spec_no === specNo);
}
