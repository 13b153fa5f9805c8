import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpException,
  Param,
  Post,
  Put,
  Res,
  UseGuards,
} from '@nestjs/common';
import { Response } from 'express';
import { OperatorActionsService } from './operator-actions.service';
import { Operator, OperatorAuthGuard } from './operator-auth.guard';
import { SchemeEditingService } from './scheme-editing.service';
import {
  CreateSchemeBodyDto,
  RollbackSchemeBodyDto,
  SaveSchemeBodyDto,
  SchemeIdParamsDto,
  SchemeRevisionParamsDto,
  ValidateSchemeBodyDto,
} from './operator-api.dto';
import {
  SchemeFileView,
  SchemeRevisionsView,
  SchemeSavedView,
  SchemeValidationView,
} from './scheme-editing.schema';
import { ApiRoute } from './api-route.decorator';

/** Scheme files through the API: read with an ETag, validate, save with If-Match, history, rollback. */
@Controller('api/schemes')
@UseGuards(OperatorAuthGuard)
export class SchemeEditingController {
  constructor(
    private readonly editing: SchemeEditingService,
    private readonly actions: OperatorActionsService,
  ) {}

  @ApiRoute({
    operationId: 'validateScheme',
    tag: 'schemes',
    summary: 'Validates scheme text exactly as `npm run scheme:check` does',
    description: 'Always 200 for a well-formed request: `valid` says whether the text is a usable scheme.',
    status: 200,
    response: SchemeValidationView,
    responseDescription: 'The issues, each with the path of its field',
    errors: [400],
    role: 'viewer',
  })
  @Post('validate')
  @HttpCode(200)
  validate(@Body() body: ValidateSchemeBodyDto) {
    return this.editing.validate(body.yaml);
  }

  @ApiRoute({
    operationId: 'createScheme',
    tag: 'schemes',
    summary: 'Creates a scheme file `<id>.yaml`',
    status: 201,
    response: SchemeSavedView,
    responseDescription: 'The new file',
    errors: [400, 409],
    role: 'admin',
  })
  @Post()
  @HttpCode(201)
  async create(@Body() body: CreateSchemeBodyDto, @Operator() by: string) {
    const input = body;
    return this.recorded(by, 'scheme.create', undefined, { comment: input.comment }, () =>
      this.editing.create({ ...input, author: by }),
    );
  }

  @ApiRoute({
    operationId: 'getSchemeFile',
    tag: 'schemes',
    summary: "A scheme's file: its text, parsed form and ETag",
    description: 'The `ETag` header (and `etag`) is the sha256 of the bytes; send it as `If-Match` to save.',
    status: 200,
    response: SchemeFileView,
    responseDescription: 'The file',
    errors: [400, 404],
    role: 'viewer',
  })
  @Get(':id/file')
  async file(@Param() params: SchemeIdParamsDto, @Res({ passthrough: true }) res: Response) {
    const { id } = params;
    const view = await this.editing.read(id);
    res.setHeader('ETag', view.etag);
    return view;
  }

  @ApiRoute({
    operationId: 'saveSchemeFile',
    tag: 'schemes',
    summary: 'Saves a new version of a scheme file (If-Match required)',
    description:
      'Written atomically (temp file + rename) and recorded in the history; every service applies it within ' +
      'SCHEME_RELOAD_MS. 400 with `issues` when it does not validate; 409 with `download: true` when the ' +
      'directory is read-only (SCHEMES_READ_ONLY or a read-only mount); 409 when target.idempotencyKey ' +
      'changes on a scheme that has bill claims; 412 when the file changed since the etag; 428 without If-Match.',
    status: 200,
    response: SchemeSavedView,
    responseDescription: 'The new etag and revision',
    errors: [400, 404, 409, 412, 428],
    role: 'admin',
  })
  @Put(':id/file')
  async save(
    @Param() params: SchemeIdParamsDto,
    @Body() body: SaveSchemeBodyDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Operator() by: string,
  ) {
    const { id } = params;
    const input = body;
    return this.recorded(by, 'scheme.save', id, { comment: input.comment }, () =>
      this.editing.save(id, { ...input, ifMatch, author: by }),
    );
  }

  @ApiRoute({
    operationId: 'listSchemeRevisions',
    tag: 'schemes',
    summary: "A scheme's saved versions, newest first, each with its diff",
    status: 200,
    response: SchemeRevisionsView,
    responseDescription: 'The history',
    errors: [400],
    role: 'viewer',
  })
  @Get(':id/revisions')
  async revisions(@Param() params: SchemeIdParamsDto) {
    const { id } = params;
    return this.editing.revisions(id);
  }

  @ApiRoute({
    operationId: 'rollbackScheme',
    tag: 'schemes',
    summary: "Saves an earlier revision's text as a new revision (If-Match required)",
    bodyRequired: false,
    status: 200,
    response: SchemeSavedView,
    responseDescription: 'The new etag and revision',
    errors: [400, 404, 409, 412, 428],
    role: 'admin',
  })
  @Post(':id/revisions/:revision/rollback')
  @HttpCode(200)
  async rollback(
    @Param() params: SchemeRevisionParamsDto,
    @Body() body: RollbackSchemeBodyDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Operator() by: string,
  ) {
    const { id, revision } = params;
    const { comment } = body;
    return this.recorded(by, 'scheme.rollback', id, { revision, comment }, () =>
      this.editing.rollback(id, revision, { ifMatch, author: by, comment }),
    );
  }

  /** Every attempt is an operator action, refused ones too (with the status that refused it). */
  private async recorded<T extends { schemeId: string; revision: number }>(
    by: string,
    action: string,
    target: string | undefined,
    params: Record<string, unknown>,
    run: () => Promise<T>,
  ): Promise<T> {
    const clean = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
    try {
      const result = await run();
      await this.actions.record({
        tokenName: by,
        action,
        target: result.schemeId,
        params: clean,
        outcome: `saved revision ${result.revision}`,
      });
      return result;
    } catch (err) {
      const status = err instanceof HttpException ? err.getStatus() : 500;
      await this.actions.record({
        tokenName: by,
        action,
        target,
        params: clean,
        outcome: `refused (${status})`,
      });
      throw err;
    }
  }
}
