import { Controller, Get } from '@nestjs/common';
import { z } from 'zod';
import { ApiRoute } from './api-route.decorator';
import { buildOpenApiDocument } from './openapi.document';

/** Public: the OpenAPI document (docs/openapi.json is this, committed; a test keeps them equal). */
@Controller('api')
export class OpenApiController {
  private document?: Promise<Record<string, unknown>>;

  @ApiRoute({
    operationId: 'getOpenApi',
    tag: 'meta',
    summary: 'This document',
    status: 200,
    response: z.record(z.string(), z.unknown()),
    responseDescription: 'OpenAPI 3.1 document',
    public: true,
  })
  @Get('openapi.json')
  openapi() {
    this.document ??= buildOpenApiDocument();
    return this.document;
  }
}
