import { compareValues, evaluateFilter, type FilterNode, filterFields } from './sandbox-filter.parser';
import type { BaseDataKind } from './sandbox.options';
import type { BaseDataItem, SandboxStore } from './sandbox.store';

/** Base-data forms ExecuteBillQuery answers on (upper-case form id → kind and primary-key field). */
export const BASE_DATA_FORMS: Readonly<Record<string, { formId: string; kind: BaseDataKind; pk: string }>> = {
  BD_SUPPLIER: { formId: 'BD_Supplier', kind: 'suppliers', pk: 'FSUPPLIERID' },
  BD_MATERIAL: { formId: 'BD_MATERIAL', kind: 'materials', pk: 'FMATERIALID' },
  BD_STOCK: { formId: 'BD_STOCK', kind: 'stocks', pk: 'FSTOCKID' },
  ORG_ORGANIZATIONS: { formId: 'ORG_Organizations', kind: 'orgs', pk: 'FORGID' },
};

const FIELDS = new Set([
  'FNUMBER',
  'FNAME',
  'FFORBIDSTATUS',
  'FDOCUMENTSTATUS',
  'FMASTERID',
  'FUSEORGID',
  'FUSEORGID.FNUMBER',
  'FCREATEORGID',
  'FCREATEORGID.FNUMBER',
]);

interface Row {
  item: BaseDataItem;
  useOrg: BaseDataItem | null;
  /** Per use-organisation id, as Kingdee gives every allocated copy its own. */
  id: number;
}

/**
 * ExecuteBillQuery on BD_Supplier, BD_MATERIAL, BD_STOCK and ORG_Organizations. As in Kingdee, an item
 * allocated to several organisations has one row per use organisation (`FUseOrgId`), sharing
 * `FMasterId`; `FForbidStatus` A enabled / B forbidden; `FDocumentStatus` C audited / A not.
 * Organisations have no use organisation.
 */
export class SandboxBaseDataQuery {
  constructor(private readonly store: SandboxStore) {}

  /** A key the form does not have (MsgCode 9), if any. */
  unknownField(
    form: string,
    keys: string[],
    filter: FilterNode,
    order: Array<{ key: string }>,
  ): string | undefined {
    const { pk, kind } = BASE_DATA_FORMS[form];
    return [...keys, ...filterFields(filter), ...order.map((o) => o.key)].find((k) => {
      const upper = k.toUpperCase();
      if (kind === 'orgs' && upper.startsWith('FUSEORGID')) return true;
      return !FIELDS.has(upper) && upper !== pk && upper !== 'FID';
    });
  }

  rows(
    form: string,
    keys: string[],
    filter: FilterNode,
    order: Array<{ key: string; desc: boolean }>,
  ): unknown[][] {
    const { kind, pk } = BASE_DATA_FORMS[form];
    const orgs = this.store.listBaseData().orgs;
    const all: Row[] = [];
    for (const item of this.store.listBaseData()[kind]) {
      if (kind === 'orgs') {
        all.push({ item, useOrg: null, id: item.id });
        continue;
      }
      const uses =
        item.useOrgs === null
          ? orgs
          : item.useOrgs.map((n) => this.store.findBaseData('orgs', n)).filter((o) => o !== undefined);
      uses.forEach((org, i) => all.push({ item, useOrg: org, id: item.id * 1000 + i }));
    }
    const value = (row: Row, key: string): unknown => {
      const upper = key.toUpperCase();
      switch (upper) {
        case 'FNUMBER':
          return row.item.number;
        case 'FNAME':
          return row.item.name;
        case 'FFORBIDSTATUS':
          return row.item.enabled ? 'A' : 'B';
        case 'FDOCUMENTSTATUS':
          return row.item.audited ? 'C' : 'A';
        case 'FMASTERID':
          return row.item.id;
        case 'FUSEORGID':
          return row.useOrg?.id ?? null;
        case 'FUSEORGID.FNUMBER':
          return row.useOrg?.number ?? null;
        case 'FCREATEORGID':
          return orgs[0]?.id ?? null;
        case 'FCREATEORGID.FNUMBER':
          return orgs[0]?.number ?? null;
      }
      return upper === pk || upper === 'FID' ? row.id : null;
    };
    const matched = all.filter((row) => evaluateFilter(filter, (k) => value(row, k)));
    const sortKeys = order.length > 0 ? order : [{ key: 'FNumber', desc: false }];
    matched.sort((a, b) => {
      for (const o of sortKeys) {
        const c = compareValues(value(a, o.key), value(b, o.key)) ?? 0;
        if (c !== 0) return o.desc ? -c : c;
      }
      return a.id - b.id;
    });
    return matched.map((row) => keys.map((k) => value(row, k)));
  }
}
