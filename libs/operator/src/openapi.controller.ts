import { Controller, Get } from '@nestjs/common';
import { buildOpenApiDocument } from './openapi.document';

/** Public: the OpenAPI document (docs/openapi.json is this, committed; a test keeps them equal). */
@Controller('api')
export class OpenApiController {
  private readonly document = buildOpenApiDocument();

  @Get('openapi.json')
  openapi() {
    return this.document;
  }
}
