import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';

/**
 * Validates request input with a zod schema; a failure is a 400 whose message names each field
 * (`limit: Too big: expected number to be <=200`).
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(body)';
    if (issue.code === 'unrecognized_keys') return `${issue.keys.join(', ')}: unknown parameter`;
    return `${path}: ${issue.message}`;
  });
  throw new BadRequestException(issues.slice(0, 10).join('; '));
}
