import { WhereExpressionBuilder } from 'typeorm';

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

/**
 * Adds each condition whose parameters are all defined (TypeORM `:name` placeholders), so a list
 * endpoint's optional filters read as one table of conditions.
 */
export function whereDefined<Q extends WhereExpressionBuilder>(
  qb: Q,
  conditions: Array<[clause: string, params: Record<string, unknown>]>,
): Q {
  for (const [clause, params] of conditions)
    if (Object.values(params).every((v) => v !== undefined)) qb.andWhere(clause, params);
  return qb;
}
