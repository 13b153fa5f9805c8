import {
  Body,
  Controller,
  HttpCode,
  Post,
  ForbiddenException,
  Get,
  NotFoundException,
  Param,
  Query,
  Res,
  StreamableFile,
  UseGuards,
} from '@nestjs/common';
import { Response } from 'express';
import { DeadLetterPayloadSchema } from '@libs/contracts';
import { DeadLettersService } from './dead-letters.service';
import { OrderActionsService } from './order-actions.service';
import { OperatorActionsService } from './operator-actions.service';
import { Operator, OperatorAuthGuard } from './operator-auth.guard';
import { maskPii } from './pii-mask.util';
import { CloseDeadLetterBodyDto, DeadLettersQueryDto, IdParamsDto, RevealQueryDto } from './operator-api.dto';
import { z } from 'zod';
import { DeadLetterDetailView, DeadLetterView, pageOf } from './operator-api.schema';
import { ApiRoute } from './api-route.decorator';

const utf8 = new TextDecoder('utf-8', { fatal: true });

@Controller('api/dead-letters')
@UseGuards(OperatorAuthGuard)
export class DeadLettersController {
  constructor(
    private readonly deadLetters: DeadLettersService,
    private readonly actions: OperatorActionsService,
    private readonly orderActions: OrderActionsService,
  ) {}

  /** Closes a dead letter nobody will re-push (the reason is kept with it and in the action log). */
  @ApiRoute({
    operationId: 'closeDeadLetter',
    tag: 'dead-letters',
    summary: 'Close a dead letter nobody will re-push, with a reason (recorded with the token name)',
    status: 200,
    response: z.object({ id: z.string(), state: z.literal('closed') }),
    responseDescription: 'The dead letter is closed',
    errors: [400, 404],
    role: 'operator',
  })
  @Post(':id/close')
  @HttpCode(200)
  async close(@Param() params: IdParamsDto, @Body() body: CloseDeadLetterBodyDto, @Operator() by: string) {
    const { id } = params;
    const { reason } = body;
    return this.orderActions.closeDeadLetter(id, reason, by);
  }

  @ApiRoute({
    operationId: 'listDeadLetters',
    tag: 'dead-letters',
    summary: 'Dead letters by state, stage, scheme, order and time, newest first (no payloads)',
    status: 200,
    response: pageOf(DeadLetterView),
    responseDescription: 'A page of dead letters',
    errors: [400],
    role: 'viewer',
  })
  @Get()
  async list(@Query() query: DeadLettersQueryDto) {
    return maskPii(await this.deadLetters.list(query));
  }

  @ApiRoute({
    operationId: 'getDeadLetter',
    tag: 'dead-letters',
    summary: 'One dead letter with its payload (inline bytes decoded, or size/hash of a Postgres payload)',
    status: 200,
    response: DeadLetterDetailView,
    responseDescription: 'The dead letter',
    errors: [400, 404],
    role: 'viewer',
  })
  @Get(':id')
  async get(@Param() params: IdParamsDto, @Query() query: RevealQueryDto, @Operator() by: string) {
    const { id } = params;
    const reveal = query.reveal === 'pii';
    const row = await this.deadLetters.get(id);
    if (!row) throw new NotFoundException(`no dead letter ${id}`);
    const detail = await this.deadLetters.detail(row, reveal);
    if (!reveal) return maskPii(detail);
    await this.actions.record({
      tokenName: by,
      action: 'reveal_pii',
      target: `dead-letters/${id}`,
      outcome: 'ok',
    });
    return detail;
  }

  /**
   * The original bytes. With `?reveal=pii` they are streamed as stored (Postgres payloads in
   * chunks); otherwise JSON or text comes back with personal data masked, and binary is refused.
   */
  @ApiRoute({
    operationId: 'getDeadLetterPayload',
    tag: 'dead-letters',
    summary: 'The original bytes of a dead letter',
    description:
      'With `reveal=pii` the bytes as stored (Postgres payloads are streamed; header X-Content-SHA256). ' +
      'Otherwise JSON or text with personal data masked (header X-Payload-Masked: true); binary payloads are refused (403).',
    status: 200,
    contentType: 'application/octet-stream',
    responseDescription: 'The payload bytes',
    errors: [400, 403, 404],
    role: 'viewer',
  })
  @Get(':id/payload')
  async payload(
    @Param() params: IdParamsDto,
    @Query() query: RevealQueryDto,
    @Operator() by: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    const { id } = params;
    const reveal = query.reveal === 'pii';
    const row = await this.deadLetters.get(id);
    if (!row) throw new NotFoundException(`no dead letter ${id}`);
    const payload = DeadLetterPayloadSchema.parse(row.payload);
    res.setHeader('X-Payload-Storage', payload.storage);
    if (reveal) {
      await this.actions.record({
        tokenName: by,
        action: 'reveal_pii',
        target: `dead-letters/${id}/payload`,
        outcome: 'ok',
      });
      res.setHeader('X-Payload-Masked', 'false');
      if (payload.storage === 'postgres') {
        const size = await this.deadLetters.storedSize(payload.ref);
        if (size === undefined)
          throw new NotFoundException(`payload ${payload.ref} is not in dead_letter_payloads`);
        res.setHeader('X-Content-SHA256', payload.sha256);
        return new StreamableFile(this.deadLetters.streamStored(payload.ref, size), {
          type: 'application/octet-stream',
          length: size,
        });
      }
      const bytes = (await this.deadLetters.originalBytes(row)) ?? Buffer.alloc(0);
      return new StreamableFile(bytes, { type: 'application/octet-stream', length: bytes.length });
    }
    const bytes = await this.deadLetters.originalBytes(row);
    if (!bytes) throw new NotFoundException(`payload of dead letter ${id} is not in dead_letter_payloads`);
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw new ForbiddenException(
        'binary payload: personal data cannot be masked; pass ?reveal=pii to download it',
      );
    }
    let body: Buffer;
    let type = 'text/plain; charset=utf-8';
    try {
      body = Buffer.from(JSON.stringify(maskPii(JSON.parse(text) as unknown)), 'utf8');
      type = 'application/json; charset=utf-8';
    } catch {
      body = Buffer.from(maskPii(text), 'utf8');
    }
    res.setHeader('X-Payload-Masked', 'true');
    return new StreamableFile(body, { type, length: body.length });
  }
}
