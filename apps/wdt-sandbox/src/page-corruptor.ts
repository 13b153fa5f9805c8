import { SandboxGatewayName } from './call-stats';
import { CorruptionKind, CorruptionRule, SandboxKnobs } from './knobs';
import { RawReply } from './malformed-page';

const JSON_TYPE = 'application/json; charset=utf-8';
const DEFAULT_OVERSIZE_CHARS = 1_100_000;

export interface Corruption {
  kinds: CorruptionKind[];
  reply: RawReply;
}

type Json = Record<string, unknown>;

/**
 * Applies the `corruptions` knob to a good page: every rule whose order (order_no or stockout_id) is on
 * the page fires — a record turned into `null`, stripped of `order_no`, given a wrong-typed field or
 * padded past any message limit; the page's `total_count` made to disagree, or the body cut short so it
 * is no JSON at all. A rule with `times` fires that many times and is then dropped; without it, always.
 */
export class PageCorruptor {
  apply(
    gateway: SandboxGatewayName,
    good: Json,
    knobs: SandboxKnobs,
    consume: (patch: Partial<SandboxKnobs>) => void,
  ): Corruption | undefined {
    if (knobs.corruptions.length === 0) return undefined;
    const body = structuredClone(good);
    const payload = (gateway === 'qimen' ? body.response : body) as Json;
    const list = Array.isArray(payload.stockout_list) ? (payload.stockout_list as unknown[]) : [];
    const targetOf = (rule: CorruptionRule) =>
      list.findIndex(
        (r) =>
          typeof r === 'object' &&
          r !== null &&
          ((r as Json).order_no === rule.order || String((r as Json).stockout_id) === rule.order),
      );
    const fired = knobs.corruptions
      .map((rule) => ({ rule, index: targetOf(rule) }))
      .filter(({ index }) => index >= 0)
      .map(({ rule, index }) => ({ rule, index, record: list[index] as Json }));
    if (fired.length === 0) return undefined;

    let brokenBody = false;
    const nulled: number[] = [];
    for (const { rule, index, record } of fired) {
      switch (rule.kind) {
        case 'null_record':
          nulled.push(index);
          break;
        case 'missing_order_no':
          delete record.order_no;
          break;
        case 'wrong_type': {
          const lines = record.details_list;
          const line = Array.isArray(lines) ? (lines[0] as Json | undefined) : undefined;
          if (line) line.goods_count = { value: line.goods_count };
          else record.goods_count = { value: record.goods_count };
          break;
        }
        case 'details_not_array': {
          const lines = Array.isArray(record.details_list) ? record.details_list : [];
          record.details_list = Object.fromEntries(lines.map((line, i) => [String(i), line]));
          break;
        }
        case 'oversize_record':
          record.remark = 'x'.repeat(rule.bytes ?? DEFAULT_OVERSIZE_CHARS);
          break;
        case 'total_count_mismatch': {
          const total = Number(payload.total_count) + 1;
          payload.total_count = typeof payload.total_count === 'string' ? String(total) : total;
          break;
        }
        case 'non_json_page':
          brokenBody = true;
          break;
      }
    }

    for (const index of nulled) list[index] = null;

    const remaining = knobs.corruptions.flatMap((rule) => {
      if (rule.times === undefined || !fired.some((f) => f.rule === rule)) return [rule];
      return rule.times > 1 ? [{ ...rule, times: rule.times - 1 }] : [];
    });
    consume({ corruptions: remaining });

    const text = JSON.stringify(body);
    return {
      kinds: fired.map((f) => f.rule.kind),
      reply: {
        status: 200,
        contentType: JSON_TYPE,
        body: brokenBody ? text.slice(0, Math.max(1, Math.floor(text.length / 2))) : text,
      },
    };
  }
}
