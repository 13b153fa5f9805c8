import jsonata from 'jsonata';

/**
 * Formulas are JSONata 2.x expressions (https://docs.jsonata.org). The record is the input
 * (`order_no`, `details_list.goods_count`); inside an entry, `$line` is the current line and
 * `$lineIndex` its 0-based index. Functions added by this project are listed in
 * `FORMULA_HELPERS` (implemented in `@libs/mapping`); `$eval` is disabled (record data must never
 * become code).
 */
export const FORMULA_HELPERS = {
  decimal: '$decimal(x[, places]) → exact decimal text of a decimal string/number, rounded half-up to places',
  sum: '$sum(array) → exact decimal sum (decimal.js) of numbers or decimal strings, as a number',
  dadd: '$dadd(a, b) → a + b, exact, as decimal text',
  dsub: '$dsub(a, b) → a − b, exact, as decimal text',
  dmul: '$dmul(a, b) → a × b, exact, as decimal text',
  ddiv: '$ddiv(a, b[, places]) → a ÷ b as decimal text (default 10 places, half-up)',
  shanghaiDate: '$shanghaiDate(text | epochMs) → yyyy-MM-dd (Shanghai calendar date)',
  shanghaiDateTime: '$shanghaiDateTime(text | epochMs) → yyyy-MM-dd HH:mm:ss (Shanghai wall clock)',
  shanghaiMillis: '$shanghaiMillis(text) → epoch ms of a Shanghai wall-clock text',
  case: '$case(value, {"a": "x", …}[, default]) → the mapped value, else default (like the platform _function case/when)',
} as const;

export const FORMULA_HELPER_NAMES = Object.keys(FORMULA_HELPERS) as Array<keyof typeof FORMULA_HELPERS>;

/** JSONata 2.2 built-in functions (`$eval` excluded on purpose). */
export const JSONATA_BUILTINS: ReadonlySet<string> = new Set(
  (
    'sum count max min average string substring substringBefore substringAfter lowercase uppercase length trim ' +
    'pad match contains replace split join formatNumber formatBase formatInteger parseInteger number floor ceil ' +
    'round abs sqrt power random boolean not map zip filter single reduce sift keys lookup append exists spread ' +
    'merge reverse each error assert type sort shuffle distinct base64encode base64decode encodeUrlComponent ' +
    'encodeUrl decodeUrlComponent decodeUrl toMillis fromMillis clone now millis'
  ).split(' '),
);

/** Variables the engine binds inside entries. */
export const LINE_VARIABLES: ReadonlySet<string> = new Set(['line', 'lineIndex']);

export interface FormulaProblem {
  message: string;
}

interface AstNode {
  type?: string;
  value?: unknown;
  procedure?: AstNode;
  lhs?: AstNode;
  arguments?: AstNode[];
  focus?: string;
  index?: string;
  [key: string]: unknown;
}

/**
 * Checks that a formula compiles and calls only known functions; `inLine` says whether `$line` /
 * `$lineIndex` are bound where it runs. Returns the problems (empty when fine).
 */
export function checkFormula(expression: string, inLine: boolean): FormulaProblem[] {
  let ast: AstNode;
  try {
    ast = jsonata(expression).ast() as unknown as AstNode;
  } catch (e) {
    return [{ message: `formula does not compile: ${describeJsonataError(e)}` }];
  }
  const defined = new Set<string>();
  const called = new Set<string>();
  const used = new Set<string>();
  const seen = new Set<object>();
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    const n = node as AstNode;
    if (n.type === 'bind' && n.lhs?.type === 'variable') defined.add(String(n.lhs.value));
    if (n.type === 'lambda' && Array.isArray(n.arguments)) {
      for (const a of n.arguments) if (a.type === 'variable') defined.add(String(a.value));
    }
    if (typeof n.focus === 'string') defined.add(n.focus);
    if (typeof n.index === 'string') defined.add(n.index);
    if ((n.type === 'function' || n.type === 'partial') && n.procedure?.type === 'variable') {
      called.add(String(n.procedure.value));
    }
    if (n.type === 'variable') used.add(String(n.value));
    for (const key of Object.keys(n)) walk(n[key]);
  };
  walk(ast);
  const problems: FormulaProblem[] = [];
  for (const name of called) {
    if (name === 'eval') problems.push({ message: 'formula calls $eval, which is disabled' });
    else if (!defined.has(name) && !JSONATA_BUILTINS.has(name) && !(name in FORMULA_HELPERS)) {
      problems.push({ message: `formula calls unknown function $${name}` });
    }
  }
  if (!inLine) {
    for (const name of LINE_VARIABLES) {
      if (used.has(name) && !defined.has(name)) {
        problems.push({ message: `formula uses $${name}, which is only bound inside entries` });
      }
    }
  }
  return problems;
}

/** A readable one-line text for a JSONata error object (they are plain objects, not Errors). */
export function describeJsonataError(e: unknown): string {
  if (e !== null && typeof e === 'object') {
    const err = e as { code?: unknown; message?: unknown; position?: unknown; token?: unknown };
    const parts: string[] = [];
    if (typeof err.message === 'string') parts.push(err.message);
    if (typeof err.code === 'string') parts.push(`[${err.code}]`);
    if (typeof err.position === 'number') parts.push(`at character ${err.position}`);
    if (parts.length > 0) return parts.join(' ');
  }
  return String(e);
}
