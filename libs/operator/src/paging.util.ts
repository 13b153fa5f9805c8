/** Offset paging: fetch `limit + 1` rows, return `limit` and whether there is a next page. */
export interface Page<T> {
  items: T[];
  limit: number;
  offset: number;
  nextOffset: number | null;
}

export function toPage<T>(rows: T[], limit: number, offset: number): Page<T> {
  const more = rows.length > limit;
  return {
    items: more ? rows.slice(0, limit) : rows,
    limit,
    offset,
    nextOffset: more ? offset + limit : null,
  };
}

/** Builds `WHERE a = $1 AND b >= $2 …` from optional conditions, numbering parameters in order. */
export class SqlFilter {
  readonly params: unknown[] = [];
  private readonly clauses: string[] = [];

  /** `clause` uses `?` for the parameter; skipped when `value` is undefined. */
  add(clause: string, value: unknown): this {
    if (value === undefined) return this;
    this.params.push(value);
    this.clauses.push(clause.replace('?', `$${this.params.length}`));
    return this;
  }

  /** Appends a parameter and returns its placeholder (for LIMIT/OFFSET). */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  get where(): string {
    return this.clauses.length > 0 ? `WHERE ${this.clauses.join(' AND ')}` : '';
  }
}
