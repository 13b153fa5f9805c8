import { z } from 'zod';

/** A message that failed to decode or validate: carries a message naming what and where. */
export class ContractViolationError extends Error {
  override readonly name = 'ContractViolationError';
  constructor(
    message: string,
    readonly issues: string[] = [],
  ) {
    super(message);
  }
}

function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
}

/** Parses bytes as JSON and validates against `schema`; throws ContractViolationError. */
export function decodeEvent<S extends z.ZodType>(
  schema: S,
  bytes: Buffer | string | null,
  what: string,
): z.infer<S> {
  if (bytes === null || bytes.length === 0) throw new ContractViolationError(`${what}: empty message value`);
  let json: unknown;
  try {
    json = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (err) {
    throw new ContractViolationError(`${what}: value is not JSON (${(err as Error).message})`);
  }
  return validateEvent(schema, json, what);
}

export function validateEvent<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = describeIssues(result.error);
    throw new ContractViolationError(`${what} violates its schema: ${issues.slice(0, 5).join('; ')}`, issues);
  }
  return result.data;
}
