import { applyDecorators } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import {
  ApiBody,
  ApiExtension,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { z } from 'zod';
import { OperatorRole } from '@libs/config';
import { ErrorView } from './operator-api.schema';
import { openApiSchemas } from './openapi-schemas';
import { RequireRole } from './operator-role.decorator';
import { isZodDto } from './operator-validation.pipe';

/** What the OpenAPI document says about one handler; its path, method and inputs come from the handler itself. */
export interface RouteDoc {
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** Default true when the handler takes a body. */
  bodyRequired?: boolean;
  /** Success status and body (JSON unless `contentType`). */
  status: number;
  response?: z.ZodType;
  contentType?: string;
  responseDescription: string;
  errors?: number[];
  /** No token or session needed. */
  public?: boolean;
  /** The least role the route needs (viewer < operator < admin); set as the handler's `@RequireRole` too. */
  role?: OperatorRole;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; the message names the field',
  401: 'Missing or invalid bearer token or session',
  403:
    'Refused: the role is too low (or reveal=pii without admin), the X-CSRF-Token of a cookie session is ' +
    'missing or wrong, or (payload) a binary payload without reveal=pii',
  404: 'Not found',
  409: 'Conflict: the message says why (`download: true` when the scheme directory is read-only)',
  412: 'The resource changed since the etag sent in If-Match',
  428: 'If-Match is required',
};

type Inputs = Partial<Record<'params' | 'query' | 'body', z.ZodType>>;

/**
 * The zod schemas of the handler's `@Param()`, `@Query()` and `@Body()` DTOs — the ones the global
 * validation pipe checks, so the document cannot describe other inputs than those validated. Runs
 * after the parameter decorators (TypeScript applies a method's parameter decorators first).
 */
function handlerInputs(target: object, key: string | symbol): Inputs {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, target.constructor, key) ?? {}) as Record<
    string,
    { index: number; data?: unknown }
  >;
  const types = (Reflect.getMetadata('design:paramtypes', target, key) ?? []) as unknown[];
  const inputs: Inputs = {};
  for (const [argKey, arg] of Object.entries(args)) {
    const type = Number(argKey.split(':')[0]);
    const where =
      type === RouteParamtypes.PARAM
        ? 'params'
        : type === RouteParamtypes.QUERY
          ? 'query'
          : type === RouteParamtypes.BODY
            ? 'body'
            : undefined;
    const dto = types[arg.index];
    if (where && arg.data === undefined && isZodDto(dto)) inputs[where] = dto.schema;
  }
  return inputs;
}

/**
 * Documents a handler of the operator API (operationId, tag, role, inputs, success and error
 * responses) for @nestjs/swagger, and sets its role for OperatorAuthGuard from the same value.
 */
export function ApiRoute(doc: RouteDoc): MethodDecorator {
  return (target, key, descriptor) => {
    const inputs = handlerInputs(target, key);
    const schemas = openApiSchemas;
    const error = { 'application/json': { schema: schemas.convert(ErrorView, 'output') } };
    const decorators: (MethodDecorator | ClassDecorator)[] = [
      ApiOperation({
        operationId: doc.operationId,
        summary: doc.summary,
        ...(doc.description ? { description: doc.description } : {}),
        ...(doc.public ? { security: [] } : {}),
      }),
      ApiTags(doc.tag),
    ];
    if (!doc.public) {
      if (!doc.role) throw new Error(`${doc.operationId}: a route that is not public needs a role`);
      decorators.push(RequireRole(doc.role), ApiExtension('x-required-role', doc.role));
    }
    for (const p of inputs.params ? schemas.parameters(inputs.params, 'path') : [])
      decorators.push(ApiParam(p as never));
    for (const p of inputs.query ? schemas.parameters(inputs.query, 'query') : [])
      decorators.push(ApiQuery(p as never));
    if (inputs.body)
      decorators.push(
        ApiBody({
          required: doc.bodyRequired ?? true,
          schema: schemas.convert(inputs.body, 'input') as never,
        }),
      );
    decorators.push(
      ApiResponse({
        status: doc.status,
        description: doc.responseDescription,
        ...(doc.status === 204
          ? {}
          : {
              content: doc.contentType
                ? { [doc.contentType]: { schema: { type: 'string', format: 'binary' } } }
                : {
                    'application/json': {
                      schema: (doc.response ? schemas.convert(doc.response, 'output') : {}) as never,
                    },
                  },
            }),
      }),
    );
    const codes = new Set([...(doc.errors ?? []), ...(doc.public ? [] : [401, 403])]);
    for (const code of [...codes].sort())
      decorators.push(
        ApiResponse({ status: code, description: ERROR_DESCRIPTIONS[code], content: error as never }),
      );
    applyDecorators(...decorators)(target, key, descriptor);
  };
}
