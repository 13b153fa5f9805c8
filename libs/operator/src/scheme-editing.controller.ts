import { RequireRole } from './operator-role.decorator';
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
import { SchemeIdParams } from './operator-api.schema';
import { OperatorActionsService } from './operator-actions.service';
import { Operator, OperatorAuthGuard } from './operator-auth.guard';
import {
  CreateSchemeBody,
  RollbackSchemeBody,
  SaveSchemeBody,
  SchemeRevisionParams,
  ValidateSchemeBody,
} from './scheme-editing.schema';
import { SchemeEditingService } from './scheme-editing.service';
import { parseInput } from './validation.util';

/** Scheme files through the API: read with an ETag, validate, save with If-Match, history, rollback. */
@Controller('api/schemes')
@UseGuards(OperatorAuthGuard)
export class SchemeEditingController {
  constructor(
    private readonly editing: SchemeEditingService,
    private readonly actions: OperatorActionsService,
  ) {}

  @Post('validate')
  @RequireRole('viewer')
  @HttpCode(200)
  validate(@Body() body: unknown) {
    return this.editing.validate(parseInput(ValidateSchemeBody, body).yaml);
  }

  @Post()
  @RequireRole('admin')
  @HttpCode(201)
  async create(@Body() body: unknown, @Operator() by: string) {
    const input = parseInput(CreateSchemeBody, body);
    return this.recorded(by, 'scheme.create', undefined, { comment: input.comment }, () =>
      this.editing.create({ ...input, author: by }),
    );
  }

  @Get(':id/file')
  @RequireRole('viewer')
  async file(@Param() params: unknown, @Res({ passthrough: true }) res: Response) {
    const { id } = parseInput(SchemeIdParams, params);
    const view = await this.editing.read(id);
    res.setHeader('ETag', view.etag);
    return view;
  }

  @Put(':id/file')
  @RequireRole('admin')
  async save(
    @Param() params: unknown,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Operator() by: string,
  ) {
    const { id } = parseInput(SchemeIdParams, params);
    const input = parseInput(SaveSchemeBody, body);
    return this.recorded(by, 'scheme.save', id, { comment: input.comment }, () =>
      this.editing.save(id, { ...input, ifMatch, author: by }),
    );
  }

  @Get(':id/revisions')
  @RequireRole('viewer')
  async revisions(@Param() params: unknown) {
    const { id } = parseInput(SchemeIdParams, params);
    return this.editing.revisions(id);
  }

  @Post(':id/revisions/:revision/rollback')
  @RequireRole('admin')
  @HttpCode(200)
  async rollback(
    @Param() params: unknown,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Operator() by: string,
  ) {
    const { id, revision } = parseInput(SchemeRevisionParams, params);
    const { comment } = parseInput(RollbackSchemeBody, body);
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
