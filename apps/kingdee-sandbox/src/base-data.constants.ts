/**
 * The sandbox's default base data. Shared with the WDT sandbox and the demo: warehouses SH01/BJ02/GZ03,
 * providers GYS001..GYS008, organisation 101, and materials = the WDT sandbox's spec_no list (including the
 * golden case's BWB-500-W and FH-L). Every list can be replaced through the sandbox options.
 */
export const KINGDEE_SANDBOX_ORGS: readonly string[] = ['101'];

export const KINGDEE_SANDBOX_STOCKS: readonly string[] = ['SH01', 'BJ02', 'GZ03'];

export const KINGDEE_SANDBOX_SUPPLIERS: readonly string[] = [
  'GYS001',
  'GYS002',
  'GYS003',
  'GYS004',
  'GYS005',
  'GYS006',
  'GYS007',
  'GYS008',
];

/**
 * Default material numbers: the WDT sandbox's 30 `spec_no` values (apps/wdt-sandbox reference data), so its
 * generated orders resolve without configuration. Pass `materials` / KINGDEE_SANDBOX_MATERIALS to use another list.
 */
export const KINGDEE_SANDBOX_MATERIALS: readonly string[] = [
  'BWB-500-W',
  'BWB-500-B',
  'BWB-350-P',
  'FH-S',
  'FH-M',
  'FH-L',
  'DYZ-A4-80',
  'DYZ-A3-70',
  'XJJ-500',
  'XJJ-1000',
  'CZ-100',
  'MST-L',
  'MST-XL',
  'KZ-N95',
  'KZ-PM',
  'DC-5-12',
  'DC-7-12',
  'SNX-20',
  'SNX-45',
  'CXB-2M',
  'CXB-5M',
  'LED-9W',
  'LED-15W',
  'KFD-1KG',
  'PECHA-357',
  'HJ-500',
  'JD-48-T',
  'MKB-12',
  'SJX-C-1M',
  'ZD-80',
];
