import { ArgumentMetadata, BadRequestException, Injectable } from '@nestjs/common';
import { createZodValidationPipe } from 'nestjs-zod';
import { z } from 'zod';

/** A 400 whose message names each field (`limit: Too big: expected number to be <=200`). */
export function validationError(error: z.ZodError): BadRequestException {
  const issues = error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(body)';
    if (issue.code === 'unrecognized_keys') return `${issue.keys.join(', ')}: unknown parameter`;
    return `${path}: ${issue.message}`;
  });
  return new BadRequestException(issues.slice(0, 10).join('; '));
}

/** A class made by nestjs-zod's `createZodDto` (the package's own check is not exported from its main entry). */
export function isZodDto(type: unknown): type is { schema: z.ZodType } {
  return typeof type === 'function' && (type as { isZodDto?: unknown }).isZodDto === true;
}

const ZodPipe = createZodValidationPipe({
  createValidationException: (error) => validationError(error as z.ZodError),
});

/**
 * The operator API's global validation: every `@Param()`, `@Query()` and `@Body()` typed with a
 * nestjs-zod DTO is parsed with its schema. A request without a body is validated as `{}` (so a
 * missing required field is named, not "expected object").
 */
@Injectable()
export class OperatorValidationPipe extends ZodPipe {
  override transform(value: unknown, metadata: ArgumentMetadata) {
    return super.transform(isZodDto(metadata.metatype) ? (value ?? {}) : value, metadata);
  }
}
