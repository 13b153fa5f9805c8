/**
 * A small parser for ExecuteBillQuery's SQL-like FilterString:
 * comparisons (= <> != > >= < <=), [NOT] IN (…), [NOT] LIKE '…', IS [NOT] NULL, AND / OR / NOT, parentheses,
 * 'text' literals with '' escapes (and N'…'), numbers, field keys such as FBillNo or FSupplierID.FNumber.
 * Evaluation follows SQL's three-valued logic; text comparison is case-insensitive (CI collation).
 */

export class FilterSyntaxError extends Error {
  override readonly name = 'FilterSyntaxError';
}

type Token =
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'id'; v: string }
  | { t: 'kw'; v: 'AND' | 'OR' | 'NOT' | 'IN' | 'LIKE' | 'IS' | 'NULL' }
  | { t: 'op'; v: string }
  | { t: 'punct'; v: '(' | ')' | ',' };

export type Operand = { kind: 'field'; key: string } | { kind: 'lit'; value: string | number | null };

export type FilterNode =
  | { type: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { type: 'not'; expr: FilterNode }
  | { type: 'cmp'; left: Operand; op: string; right: Operand }
  | { type: 'in'; operand: Operand; values: Array<string | number>; negate: boolean }
  | { type: 'like'; operand: Operand; pattern: string; negate: boolean }
  | { type: 'null'; operand: Operand; negate: boolean }
  | { type: 'true' };

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'LIKE', 'IS', 'NULL']);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      i += 1;
      continue;
    }
    if (ch === "'" || ((ch === 'N' || ch === 'n') && text[i + 1] === "'")) {
      i += ch === "'" ? 1 : 2;
      let value = '';
      for (;;) {
        if (i >= text.length) throw new FilterSyntaxError('字符串常量缺少结束引号');
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        value += text[i];
        i += 1;
      }
      tokens.push({ t: 'str', v: value });
      continue;
    }
    const num = /^-?\d+(\.\d+)?/.exec(text.slice(i));
    if (num && (ch !== '-' || tokens.length === 0 || tokens[tokens.length - 1].t !== 'num')) {
      tokens.push({ t: 'num', v: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(text.slice(i));
    if (id) {
      const upper = id[0].toUpperCase();
      if (KEYWORDS.has(upper)) tokens.push({ t: 'kw', v: upper as 'AND' });
      else tokens.push({ t: 'id', v: id[0] });
      i += id[0].length;
      continue;
    }
    const op = /^(<>|!=|>=|<=|=|>|<)/.exec(text.slice(i));
    if (op) {
      tokens.push({ t: 'op', v: op[0] === '!=' ? '<>' : op[0] });
      i += op[0].length;
      continue;
    }
    if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ t: 'punct', v: ch });
      i += 1;
      continue;
    }
    throw new FilterSyntaxError(`过滤条件在位置 ${i} 处有无法识别的字符`);
  }
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): FilterNode {
    if (this.tokens.length === 0) return { type: 'true' };
    const node = this.or();
    if (this.pos < this.tokens.length) throw new FilterSyntaxError('过滤条件语法错误：多余的内容');
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private isKw(v: string): boolean {
    const t = this.peek();
    return t?.t === 'kw' && t.v === v;
  }

  private isPunct(v: string): boolean {
    const t = this.peek();
    return t?.t === 'punct' && t.v === v;
  }

  private expectPunct(v: string): void {
    if (!this.isPunct(v)) throw new FilterSyntaxError(`过滤条件语法错误：缺少“${v}”`);
    this.pos += 1;
  }

  private or(): FilterNode {
    let left = this.and();
    while (this.isKw('OR')) {
      this.pos += 1;
      left = { type: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): FilterNode {
    let left = this.unary();
    while (this.isKw('AND')) {
      this.pos += 1;
      left = { type: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): FilterNode {
    if (this.isKw('NOT')) {
      this.pos += 1;
      return { type: 'not', expr: this.unary() };
    }
    if (this.isPunct('(')) {
      this.pos += 1;
      const inner = this.or();
      this.expectPunct(')');
      return inner;
    }
    return this.predicate();
  }

  private operand(): Operand {
    const t = this.peek();
    if (!t) throw new FilterSyntaxError('过滤条件语法错误：条件不完整');
    this.pos += 1;
    if (t.t === 'id') return { kind: 'field', key: t.v };
    if (t.t === 'str' || t.t === 'num') return { kind: 'lit', value: t.v };
    if (t.t === 'kw' && t.v === 'NULL') return { kind: 'lit', value: null };
    throw new FilterSyntaxError('过滤条件语法错误：应为字段或常量');
  }

  private literal(): string | number {
    const t = this.peek();
    if (!t || (t.t !== 'str' && t.t !== 'num')) throw new FilterSyntaxError('过滤条件语法错误：应为常量');
    this.pos += 1;
    return t.v;
  }

  private predicate(): FilterNode {
    const left = this.operand();
    let negate = false;
    if (this.isKw('NOT')) {
      negate = true;
      this.pos += 1;
    }
    if (this.isKw('IN')) {
      this.pos += 1;
      this.expectPunct('(');
      const values = [this.literal()];
      while (this.isPunct(',')) {
        this.pos += 1;
        values.push(this.literal());
      }
      this.expectPunct(')');
      return { type: 'in', operand: left, values, negate };
    }
    if (this.isKw('LIKE')) {
      this.pos += 1;
      const pattern = this.literal();
      return { type: 'like', operand: left, pattern: String(pattern), negate };
    }
    if (negate) throw new FilterSyntaxError('过滤条件语法错误：NOT 后应为 IN 或 LIKE');
    if (this.isKw('IS')) {
      this.pos += 1;
      let not = false;
      if (this.isKw('NOT')) {
        not = true;
        this.pos += 1;
      }
      if (!this.isKw('NULL')) throw new FilterSyntaxError('过滤条件语法错误：IS 后应为 NULL');
      this.pos += 1;
      return { type: 'null', operand: left, negate: not };
    }
    const t = this.peek();
    if (t?.t !== 'op') throw new FilterSyntaxError('过滤条件语法错误：缺少比较运算符');
    this.pos += 1;
    return { type: 'cmp', left, op: t.v, right: this.operand() };
  }
}

export function parseFilter(text: string): FilterNode {
  return new Parser(tokenize(text)).parse();
}

/** Every field key a filter refers to. */
export function filterFields(node: FilterNode): string[] {
  const out: string[] = [];
  const visit = (n: FilterNode): void => {
    switch (n.type) {
      case 'and':
      case 'or':
        visit(n.left);
        visit(n.right);
        break;
      case 'not':
        visit(n.expr);
        break;
      case 'cmp':
        if (n.left.kind === 'field') out.push(n.left.key);
        if (n.right.kind === 'field') out.push(n.right.key);
        break;
      case 'in':
      case 'like':
      case 'null':
        if (n.operand.kind === 'field') out.push(n.operand.key);
        break;
      case 'true':
        break;
    }
  };
  visit(node);
  return out;
}

type Tri = boolean | null;

function isNumeric(v: unknown): boolean {
  return typeof v === 'number' || (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v));
}

/** Compares two values: numerically when one is a number and both are numeric, else as CI text. */
export function compareValues(a: unknown, b: unknown): number | null {
  if (a === null || a === undefined || b === null || b === undefined) return null;
  if ((typeof a === 'number' || typeof b === 'number') && isNumeric(a) && isNumeric(b)) {
    return Math.sign(Number(a) - Number(b));
  }
  const x = (typeof a === 'object' ? JSON.stringify(a) : String(a)).toUpperCase();
  const y = (typeof b === 'object' ? JSON.stringify(b) : String(b)).toUpperCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

function likeToRegExp(pattern: string): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '%') re += '.*';
    else if (ch === '_') re += '.';
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'is');
}

/**
 * Evaluates a filter against one row. `value(key, literal)` reads a field (and may normalise the literal it
 * is compared with, e.g. dates); it throws for unknown fields.
 */
export function evaluateFilter(
  node: FilterNode,
  value: (key: string) => unknown,
  normaliseLiteral: (key: string, literal: string | number) => string | number = (_k, l) => l,
): boolean {
  const read = (o: Operand, other?: Operand): unknown => {
    if (o.kind === 'field') return value(o.key);
    if (o.value !== null && other?.kind === 'field') return normaliseLiteral(other.key, o.value);
    return o.value;
  };
  const ev = (n: FilterNode): Tri => {
    switch (n.type) {
      case 'true':
        return true;
      case 'and': {
        const l = ev(n.left);
        const r = ev(n.right);
        if (l === false || r === false) return false;
        return l === null || r === null ? null : true;
      }
      case 'or': {
        const l = ev(n.left);
        const r = ev(n.right);
        if (l === true || r === true) return true;
        return l === null || r === null ? null : false;
      }
      case 'not': {
        const inner = ev(n.expr);
        return inner === null ? null : !inner;
      }
      case 'cmp': {
        const c = compareValues(read(n.left, n.right), read(n.right, n.left));
        if (c === null) return null;
        switch (n.op) {
          case '=':
            return c === 0;
          case '<>':
            return c !== 0;
          case '>':
            return c > 0;
          case '>=':
            return c >= 0;
          case '<':
            return c < 0;
          default:
            return c <= 0;
        }
      }
      case 'in': {
        const v = read(n.operand);
        if (v === null || v === undefined) return null;
        const key = n.operand.kind === 'field' ? n.operand.key : '';
        const hit = n.values.some((lit) => compareValues(v, key ? normaliseLiteral(key, lit) : lit) === 0);
        return n.negate ? !hit : hit;
      }
      case 'like': {
        const v = read(n.operand);
        if (v === null || v === undefined) return null;
        const hit = likeToRegExp(n.pattern).test(String(v));
        return n.negate ? !hit : hit;
      }
      case 'null': {
        const v = read(n.operand);
        const isNull = v === null || v === undefined || v === '';
        return n.negate ? !isNull : isNull;
      }
    }
  };
  return ev(node) === true;
}
