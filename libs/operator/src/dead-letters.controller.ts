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
import { CloseDeadLetterBody, DeadLettersQuery, IdParams, RevealQuery } from './operator-api.schema';
import { OrderActionsService } from './order-actions.service';
import { OperatorActionsService } from './operator-actions.service';
import { Operator, OperatorAuthGuard } from './operator-auth.guard';
import { RequireRole } from './operator-role.decorator';
import { maskPii } from './pii-mask.util';
import { parseInput } from './validation.util';

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
  @RequireRole('operator')
  @Post(':id/close')
  @HttpCode(200)
  async close(@Param() params: unknown, @Body() body: unknown, @Operator() by: string) {
    const { id } = parseInput(IdParams, params);
    const { reason } = parseInput(CloseDeadLetterBody, body);
    return this.orderActions.closeDeadLetter(id, reason, by);
  }

  @RequireRole('viewer')
  @Get()
  async list(@Query() query: unknown) {
    return maskPii(await this.deadLetters.list(parseInput(DeadLettersQuery, query)));
  }

  @RequireRole('viewer')
  @Get(':id')
  async get(@Param() params: unknown, @Query() query: unknown, @Operator() by: string) {
    const { id } = parseInput(IdParams, params);
    const reveal = parseInput(RevealQuery, query).reveal === 'pii';
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
  @RequireRole('viewer')
  @Get(':id/payload')
  async payload(
    @Param() params: unknown,
    @Query() query: unknown,
    @Operator() by: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    const { id } = parseInput(IdParams, params);
    const reveal = parseInput(RevealQuery, query).reveal === 'pii';
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
