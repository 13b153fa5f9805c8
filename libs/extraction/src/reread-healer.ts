import { InspectedRecord } from './record-inspector';

type Bad = Extract<InspectedRecord, { ok: false }>;
type Good = Extract<InspectedRecord, { ok: true }>;

const placeOf = (r: InspectedRecord) => `${r.warehouseNo ?? ''}|${r.pageNo}:${r.position}`;

/**
 * Combines a window's re-read with the read before it. Corruption in transit is usually transient, so a
 * record malformed in the re-read is healed by a good copy from the earlier read — the same stockout_id,
 * or, for an entry with no id at all (a `null`), the good record that sat in the same place and is now
 * missing. Only what is malformed in both reads stays malformed (confirmed). The re-read is otherwise
 * authoritative: it is the newer picture of the window.
 */
export class RereadHealer {
  heal(reread: InspectedRecord[], earlier: InspectedRecord[]): InspectedRecord[] {
    const goodEarlier = earlier.filter((r): r is Good => r.ok);
    const byId = new Map(goodEarlier.filter((r) => r.stockoutId).map((r) => [r.stockoutId!, r]));
    const byPlace = new Map(goodEarlier.map((r) => [placeOf(r), r]));
    const present = new Set(
      reread.filter((r): r is Good => r.ok && r.stockoutId !== undefined).map((r) => r.stockoutId!),
    );
    const used = new Set<Good>();
    const take = (candidate: Good | undefined): Good | undefined => {
      if (!candidate || used.has(candidate)) return undefined;
      if (candidate.stockoutId !== undefined && present.has(candidate.stockoutId)) return undefined;
      used.add(candidate);
      if (candidate.stockoutId !== undefined) present.add(candidate.stockoutId);
      return candidate;
    };
    return reread.map((r) => {
      if (r.ok) return r;
      const bad = r as Bad;
      const healed =
        bad.stockoutId !== undefined ? take(byId.get(bad.stockoutId)) : take(byPlace.get(placeOf(bad)));
      return healed ? { ...healed, pageNo: bad.pageNo, position: bad.position } : bad;
    });
  }
}
