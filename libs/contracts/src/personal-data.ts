/**
 * The personal data WDT stockout records carry (receiver name, phones, address, area, zip): masked
 * in operator views, never written to logs.
 */
export const PII_FIELDS = [
  'receiver_name',
  'receiver_mobile',
  'receiver_telno',
  'receiver_address',
  'receiver_area',
  'receiver_zip',
] as const;
export type PiiField = (typeof PII_FIELDS)[number];
